// vhd-util resize -n PATH -s MB (-j JOURNAL | -f) and revert -n PATH -j J.
#include <getopt.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "vhd/image.h"
#include "vhd/resize.h"
#include "vhd/util/commands.h"

namespace vhdutil {

int CmdResize(int argc, char** argv) {
  const char* name = nullptr;
  const char* jname = nullptr;
  uint64_t size = 0;
  bool fast = false;
  int err = -EINVAL, c;
  while ((c = getopt(argc, argv, "n:s:j:fh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 's':
        err = ParseMb(optarg, &size) ? 0 : -EINVAL;
        break;
      case 'j':
        jname = optarg;
        break;
      case 'f':
        fast = true;
        break;
      default:
        err = -EINVAL;
        name = nullptr;
        break;
    }
  }
  if (err || name == nullptr || (jname == nullptr && !fast) ||
      (jname != nullptr && fast) || optind != argc) {
    std::printf(
        "options: <-n name> <-s size (in MB)> (<-j journal>|<-f fast>) [-h "
        "help]\n\nThe resize operation can only be performed offline and "
        "must be journaled because resizing the metadata might require "
        "moving data blocks. However, if a VHD was created with -S <msize> "
        "option (during vhd-util create/snapshot), which preallocates the "
        "metadata for growing the VHD up to size <msize>, then resizing such "
        "a VHD up to <msize> can be performed online without journaling (-f "
        "option).\n");
    return -EINVAL;
  }
  // Shrinking is refused as vhd-util refuses it: a fast resize checks the
  // size rounded to 2 MiB blocks (EINVAL); a journaled one of a dynamic disk
  // is "not fully implemented" (ENOSYS).
  std::unique_ptr<vhd::Image> img;
  if (vhd::OpenImage(env(), name, vhd::OpenOptions(), &img).ok()) {
    const uint64_t cur = img->virtual_size();
    const bool dynamic = img->type() != vhd::DiskType::kFixed;
    img.reset();
    if (fast && vhd::RoundUp(size << 20, vhd::kDefaultBlockSize) < cur) {
      std::printf("%s: size (%" PRIu64 ") < curr size (%" PRIu64 ")\n", name,
                  vhd::RoundUp(size << 20, vhd::kDefaultBlockSize), cur);
      return -EINVAL;
    }
    if (!fast && dynamic && (size << 20) < cur) {
      std::printf("dynamic shrink not fully implemented\n");
      std::printf("resize failed: %d\n", -ENOSYS);
      return -ENOSYS;
    }
  }
  base::Status s = fast ? vhd::ResizeFast(env(), name, size << 20)
                        : vhd::ResizeJournaled(env(), name, size << 20, jname);
  if (!s.ok()) {
    std::fprintf(stderr, "resize: %s\n", s.ToString().c_str());
    std::printf("resize failed: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  return 0;
}

int CmdRevert(int argc, char** argv) {
  const char* name = nullptr;
  const char* jname = nullptr;
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "n:j:h")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'j':
        jname = optarg;
        break;
      default:
        bad = true;
        break;
    }
  }
  if (bad || name == nullptr || jname == nullptr || optind != argc) {
    std::printf("options: <-n name> <-j journal> [-h help]\n");
    return -EINVAL;
  }
  // vhd-util's lines and codes, on stdout only: what sm parses.
  vhd::RevertOutcome o;
  base::Status s = vhd::RevertResize(env(), name, jname, &o);
  if (!s.ok()) {
    const char* what = o.stage == vhd::RevertOutcome::Stage::kOpen ? "opening"
                       : o.stage == vhd::RevertOutcome::Stage::kRevert
                           ? "reverting"
                           : "removing";
    std::printf("%s journal failed: %d\n", what, o.vhd_errno);
    return o.vhd_errno;
  }
  return 0;
}

}  // namespace vhdutil
