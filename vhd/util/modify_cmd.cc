// vhd-util modify (-z, -s, -p in that order) and repair.
#include <getopt.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "vhd/image.h"
#include "vhd/modify.h"
#include "vhd/repair.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

struct ModifyFlags {
  const char* name = nullptr;
  const char* parent = nullptr;
  bool zero = false, set_size = false;
  vhd::RelinkOptions ro;
  uint64_t size = 0;
};

// Parses the options; false when usage is to be printed.
bool ParseModifyFlags(int argc, char** argv, ModifyFlags* f) {
  bool bad = false;
  int c;
  while ((c = getopt(argc, argv, "n:s:p:mzCh")) != -1) {
    switch (c) {
      case 'n':
        f->name = optarg;
        break;
      case 's': {
        char* end = nullptr;
        errno = 0;
        long long v = std::strtoll(optarg, &end, 10);
        if (errno || end == optarg || *end || v < 0) {
          std::fprintf(stderr, "Invalid size '%s'\n", optarg);
          bad = true;
        }
        f->size = static_cast<uint64_t>(v);
        f->set_size = true;
        break;
      }
      case 'p':
        f->parent = optarg;
        break;
      case 'm':
        f->ro.raw_parent = true;
        break;
      case 'z':
        f->zero = true;
        break;
      case 'C':
        f->ro.check_content = true;
        break;
      default:
        bad = true;
        break;
    }
  }
  return !bad && f->name != nullptr && optind == argc;
}

// -z, -s, -p in that order; each failure is reported, the last one's
// status is the command's.
int ApplyModify(const ModifyFlags& f) {
  int err = 0;
  if (f.zero) {
    base::Status s = vhd::KillData(env(), f.name);
    if (!s.ok()) {
      err = s.ToErrno();
      std::printf("failed to zero VHD: %d\n", err);
    }
  }
  if (f.set_size) {
    base::Status s = vhd::SetPhysicalSize(env(), f.name, f.size);
    if (!s.ok()) {
      err = s.ToErrno();
      std::printf("failed to set physical size to %" PRIu64 ": %d\n", f.size,
                  err);
    }
  }
  if (f.parent != nullptr) {
    base::Status s = vhd::Relink(env(), f.name, f.parent, f.ro);
    if (!s.ok()) {
      err = s.ToErrno();
      std::fprintf(stderr, "modify: %s\n", s.ToString().c_str());
      std::printf("failed to set parent to '%s': %d\n", f.parent, err);
    }
  }
  return err;
}

}  // namespace

int CmdModify(int argc, char** argv) {
  ModifyFlags f;
  if (!ParseModifyFlags(argc, argv, &f)) {
    std::printf("*** Dangerous operations, use with care ***\n");
    std::printf(
        "options: <-n name> [-p NEW_PARENT set parent [-m raw]] [-s NEW_SIZE "
        "set size] [-z zero (kill data)] [-h help]\n");
    return -EINVAL;
  }
  {
    // vhd-util opens the disk read-write first, and stops there on failure.
    std::unique_ptr<vhd::Image> img;
    vhd::OpenOptions o;
    o.writable = true;
    base::Status s = vhd::OpenImage(env(), f.name, o, &img);
    if (!s.ok()) {
      int code = VhdUtilOpenErrno(f.name, s);
      std::printf("error opening %s: %d\n", f.name, code);
      return code;
    }
  }
  return ApplyModify(f);
}

int CmdRepair(int argc, char** argv) {
  const char* name = nullptr;
  vhd::RepairOptions o;
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "n:bh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'b':
        o.use_backup_footer = true;
        break;
      default:
        bad = true;
        break;
    }
  }
  if (bad || name == nullptr || optind != argc) {
    std::printf("options: <-n name> <-b use the back-up footer> [-h help]\n");
    return -EINVAL;
  }
  bool changed = false;
  base::Status s = vhd::RepairVhd(env(), name, o, &changed);
  if (!s.ok()) {
    std::printf("error opening %s: %d\n", name, s.ToErrno());
    return s.ToErrno();
  }
  return 0;
}

}  // namespace vhdutil
