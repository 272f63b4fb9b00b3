// Locating, reading and writing the VHD footer.
//
// Readers differ on which footer they trust (qemu: the copy at 0; libvhdi: the
// one at EOF), so we read tolerantly, as blktap does: the footer at EOF-512,
// else a 511-byte "short" footer at EOF-511 (old Virtual PC files), else the
// copy at offset 0 of a dynamic/differencing disk, which is then reported
// (FooterInfo::from_backup) so that `check` and `repair` can act on it.
#ifndef VHDSM_VHD_FOOTER_IO_H_
#define VHDSM_VHD_FOOTER_IO_H_

#include <cstdint>

#include "base/env.h"
#include "vhd/format.h"

namespace vhd {

struct FooterInfo {
  Footer footer;
  uint64_t file_size = 0;
  // Where the footer in use was read from, and its length (512, or 511).
  uint64_t offset = 0;
  uint32_t length = kFooterSize;
  bool from_backup = false;      // EOF footer bad; using the copy at 0
  bool legacy_checksum = false;  // checksum matched only with hidden = 0
  // For dynamic/differencing disks: state of the copy at 0.
  bool backup_valid = false;
  bool backup_identical = false;  // byte-identical to the EOF footer
  Footer backup;
};

// Validates cookie and checksum (with blktap's legacy hidden-flag rule).
// Returns true and sets *legacy when the checksum matched only with hidden=0.
bool FooterChecksumAcceptable(const Footer& f, bool* legacy);

// Reads the footer of `file`. Fails with kCorruption when no valid footer is
// found anywhere, naming what was wrong with each candidate.
base::Status ReadFooter(base::File* file, FooterInfo* info);

// Writes `footer` (sealed by the caller) at `offset`.
base::Status WriteFooterAt(base::File* file, const Footer& footer,
                           uint64_t offset);

}  // namespace vhd

#endif  // VHDSM_VHD_FOOTER_IO_H_
