// Facts about a VHD file that tools and the plugin ask for (vhd-util query
// and scan answer the same questions), and the small metadata edits they
// make (hidden flag).
#ifndef VHDSM_VHD_INSPECT_H_
#define VHDSM_VHD_INSPECT_H_

#include <cstdint>
#include <string>

#include "base/env.h"
#include "vhd/format.h"
#include "vhd/uuid.h"

namespace vhd {

struct VhdInfo {
  DiskType type = DiskType::kNone;
  uint64_t virtual_size = 0;
  // End of the last metadata or block plus the footer (vhd-util query -s);
  // the file size for fixed disks.
  uint64_t physical_size = 0;
  uint64_t file_size = 0;
  uint64_t allocated_blocks = 0;  // dynamic/differencing, within curr_size
  uint32_t block_size = 0;
  uint32_t max_bat_entries = 0;
  bool hidden = false;
  Uuid uuid;
  Uuid parent_uuid;
  std::string parent_name;  // the header's, e.g. "parent.vhd"
  bool footer_from_backup = false;
};

// Reads footer and header; with `with_bat`, also the BAT (physical size and
// allocated blocks need it).
base::Status InspectVhd(base::Env* env, const std::string& path, bool with_bat,
                        VhdInfo* info);

// Number of files in the chain, the file itself included (vhd-util query -d).
base::Status ChainDepth(base::Env* env, const std::string& path, int* depth);

// The parent's canonical path, found through the locators.
base::Status ResolveParent(base::Env* env, const std::string& path,
                           std::string* parent);

// Sets the hidden flag (footer byte 85) in both footers.
base::Status SetHidden(base::Env* env, const std::string& path, bool hidden);

}  // namespace vhd

#endif  // VHDSM_VHD_INSPECT_H_
