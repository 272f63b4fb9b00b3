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

int CmdSnapshot(int argc, char** argv) {
  const char* name = nullptr;
  const char* pname = nullptr;
  uint64_t msize = 0;
  long limit = 0;
  bool raw = false, no_skip = false;
  int err = 0;
  int c;
  while ((c = getopt(argc, argv, "n:p:S:l:meh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'p':
        pname = optarg;
        break;
      case 'S':
        if (!ParseMb(optarg, &msize)) err = -EINVAL;
        break;
      case 'l':
        limit = std::strtol(optarg, nullptr, 10);
        break;
      case 'm':
        raw = true;
        break;
      case 'e':
        no_skip = true;
        break;
      case 'h':
        err = 0;
        goto usage;
      default:
        err = -EINVAL;
        goto usage;
    }
  }
  if (err || name == nullptr || pname == nullptr || optind != argc) {
    err = -EINVAL;
    goto usage;
  }
  {
    std::string backing = pname;
    uint64_t size = 0;
    base::FileInfo fi;
    base::Status s = env()->Stat(pname, &fi);
    if (!s.ok()) return s.ToErrno();
    if (!raw && !no_skip) {
      s = vhd::FindSnapshotTarget(env(), pname, &backing, &raw);
      if (!s.ok()) return s.ToErrno();
      if (backing != pname) {
        vhd::VhdInfo info;
        s = vhd::InspectVhd(env(), pname, false, &info);
        if (!s.ok()) return s.ToErrno();
        size = info.virtual_size;
      }
    }
    if (limit && !raw) {
      int depth = 0;
      s = vhd::ChainDepth(env(), backing, &depth);
      if (!s.ok()) {
        std::printf("error checking snapshot depth: %d\n", s.ToErrno());
        return s.ToErrno();
      }
      if (depth + 1 > limit) {
        std::printf("snapshot depth exceeded: current depth: %d, limit: %ld\n",
                    depth, limit);
        return -ENOSPC;
      }
    }
    vhd::SnapshotParams p;
    p.size = size;
    p.max_size = msize << 20;
    p.raw_parent = raw;
    p.durability = vhd::NewFileDurability::kOrdered;
    s = vhd::CreateDifferencing(env(), name, backing, p);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: failed to create: %s\n", name,
                   s.ToString().c_str());
      return s.ToErrno();
    }
    return 0;
  }
usage:
  std::printf(
      "options: <-n name> <-p parent name> [-l snapshot depth limit] [-m "
      "parent_is_raw] [-S size (MB) for metadata preallocation (see vhd-util "
      "resize)] [-e link to supplied parent name even if it's empty] [-h "
      "help]\n");
  return err;
}

}  // namespace vhdutil
