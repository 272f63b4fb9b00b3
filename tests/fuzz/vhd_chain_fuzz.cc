// libFuzzer target: the chain reader and writer on random chains, checked
// against a model (differential), then on the same chains with random bytes
// flipped (robustness).
//
// The input is a program. Byte 0 picks the base disk's size (2..8 MiB);
// then each op byte (mod 10) with its operands:
//   0-2 write   3-byte offset, 2-byte length (<= 64 KiB), 1 fill byte: a
//               byte-granular write through the leaf (vhd::Chain)
//   3   snapshot: a new differencing leaf (vhd::CreateDifferencing)
//   4   coalesce: the leaf into its parent (vhd::Coalesce), which becomes
//               the leaf
//   5   resize: the leaf grows by 2 or 4 MiB (vhd::ResizeJournaled)
//   6   read: a range picked by 5 operand bytes, compared with the model
//   7   reopen: a fresh chain, the whole disk compared with the model
//   8   check: vhd::CheckVhd of the leaf and its parents must be clean
//   9   corrupt: flip 1-4 bytes of one chain file; from here on only reads
//       and checks run, and they must merely not crash, hang or leak
// At the end (before any corruption) the whole disk must equal the model
// and every file must check clean. Any difference aborts: that is a bug in
// the reader, the writer, coalesce or resize, not in the input.
//
// Files live in a private directory on /dev/shm (tmpfs: no disk I/O), with
// durable=false (no fsync). Real Env: the code under test is exactly the
// code vhdsm-util and the plugin run.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/coalesce.h"
#include "vhd/create.h"
#include "vhd/resize.h"

namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kBlock = 2 * kMiB;
constexpr size_t kMaxDepth = 8;
constexpr uint64_t kMaxSize = 16 * kMiB;
constexpr int kMaxOps = 48;

// Aborts with a message: libFuzzer records the input as a crash.
[[noreturn]] void Bug(const std::string& what, const base::Status& s) {
  std::fprintf(stderr, "vhd_chain_fuzz: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  std::abort();
}

void Clean();

const std::string& WorkDir() {
  // Never destroyed: the atexit cleanup below still needs it.
  static const std::string* dir = [] {
    const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string t = std::string(base) + "/vhd-chain-fuzz-XXXXXX";
    if (::mkdtemp(t.data()) == nullptr) std::abort();
    std::atexit([] {
      Clean();
      ::rmdir(WorkDir().c_str());
    });
    return new std::string(t);
  }();
  return *dir;
}

class Reader {
 public:
  explicit Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint64_t Get(int bytes) {
    uint64_t v = 0;
    for (int k = 0; k < bytes; ++k) v = v << 8 | (i_ < n_ ? d_[i_++] : 0);
    return v;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

struct Program {
  base::Env* env = base::Env::Default();
  std::vector<std::string> files;  // base first, leaf last
  std::vector<uint8_t> model;      // the leaf's guest view
  bool corrupted = false;

  std::string Path(size_t i) const { return WorkDir() + "/" + files[i]; }
  std::string Leaf() const { return Path(files.size() - 1); }

  std::unique_ptr<vhd::Chain> Open(bool writable) {
    vhd::ChainOptions o;
    o.env = env;
    o.writable = writable;
    o.durable = false;
    o.max_depth = 16;
    std::unique_ptr<vhd::Chain> c;
    base::Status s = vhd::Chain::Open(Leaf(), o, &c);
    if (!s.ok()) {
      if (corrupted) return nullptr;
      Bug("open " + Leaf(), s);
    }
    if (!corrupted && c->virtual_size() != model.size()) {
      Bug("virtual size " + std::to_string(c->virtual_size()) + " != model " +
              std::to_string(model.size()),
          base::Status::OK());
    }
    return c;
  }

  void Compare(uint64_t off, uint64_t len) {
    std::unique_ptr<vhd::Chain> c = Open(false);
    if (!c) return;
    off = std::min<uint64_t>(off, c->virtual_size());
    len = std::min<uint64_t>(len, c->virtual_size() - off);
    std::vector<uint8_t> buf(len);
    base::Status s = c->Read(off, len, buf.data());
    if (corrupted) return;
    if (!s.ok()) Bug("read", s);
    if (std::memcmp(buf.data(), model.data() + off, len) != 0) {
      Bug("chain read differs from the model at " + std::to_string(off) + "+" +
              std::to_string(len),
          base::Status::OK());
    }
  }

  void Check() {
    vhd::CheckOptions co;
    co.check_parents = true;
    co.check_data = true;
    vhd::CheckReport report;
    base::Status s = vhd::CheckVhd(env, Leaf(), co, &report);
    if (!s.ok() && !corrupted) {
      std::string lines;
      for (const std::string& l : report.lines) lines += l;
      Bug("check: " + lines, s);
    }
  }

  void Write(uint64_t off, uint64_t len, uint8_t fill) {
    if (model.empty()) return;
    off %= model.size();
    len = std::min<uint64_t>(len, model.size() - off);
    std::vector<uint8_t> data(len);
    for (uint64_t i = 0; i < len; ++i) {
      data[i] = static_cast<uint8_t>(fill + i * 7 + (i >> 9));
    }
    std::unique_ptr<vhd::Chain> c = Open(true);
    base::Status s = c->Write(off, len, data.data());
    if (s.ok()) s = c->Flush();
    if (!s.ok()) Bug("write", s);
    std::memcpy(model.data() + off, data.data(), len);
  }

  void Snapshot() {
    if (files.size() >= kMaxDepth) return;
    std::string name = "d" + std::to_string(files.size()) + ".vhd";
    base::Status s = vhd::CreateDifferencing(env, WorkDir() + "/" + name,
                                             Leaf(), vhd::SnapshotParams());
    if (!s.ok()) Bug("snapshot", s);
    files.push_back(name);
  }

  void Coalesce() {
    if (files.size() < 2) return;
    vhd::CoalesceOptions o;
    o.durable = false;
    vhd::CoalesceResult r;
    base::Status s = vhd::Coalesce(env, Leaf(), o, &r);
    if (!s.ok()) Bug("coalesce", s);
    env->Unlink(Leaf());
    files.pop_back();
  }

  void Resize(uint64_t grow) {
    if (model.size() + grow > kMaxSize) return;
    std::string journal = WorkDir() + "/resize.journal";
    env->Unlink(journal);
    base::Status s =
        vhd::ResizeJournaled(env, Leaf(), model.size() + grow, journal);
    if (!s.ok()) Bug("resize", s);
    model.resize(model.size() + grow, 0);
  }

  void Corrupt(Reader* in) {
    size_t f = in->Get(1) % files.size();
    std::unique_ptr<base::File> file;
    if (!env->Open(Path(f), base::Env::OpenMode::kReadWrite, &file).ok()) {
      return;
    }
    uint64_t size = 0;
    file->Size(&size);
    int flips = 1 + static_cast<int>(in->Get(1) % 4);
    for (int k = 0; k < flips && size > 0; ++k) {
      // Metadata lives in the first 64 KiB and the last sector: aim there
      // most of the time.
      uint64_t pos = in->Get(3);
      pos = (pos & 1) ? size - 1 - (pos >> 1) % std::min<uint64_t>(size, 512)
                      : (pos >> 1) % std::min<uint64_t>(size, 65536);
      uint8_t b = 0;
      file->Read(pos, 1, &b);
      b ^= static_cast<uint8_t>(in->Get(1) | 1);
      file->Write(pos, &b, 1);
    }
    corrupted = true;
  }
};

void Clean() {
  std::vector<std::string> names;
  base::Env* env = base::Env::Default();
  if (env->ListDir(WorkDir(), &names).ok()) {
    for (const std::string& n : names) env->Unlink(WorkDir() + "/" + n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Clean();
  Reader in(data, size);
  Program p;
  uint64_t base = (1 + in.Get(1) % 4) * kBlock;
  p.files.push_back("base.vhd");
  vhd::CreateParams cp;
  cp.size = base;
  base::Status s = vhd::CreateVhd(p.env, p.Leaf(), cp);
  if (!s.ok()) Bug("create", s);
  p.model.assign(base, 0);
  for (int ops = 0; ops < kMaxOps && !in.empty(); ++ops) {
    int op = static_cast<int>(in.Get(1) % 10);
    if (p.corrupted && op < 6) op = 6 + op % 3;  // reads and checks only
    switch (op) {
      case 0:
      case 1:
      case 2: {
        uint64_t off = in.Get(3), len = in.Get(2) + 1;
        p.Write(off, len, static_cast<uint8_t>(in.Get(1)));
        break;
      }
      case 3:
        p.Snapshot();
        break;
      case 4:
        p.Coalesce();
        break;
      case 5:
        p.Resize(in.Get(1) % 2 ? 2 * kBlock : kBlock);
        break;
      case 6: {
        uint64_t off = in.Get(3), len = in.Get(2) + 1;
        p.Compare(p.model.empty() ? 0 : off % p.model.size(), len);
        break;
      }
      case 7:
        p.Compare(0, p.model.size());
        break;
      case 8:
        p.Check();
        break;
      case 9:
        p.Corrupt(&in);
        break;
    }
  }
  // Clean chains must read as the model and check clean; corrupted ones
  // only must not crash.
  p.Compare(0, p.model.size());
  p.Check();
  return 0;
}
