// Scanning VHD files for `vhd-util scan` (and the plugin's SR scan): one
// record per file with its size, hidden flag and parent, or the error that
// stopped it being read.
#ifndef VHDSM_VHD_SCAN_H_
#define VHDSM_VHD_SCAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/uuid.h"

namespace vhd {

struct ScanRecord {
  std::string path;       // as scanned
  base::Status status;    // not OK: the file could not be read
  std::string error;      // vhd-util's short description of the failure
  uint64_t capacity = 0;  // virtual size
  uint64_t size = 0;      // file size (st_size)
  bool hidden = false;
  bool fixed = false;  // a fixed disk (type 2)
  uint8_t marker = 0;
  Uuid uuid;
  // Parent: fast mode gives the header's name (a basename); otherwise the
  // resolved path, or the raw locator string when it does not resolve.
  std::string parent;
  bool has_parent = false;
  // Not fast: OK, or why the parent does not resolve (with an Env confined
  // to an SR: a raw parent, a symlink, a missing or mismatched <name>.vhd).
  base::Status parent_status;
};

struct ScanOptions {
  // Read only the footer copy at 0 and the header (vhd-util scan -f).
  bool fast = false;
};

ScanRecord ScanFile(base::Env* env, const std::string& path,
                    const ScanOptions& options);

}  // namespace vhd

#endif  // VHDSM_VHD_SCAN_H_
