// vhdsm-util's own data commands (not in vhd-util):
//   write -n PATH -i FILE [-o BYTE_OFFSET]  copy a file into the virtual disk
//                                            through the chain's leaf
//   export -n PATH -o FILE [-f raw|vhd]      the whole virtual disk as a
//                                            sparse raw file, or as one
//                                            standalone dynamic VHD
// Errors go to stderr as "<command>: <CODE>: <message>"; the exit status is
// the errno equivalent, as for every command.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "vhd/chain.h"
#include "vhd/util/commands.h"
#include "vhd/vhd_stream.h"

namespace vhdutil {

namespace {

int Fail(const char* cmd, const base::Status& s) {
  std::fprintf(stderr, "%s: %s\n", cmd, s.ToString().c_str());
  return s.ToErrno();
}

}  // namespace

int CmdWrite(int argc, char** argv) {
  const char* name = nullptr;
  const char* input = nullptr;
  uint64_t offset = 0;
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "n:i:o:h")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'i':
        input = optarg;
        break;
      case 'o': {
        char* end = nullptr;
        offset = std::strtoull(optarg, &end, 10);
        bad |= end == optarg || *end != '\0';
        break;
      }
      default:
        bad = true;
        break;
    }
  }
  if (bad || name == nullptr || input == nullptr || optind != argc) {
    std::printf(
        "options: <-n name> <-i input file> [-o byte offset] [-h help]\n");
    return -EINVAL;
  }
  std::unique_ptr<base::File> in;
  base::Status s = env()->Open(input, base::Env::OpenMode::kReadOnly, &in);
  if (!s.ok()) return Fail("write", s);
  uint64_t size = 0;
  s = in->Size(&size);
  if (!s.ok()) return Fail("write", s);
  vhd::ChainOptions o;
  o.writable = true;
  std::unique_ptr<vhd::Chain> chain;
  s = vhd::Chain::Open(name, o, &chain);
  if (!s.ok()) return Fail("write", s);
  if (offset > chain->virtual_size() || size > chain->virtual_size() - offset) {
    return Fail("write", base::Status::InvalidArgument(
                             "input does not fit in the virtual disk"));
  }
  constexpr size_t kChunk = 32 << 20;
  std::vector<uint8_t> buf(std::min<uint64_t>(kChunk, size));
  for (uint64_t done = 0; done < size;) {
    size_t n = std::min<uint64_t>(kChunk, size - done);
    s = in->Read(done, n, buf.data());
    if (s.ok()) s = chain->Write(offset + done, n, buf.data());
    if (!s.ok()) return Fail("write", s);
    done += n;
  }
  s = chain->Flush();
  if (!s.ok()) return Fail("write", s);
  return 0;
}

int CmdExport(int argc, char** argv) {
  const char* name = nullptr;
  const char* output = nullptr;
  std::string format = "raw";
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "n:o:f:h")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'o':
        output = optarg;
        break;
      case 'f':
        format = optarg;
        break;
      default:
        bad = true;
        break;
    }
  }
  if (bad || name == nullptr || output == nullptr || optind != argc ||
      (format != "raw" && format != "vhd")) {
    std::printf("options: <-n name> <-o output file> [-f raw|vhd] [-h help]\n");
    return -EINVAL;
  }
  vhd::ChainOptions o;
  std::unique_ptr<vhd::Chain> chain;
  base::Status s = vhd::Chain::Open(name, o, &chain);
  if (!s.ok()) return Fail("export", s);
  std::unique_ptr<base::File> out;
  s = env()->Open(output, base::Env::OpenMode::kCreateTruncate, &out);
  if (!s.ok()) return Fail("export", s);
  if (format == "vhd") {
    std::unique_ptr<vhd::VhdStream> stream;
    s = vhd::VhdStream::Open(chain.get(), vhd::Uuid(), 0, &stream);
    std::vector<uint8_t> buf(8 << 20);
    uint64_t at = 0;
    size_t got = 0;
    if (s.ok()) s = out->Truncate(0);
    while (s.ok()) {
      s = stream->Read(buf.data(), buf.size(), &got);
      if (!s.ok() || got == 0) break;
      s = out->Write(at, buf.data(), got);
      at += got;
    }
  } else {
    s = chain->ExportRaw(out.get());
  }
  if (s.ok()) s = out->Sync();
  if (!s.ok()) return Fail("export", s);
  return 0;
}

}  // namespace vhdutil
