// libFuzzer target: open and read arbitrary bytes as a VHD, entirely in
// memory (an in-memory base::Env, no disk I/O).
//
// The input is one VHD file, registered as both /fuzz/a.vhd (the leaf) and
// /fuzz/p.vhd (so that a differencing input naming "p.vhd" finds a parent,
// usually with the wrong uuid or as a loop). An input that starts with
// "VHDCHAIN" + u32 little-endian length L carries two files: the leaf (L
// bytes) and its parent (the rest), which lets the corpus hold real chains.
// Prefixes "VHDSEAL1" (one file) and "VHDCHSEA" (a chain, as above) make the
// harness recompute the footer and header checksums first, so that mutations
// reach the code behind the checksum tests.
//
// Exercised: OpenImage, the BAT/batmap load, bitmaps and locators of a
// sparse image, Chain::Open (parent search, uuid check, loops, depth limit),
// Chain::Read of a few bounded ranges, Chain::Map, InspectVhd, and CheckVhd
// with data and parent checks. Nothing here may crash, hang, leak or
// allocate without bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/inspect.h"
#include "vhd/sparse_image.h"

namespace {

class MemFile : public base::File {
 public:
  MemFile(std::shared_ptr<const std::string> data, std::string path)
      : data_(std::move(data)), path_(std::move(path)) {}

  base::Status Read(uint64_t offset, size_t n, void* buf) override {
    size_t got = 0;
    RETURN_IF_ERROR(ReadSome(offset, n, buf, &got));
    if (got != n) return base::Status::Corruption("short read in " + path_);
    return base::Status::OK();
  }
  base::Status ReadSome(uint64_t offset, size_t n, void* buf,
                        size_t* got) override {
    const uint64_t size = data_->size();
    *got = 0;
    if (offset >= size) return base::Status::OK();
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    if (k > 0) std::memcpy(buf, data_->data() + offset, k);
    *got = k;
    return base::Status::OK();
  }
  base::Status Write(uint64_t, const void*, size_t) override {
    return base::Status::ReadOnly(path_ + " is read-only");
  }
  base::Status Truncate(uint64_t) override {
    return base::Status::ReadOnly(path_ + " is read-only");
  }
  base::Status Sync() override { return base::Status::OK(); }
  base::Status Size(uint64_t* size) override {
    *size = data_->size();
    return base::Status::OK();
  }
  const std::string& path() const override { return path_; }

 private:
  std::shared_ptr<const std::string> data_;
  std::string path_;
};

class MemEnv : public base::Env {
 public:
  void Add(const std::string& path, std::string data) {
    files_[path] = std::make_shared<const std::string>(std::move(data));
  }

  base::Status Open(const std::string& path, OpenMode mode,
                    std::unique_ptr<base::File>* file) override {
    if (mode != OpenMode::kReadOnly && mode != OpenMode::kReadWrite) {
      return base::Status::ReadOnly("in-memory env is read-only");
    }
    auto it = files_.find(path);
    if (it == files_.end()) return base::Status::NotFound(path);
    file->reset(new MemFile(it->second, path));
    return base::Status::OK();
  }
  base::Status Stat(const std::string& path, base::FileInfo* info) override {
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (path == "/fuzz" || path == "/fuzz/") {
        *info = base::FileInfo();
        info->is_dir = true;
        return base::Status::OK();
      }
      return base::Status::NotFound(path);
    }
    *info = base::FileInfo();
    info->size = it->second->size();
    info->is_regular = true;
    info->dev = 1;
    info->ino = static_cast<uint64_t>(std::distance(files_.begin(), it)) + 2;
    return base::Status::OK();
  }
  base::Status Rename(const std::string&, const std::string&) override {
    return base::Status::ReadOnly("in-memory env is read-only");
  }
  base::Status Link(const std::string&, const std::string&) override {
    return base::Status::ReadOnly("in-memory env is read-only");
  }
  base::Status Unlink(const std::string&) override {
    return base::Status::ReadOnly("in-memory env is read-only");
  }
  base::Status SyncDir(const std::string&) override {
    return base::Status::OK();
  }
  base::Status ListDir(const std::string&,
                       std::vector<std::string>* names) override {
    names->clear();
    for (const auto& [p, d] : files_) names->push_back(base::BaseName(p));
    return base::Status::OK();
  }

 private:
  std::map<std::string, std::shared_ptr<const std::string>> files_;
};

void ExerciseImage(MemEnv* env, const std::string& path) {
  std::unique_ptr<vhd::Image> image;
  if (!vhd::OpenImage(env, path, vhd::OpenOptions(), &image).ok()) return;
  (void)image->virtual_size();
  (void)image->block_count();
  auto* sparse = dynamic_cast<vhd::SparseImage*>(image.get());
  if (sparse == nullptr) return;
  for (int i = 0; i < vhd::kParentLocatorCount; ++i) {
    std::string s;
    (void)sparse->ReadLocator(i, &s);
    (void)sparse->LocatorPath(i, &s);
  }
  std::vector<std::string> candidates;
  (void)sparse->ParentCandidates(&candidates);
  if (!sparse->LoadBat().ok()) return;
  (void)sparse->allocated_blocks();
  const uint64_t blocks = std::min<uint64_t>(image->block_count(), 64);
  for (uint64_t b = 0; b < blocks; ++b) {
    vhd::BlockState st;
    if (!sparse->GetBlockState(b, &st).ok()) continue;
    if (st.kind != vhd::BlockKind::kUnallocated) {
      (void)sparse->DataOffset(b, 0);
      std::vector<uint8_t> bm;
      (void)sparse->ReadBitmap(b, &bm);
    }
  }
}

void ExerciseChain(MemEnv* env, const std::string& path, const uint8_t* data,
                   size_t size) {
  vhd::ChainOptions o;
  o.env = env;
  o.max_depth = 8;
  std::unique_ptr<vhd::Chain> chain;
  if (!vhd::Chain::Open(path, o, &chain).ok()) return;
  const uint64_t vsize = chain->virtual_size();
  if (vsize == 0) return;
  // A few bounded ranges: the start, the end, the middle, and one picked by
  // the input's last bytes (unaligned).
  uint64_t pick = 0;
  for (size_t i = 0; i < 8 && i < size; ++i)
    pick = pick << 8 | data[size - 1 - i];
  const uint64_t len = std::min<uint64_t>(vsize, 64 * 1024);
  std::vector<uint8_t> buf(len);
  const uint64_t offsets[] = {0, vsize - len, (vsize / 2) & ~uint64_t{511},
                              pick % vsize};
  for (uint64_t off : offsets) {
    uint64_t n = std::min<uint64_t>(len, vsize - off);
    (void)chain->Read(off, n, buf.data());
  }
  std::vector<vhd::Extent> extents;
  uint64_t sectors = (vsize + 511) / 512;
  (void)chain->Map(0, std::min<uint64_t>(sectors, 8192), &extents);
  bool hole = false;
  (void)chain->IsHole(0, std::min<uint64_t>(sectors, 8), &hole);
}

// Recomputes the checksums of the footer copy at 0, the footer at EOF and
// the dynamic header the copy at 0 points to.
std::string Sealed(std::string f) {
  auto seal_footer = [&](uint64_t off) {
    if (off + vhd::kFooterSize > f.size()) return;
    auto* p = reinterpret_cast<uint8_t*>(&f[off]);
    vhd::Footer ft = vhd::Footer::Decode(p);
    ft.Seal();
    ft.Encode(p);
  };
  if (f.size() < vhd::kFooterSize) return f;
  seal_footer(0);
  seal_footer(f.size() - vhd::kFooterSize);
  vhd::Footer ft =
      vhd::Footer::Decode(reinterpret_cast<const uint8_t*>(f.data()));
  if (ft.data_offset < f.size() &&
      f.size() - ft.data_offset >= vhd::kHeaderSize) {
    auto* p = reinterpret_cast<uint8_t*>(&f[ft.data_offset]);
    vhd::DynamicHeader h = vhd::DynamicHeader::Decode(p);
    h.Seal();
    h.Encode(p);
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemEnv env;
  const std::string leaf = "/fuzz/a.vhd";
  std::string input(reinterpret_cast<const char*>(data), size);
  const bool chain = size >= 12 && (std::memcmp(data, "VHDCHAIN", 8) == 0 ||
                                    std::memcmp(data, "VHDCHSEA", 8) == 0);
  const bool seal = size >= 8 && (std::memcmp(data, "VHDSEAL1", 8) == 0 ||
                                  std::memcmp(data, "VHDCHSEA", 8) == 0);
  if (chain) {
    uint32_t n = data[8] | data[9] << 8 | data[10] << 16 |
                 static_cast<uint32_t>(data[11]) << 24;
    uint64_t first = std::min<uint64_t>(n, size - 12);
    std::string a = input.substr(12, first), p = input.substr(12 + first);
    env.Add(leaf, seal ? Sealed(a) : a);
    env.Add("/fuzz/p.vhd", seal ? Sealed(p) : p);
  } else {
    std::string a = seal ? Sealed(input.substr(8)) : input;
    env.Add(leaf, a);
    env.Add("/fuzz/p.vhd", a);
  }

  ExerciseImage(&env, leaf);
  ExerciseChain(&env, leaf, data, size);

  vhd::VhdInfo info;
  (void)vhd::InspectVhd(&env, leaf, true, &info);
  int depth = 0;
  (void)vhd::ChainDepth(&env, leaf, &depth);

  vhd::CheckOptions co;
  co.check_data = true;
  co.check_parents = true;
  co.ignore_timestamps = true;
  vhd::CheckReport report;
  (void)vhd::CheckVhd(&env, leaf, co, &report);
  co.ignore_primary_footer = true;
  co.check_data = false;
  co.check_parents = false;
  vhd::CheckReport report2;
  (void)vhd::CheckVhd(&env, leaf, co, &report2);
  return 0;
}
