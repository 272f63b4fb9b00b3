// The undo journal of a resize, in blktap's format (libvhd-journal: what
// `vhd-util resize -j J` writes and `vhd-util revert` reads). vhdsm writes
// and reads only this format, so that either tool reverts the other's
// interrupted resize.
//
// The format, in our words (all integers big-endian unless said otherwise):
//
// Journal header, 512 bytes at offset 0:
//     0  8  cookie "vjournal"
//     8 16  uuid of the VHD (as in its footer)
//    24  8  offset of the VHD's primary footer; the file is cut back to this
//           offset + 512 on revert
//    32  4  number of data entries
//    36  4  number of metadata entries
//    40  8  offset of the first data entry (= end of the metadata entries)
//    48  8  offset of the first metadata entry (512)
//    56  8  end of the journal (offset past the last entry). LITTLE-endian:
//           blktap stores this one field in host order (x86)
//    64 448 zero
// Entries follow back to back; each is a 32-byte entry header and `size`
// payload bytes, the bytes of the VHD at `offset` before the resize:
//     0  8  cookie 0xaaaa12344321aaaa
//     8  4  type: 1 primary footer, 2 footer copy (at 0), 3 dynamic header,
//           4 parent locator, 5 BAT, 6 batmap header, 7 batmap, 8 data
//    12  4  size: non-zero, a multiple of 512
//    16  8  offset in the VHD
//    24  4  checksum: ~(sum of the 32 entry-header bytes, the checksum bytes
//           counted as 0, plus the sum of the payload bytes)
//    28  4  padding (blktap leaves stack garbage here; it is in the sum)
// Metadata entries, in this order: the primary footer (512); for a dynamic
// or differencing disk also the footer copy (512), the header (1024), one
// entry per parent locator whose code is not 0, in slot order (the locator's
// room: data_space sectors if < 512, else data_space bytes), the BAT (max
// entries x 4 rounded up to a sector, at the header's table offset) and, when
// the disk has a batmap (creator "tap", version >= 1.2, or 1.1 with a batmap
// header), the batmap header (512, after the BAT) and the batmap
// (batmap_size sectors, at its offset).
// Data entries (type 8) follow: any other bytes the resize overwrites (blktap
// saves the bitmap and the data of each block it moves).
//
// Revert, as vhd-util does it: write back the footer and its copy, the
// header, the locators at the header's offsets, the BAT, the batmap header
// and the batmap's first (virtual size >> 24) bytes rounded up to a sector,
// at least one (all with their checksums recomputed), cut the file to the
// footer offset + 512, then write every data entry, in order, and remove
// the journal.
//
// Stricter than vhd-util, because a journal names a file to rewrite and then
// delete: every entry's checksum is checked (blktap checks only the data
// entries'), the counts, sizes and offsets must agree with the header saved
// in the journal, the whole journal is checked before the VHD is touched, and
// the journal must belong to the VHD: when the VHD still carries a footer
// (primary, copy, or at the journal's footer offset) its uuid must be the
// journal's. Anything else is refused with vhd-util's code for it and both
// files are left as they are.
#ifndef VHDSM_VHD_RESIZE_JOURNAL_H_
#define VHDSM_VHD_RESIZE_JOURNAL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/env.h"

namespace vhd {

// Where a revert stopped, and the code vhd-util gives for that failure
// (negative errno: -EINVAL for a journal it does not understand, -EPIPE for
// one cut short, -ENOENT for a missing file). vhd-util prints "opening
// journal failed" up to and including the metadata, "reverting journal
// failed" for the data entries and the writes, "removing journal failed"
// for the unlink.
struct RevertOutcome {
  enum class Stage { kOpen, kRevert, kRemove };
  Stage stage = Stage::kOpen;
  int vhd_errno = 0;
};

// Saves, to a new `journal` (written whole to a temporary, synced, then
// renamed), the metadata of the VHD open in `f` and the current bytes of
// each [offset, offset + length) of `ranges` that lies below its primary
// footer, so that RevertResizeJournal (or vhd-util revert) can put them
// back. Corruption when the VHD's metadata is not what vhd-util could
// revert (a damaged batmap, a locator of an unreadable size).
base::Status WriteResizeJournal(
    base::Env* env, base::File* f, const std::string& journal,
    const std::vector<std::pair<uint64_t, uint64_t>>& ranges);

// Reverts `path` from `journal` (see above) and removes the journal.
base::Status RevertResizeJournal(base::Env* env, const std::string& path,
                                 const std::string& journal,
                                 RevertOutcome* outcome = nullptr);

}  // namespace vhd

#endif  // VHDSM_VHD_RESIZE_JOURNAL_H_
