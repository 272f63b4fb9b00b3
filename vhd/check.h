// Checking a VHD file against the rule set of blktap's `vhd-util check`
// (footer, backup footer, header, differencing fields, BAT range and overlap,
// batmap, parent locators, parent uuid), with the O(n^2) BAT overlap test
// replaced by a sort (O(n log n)), so the metadata of a 2 TiB disk checks in
// well under a second.
//
// Problems are reported with vhd-util's own wording (the XenServer storage
// scripts log them), one line each, in the order vhd-util finds them.
#ifndef VHDSM_VHD_CHECK_H_
#define VHDSM_VHD_CHECK_H_

#include <string>
#include <vector>

#include "base/env.h"

namespace vhd {

struct CheckOptions {
  bool ignore_primary_footer = false;  // -i: use the copy at 0 if EOF is bad
  bool ignore_parent_uuid = false;     // -I
  bool ignore_timestamps = false;      // -t
  bool skip_bat_overlap = false;       // -B
  bool check_data = false;             // -b: data under clear bits must be 0
  bool check_parents = false;          // -p: also check every ancestor
};

struct CheckReport {
  // Lines to print, each ending in '\n' (problems, then "X is valid").
  std::vector<std::string> lines;
  // For each file checked, in order: its path and whether it was valid.
  std::vector<std::pair<std::string, bool>> files;
};

// Checks `path` (and with check_parents its ancestors). Returns OK if every
// file checked is valid; else the first problem (kCorruption for invalid
// metadata, or the I/O error met).
base::Status CheckVhd(base::Env* env, const std::string& path,
                      const CheckOptions& options, CheckReport* report);

}  // namespace vhd

#endif  // VHDSM_VHD_CHECK_H_
