// vhd-util coalesce -n CHILD [-s] [-p]: merge a differencing disk into its
// parent. Prints "Coalesced N sectors" (no newline, as vhd-util; xapi's sm
// matches ^Coalesced (\d+) sectors). -p shows percent, bytes and rate.
#include <getopt.h>

#include <cinttypes>
#include <cstdio>
#include <memory>

#include "vhd/coalesce.h"
#include "vhd/image.h"
#include "vhd/util/commands.h"

namespace vhdutil {

int CmdCoalesce(int argc, char** argv) {
  const char* name = nullptr;
  bool progress = false;
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "n:o:a:x:sph")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 's':
        break;  // parent writes never zero-fill: always sparse
      case 'p':
        progress = true;
        break;
      default:
        bad = true;
        break;  // -o/-a/-x were removed from vhd-util too
    }
  }
  if (bad || name == nullptr || optind != argc) {
    std::printf("options: <-n name> [-s sparse] [-p progress] [-h help]\n");
    return -EINVAL;
  }
  {
    // vhd-util opens the child first; a failure ends it there.
    std::unique_ptr<vhd::Image> img;
    base::Status s = vhd::OpenImage(env(), name, vhd::OpenOptions(), &img);
    if (!s.ok()) {
      int code = VhdUtilOpenErrno(name, s);
      std::printf("error opening %s: %d\n", name, code);
      std::printf("error coalescing: %d\n", code);
      return code;
    }
    if (img->type() != vhd::DiskType::kDifferencing) {
      std::printf("coalescing of non-differencing disks is not supported\n");
      std::printf("error coalescing: %d\n", -EINVAL);
      return -EINVAL;
    }
  }
  vhd::CoalesceOptions o;
  if (progress) {
    o.progress = [](const vhd::CoalesceProgress& p) {
      double pct =
          p.blocks_total ? 100.0 * p.blocks_done / p.blocks_total : 100;
      double rate = p.seconds > 0 ? p.bytes_done / p.seconds / (1 << 20) : 0;
      std::printf("\r%6.2f%% %" PRIu64 "/%" PRIu64 " bytes %.1f MiB/s", pct,
                  p.bytes_done, p.bytes_total, rate);
      std::fflush(stdout);
    };
  }
  vhd::CoalesceResult r;
  base::Status s = vhd::Coalesce(env(), name, o, &r);
  if (progress) std::printf("\n");
  if (!s.ok()) {
    std::fprintf(stderr, "coalesce: %s\n", s.ToString().c_str());
    std::printf("error coalescing: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  std::printf("Coalesced %" PRIu64 " sectors", r.sectors);
  return 0;
}

}  // namespace vhdutil
