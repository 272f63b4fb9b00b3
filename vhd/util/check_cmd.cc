// vhd-util check: every message on stdout; "X is valid" for each valid
// dynamic/differencing file; after a failure, the metadata dump.
#include <getopt.h>

#include <cstdio>

#include "vhd/check.h"
#include "vhd/util/commands.h"

namespace vhdutil {

int CmdCheck(int argc, char** argv) {
  const char* name = nullptr;
  vhd::CheckOptions o;
  bool stats = false;
  int err = 0, c;
  while ((c = getopt(argc, argv, "n:iItpbBsh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'i':
        o.ignore_primary_footer = true;
        break;
      case 'I':
        o.ignore_parent_uuid = true;
        break;
      case 't':
        o.ignore_timestamps = true;
        break;
      case 'p':
        o.check_parents = true;
        break;
      case 'b':
        o.check_data = true;
        break;
      case 'B':
        o.skip_bat_overlap = true;
        break;
      case 's':
        stats = true;
        break;
      case 'h':
        err = 0;
        goto usage;
      default:
        err = -EINVAL;
        goto usage;
    }
  }
  if (name == nullptr || optind != argc ||
      ((stats || o.check_data) && o.skip_bat_overlap)) {
    err = -EINVAL;
    goto usage;
  }
  {
    vhd::CheckReport report;
    base::Status s = vhd::CheckVhd(env(), name, o, &report);
    for (const std::string& line : report.lines) {
      // -s suppresses the "is valid" lines.
      if (stats && line.size() > 9 &&
          line.compare(line.size() - 10, 10, " is valid\n") == 0) {
        continue;
      }
      std::fputs(line.c_str(), stdout);
    }
    if (s.ok()) return 0;
    std::string failed =
        report.files.empty() ? name : report.files.back().first;
    std::printf("%s appears invalid; dumping metadata\n", failed.c_str());
    PrintHeaders(failed, false);
    return s.ToErrno();
  }
usage:
  std::printf(
      "options: -n <file> [-i ignore missing primary footers] [-I ignore "
      "parent uuids] [-t ignore timestamps] [-B do not check BAT for "
      "overlapping (precludes -s, -b)] [-p check parents] [-b check bitmaps] "
      "[-s stats] [-h help]\n");
  return err;
}

}  // namespace vhdutil
