// vhd-util create and snapshot.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "base/size.h"
#include "vhd/create.h"
#include "vhd/inspect.h"
#include "vhd/util/commands.h"

namespace vhdutil {

void ResetGetopt() { optind = 0; }

bool ParseMb(const char* arg, uint64_t* mb) {
  return base::ParseCount(arg, UINT64_MAX >> 20, mb).ok();
}

int CmdCreate(int argc, char** argv) {
  const char* name = nullptr;
  uint64_t size = 0, msize = 0;
  bool fixed = false, bad = false;
  int err = -EINVAL;
  int c;
  while ((c = getopt(argc, argv, "n:s:S:rh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 's':
        bad |= !ParseMb(optarg, &size);
        err = 0;
        break;
      case 'S':
        bad |= !ParseMb(optarg, &msize);
        err = 0;
        break;
      case 'r':
        fixed = true;
        break;
      case 'h':
      default:
        err = -EINVAL;
        name = nullptr;
        break;
    }
  }
  if (err || bad || name == nullptr || optind != argc) {
    err = -EINVAL;
    std::printf(
        "options: <-n name> <-s size (MB)> [-r reserve] [-h help] [<-S size "
        "(MB) for metadata preallocation (see vhd-util resize)>]\n");
    return -EINVAL;
  }
  if (msize && msize < size) {
    std::printf("Error: <-S size> must be greater than <-s size>\n");
    return -EINVAL;
  }
  vhd::CreateParams p;
  p.size = size << 20;
  p.max_size = msize << 20;
  p.fixed = fixed;
  p.durability = vhd::NewFileDurability::kOrdered;
  base::Status s = vhd::CreateVhd(env(), name, p);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: failed to create: %s\n", name,
                 s.ToString().c_str());
    return s.ToErrno();
  }
  return 0;
}

namespace {

struct SnapshotFlags {
  const char* name = nullptr;
  const char* pname = nullptr;
  uint64_t msize = 0;
  long limit = 0;
  bool raw = false, no_skip = false;
};

// Parses the options; false when usage is to be printed, with *err the
// status to return (0 for -h).
bool ParseSnapshotFlags(int argc, char** argv, SnapshotFlags* f, int* err) {
  *err = 0;
  int c;
  while ((c = getopt(argc, argv, "n:p:S:l:meh")) != -1) {
    switch (c) {
      case 'n':
        f->name = optarg;
        break;
      case 'p':
        f->pname = optarg;
        break;
      case 'S':
        if (!ParseMb(optarg, &f->msize)) *err = -EINVAL;
        break;
      case 'l':
        f->limit = std::strtol(optarg, nullptr, 10);
        break;
      case 'm':
        f->raw = true;
        break;
      case 'e':
        f->no_skip = true;
        break;
      case 'h':
        *err = 0;
        return false;
      default:
        *err = -EINVAL;
        return false;
    }
  }
  if (*err || f->name == nullptr || f->pname == nullptr || optind != argc) {
    *err = -EINVAL;
    return false;
  }
  return true;
}

// The file the snapshot is to link to (an empty parent is skipped unless
// -e), whether it is raw, and the size the snapshot takes (0: its parent's).
int ChooseBacking(const SnapshotFlags& f, std::string* backing, bool* raw,
                  uint64_t* size) {
  *backing = f.pname;
  *raw = f.raw;
  *size = 0;
  base::FileInfo fi;
  base::Status s = env()->Stat(f.pname, &fi);
  if (!s.ok()) return s.ToErrno();
  if (*raw || f.no_skip) return 0;
  s = vhd::FindSnapshotTarget(env(), f.pname, backing, raw);
  if (!s.ok()) return s.ToErrno();
  if (*backing != f.pname) {
    vhd::VhdInfo info;
    s = vhd::InspectVhd(env(), f.pname, false, &info);
    if (!s.ok()) return s.ToErrno();
    *size = info.virtual_size;
  }
  return 0;
}

// -l: the chain under the snapshot may not grow past the limit.
int CheckDepthLimit(const std::string& backing, long limit) {
  int depth = 0;
  base::Status s = vhd::ChainDepth(env(), backing, &depth);
  if (!s.ok()) {
    std::printf("error checking snapshot depth: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  if (depth + 1 > limit) {
    std::printf("snapshot depth exceeded: current depth: %d, limit: %ld\n",
                depth, limit);
    return -ENOSPC;
  }
  return 0;
}

}  // namespace

int CmdSnapshot(int argc, char** argv) {
  SnapshotFlags f;
  int err = 0;
  if (!ParseSnapshotFlags(argc, argv, &f, &err)) {
    std::printf(
        "options: <-n name> <-p parent name> [-l snapshot depth limit] [-m "
        "parent_is_raw] [-S size (MB) for metadata preallocation (see vhd-util "
        "resize)] [-e link to supplied parent name even if it's empty] [-h "
        "help]\n");
    return err;
  }
  std::string backing;
  bool raw = false;
  uint64_t size = 0;
  if (int e = ChooseBacking(f, &backing, &raw, &size)) return e;
  if (f.limit && !raw) {
    if (int e = CheckDepthLimit(backing, f.limit)) return e;
  }
  vhd::SnapshotParams p;
  p.size = size;
  p.max_size = f.msize << 20;
  p.raw_parent = raw;
  p.durability = vhd::NewFileDurability::kOrdered;
  base::Status s = vhd::CreateDifferencing(env(), f.name, backing, p);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: failed to create: %s\n", f.name,
                 s.ToString().c_str());
    return s.ToErrno();
  }
  return 0;
}

}  // namespace vhdutil
