// vhd-util query: one line per requested field, always in the order
// v, s, p, f, m, d, a, S (xapi's storage scripts parse lines by position).
#include <getopt.h>

#include <cinttypes>
#include <cstdio>
#include <memory>

#include "vhd/image.h"
#include "vhd/inspect.h"
#include "vhd/keyhash.h"
#include "vhd/sparse_image.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

// The first decodable locator, unresolved ("./parent.vhd").
base::Status UnresolvedParent(vhd::SparseImage* img, std::string* out) {
  for (int i = 0; i < vhd::kParentLocatorCount; ++i) {
    if (img->LocatorPath(i, out).ok()) return base::Status::OK();
  }
  return base::Status::InvalidArgument("no parent locator");
}

}  // namespace

int CmdQuery(int argc, char** argv) {
  const char* name = nullptr;
  bool size = false, physize = false, parent = false, fields = false,
       depth = false, fastresize = false, marker = false, allocated = false,
       unresolved = false;
  int err = 0, c;
  while ((c = getopt(argc, argv, "n:vspfdSmaubh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'v':
        size = true;
        break;
      case 's':
        physize = true;
        break;
      case 'p':
        parent = true;
        break;
      case 'f':
        fields = true;
        break;
      case 'd':
        depth = true;
        break;
      case 'S':
        fastresize = true;
        break;
      case 'm':
        marker = true;
        break;
      case 'a':
        allocated = true;
        break;
      case 'u':
        unresolved = true;
        break;
      case 'b':
        break;  // the copy at 0 is used anyway when EOF is bad
      case 'h':
        err = 0;
        goto usage;
      default:
        err = -EINVAL;
        goto usage;
    }
  }
  if (name == nullptr || optind != argc) {
    err = -EINVAL;
    goto usage;
  }
  {
    std::unique_ptr<vhd::Image> img;
    base::Status s = vhd::OpenImage(env(), name, vhd::OpenOptions(), &img);
    int code = s.ok() ? 0 : VhdUtilOpenErrno(name, s);
    auto* sparse = dynamic_cast<vhd::SparseImage*>(img.get());
    // -s and -a need two figures of the BAT, not the BAT: summarized a
    // chunk at a time (sm runs query -vsafp for every disk of every scan).
    uint64_t used = 0, eod = 0;
    if (s.ok() && sparse != nullptr && (physize || allocated)) {
      s = sparse->SummarizeBat(&used, &eod);
      code = s.ToErrno();
    }
    if (!s.ok()) {
      std::printf("error opening %s: %d\n", name, code);
      return code;
    }
    const vhd::Footer& f = *img->footer();
    int ret = 0;
    err = 0;
    if (size) std::printf("%" PRIu64 "\n", f.curr_size >> 20);
    if (physize) {
      uint64_t phys = 0;
      if (sparse != nullptr) {
        phys = eod + vhd::kFooterSize;
      } else {
        s = img->file()->Size(&phys);
      }
      if (!s.ok()) {
        err = s.ToErrno();
        std::printf("failed to get physical size: %d\n", err);
      } else {
        std::printf("%" PRIu64 "\n", phys);
      }
    }
    if (parent) {
      ret = 0;
      if (f.disk_type() != vhd::DiskType::kDifferencing) {
        std::printf("%s has no parent\n", name);
      } else {
        std::string p;
        s = unresolved ? UnresolvedParent(sparse, &p)
                       : vhd::ResolveParent(env(), name, &p);
        if (!s.ok()) {
          std::printf("query failed\n");
          ret = s.ToErrno();
        } else {
          std::printf("%s\n", p.c_str());
        }
      }
      err = err ? err : ret;
    }
    if (fields) std::printf("hidden: %d\n", f.hidden);
    if (marker) {
      // The batmap header's byte, else the xattr (vhd/keyhash.h); one that
      // cannot be read shows as 0, as before.
      uint8_t m = 0;
      if (!vhd::ReadMarker(env(), name, &m).ok()) m = 0;
      std::printf("marker: %d\n", static_cast<signed char>(m));
    }
    if (depth) {
      int d = 0;
      s = vhd::ChainDepth(env(), name, &d);
      if (!s.ok()) {
        ret = s.ToErrno();
        std::printf("error checking chain depth: %d\n", ret);
      } else {
        ret = 0;
        std::printf("chain depth: %d\n", d);
      }
      err = err ? err : ret;
    }
    if (allocated) {
      if (sparse == nullptr) {
        ret = -EINVAL;
        std::printf("error reading bat: %d\n", ret);
      } else {
        ret = 0;
        std::printf("%" PRIu64 "\n", used);
      }
      err = err ? err : ret;
    }
    if (fastresize) {
      uint64_t max = 0;
      if (sparse != nullptr) {
        max = uint64_t{sparse->header().max_table_entries} *
                  sparse->header().block_size >>
              20;
      }
      std::printf("%" PRIu64 "\n", max);
    }
    return err;
  }
usage:
  std::printf(
      "options: <-n name> [-v print virtual size (in MB)] [-s print physical "
      "utilization (bytes)] [-p print parent] [-f print fields] [-m print "
      "marker] [-d print chain depth] [-S print max virtual size (MB) for "
      "fast resize] [-a print allocated block count] [-u don't resolve parent "
      "path] [-b don't trust the footer, use the back-up one instead] [-h "
      "help]\n");
  return err;
}

}  // namespace vhdutil
