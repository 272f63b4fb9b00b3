// Repairing a VHD whose metadata a crash or a full disk left inconsistent,
// without touching its data:
//   - the footer at EOF is rebuilt from the copy at offset 0 (or the other
//     way round) and written at the end of data, the file truncated after it;
//   - a null uuid gets a fresh one (as vhd-util repair);
//   - blktap's batmap, when its checksum or contents are stale, is rebuilt
//     from the block bitmaps (the batmap is only a cache of "bitmap full").
#ifndef VHDSM_VHD_REPAIR_H_
#define VHDSM_VHD_REPAIR_H_

#include <string>

#include "base/env.h"

namespace vhd {

struct RepairOptions {
  bool use_backup_footer = false;  // -b: trust the copy at 0 over EOF
};

// `*changed` is set when anything was rewritten.
base::Status RepairVhd(base::Env* env, const std::string& path,
                       const RepairOptions& options, bool* changed);

}  // namespace vhd

#endif  // VHDSM_VHD_REPAIR_H_
