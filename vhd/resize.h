// Resizing a VHD's virtual size.
//
// Fast resize rewrites only the footers and needs room in the BAT (a disk
// created with a -S preallocation). Journaled resize may also grow the BAT:
// blocks in the way are moved to the end of the file and the batmap and
// parent locators move up. Before anything changes, the disk's metadata and
// the original bytes of every other region it will overwrite are saved to a
// journal in vhd-util's format (vhd/resize_journal.h), written whole and
// synced, and the footers are "poisoned" (cookie "v_poison", as blktap does)
// so that nothing opens the disk mid-way. A crash at any point is undone by
// RevertResize -- or by vhd-util revert -- with that journal; a finished
// resize writes the new footers and deletes the journal.
//
// Only growing is supported (vhd-util cannot shrink dynamic disks either).
#ifndef VHDSM_VHD_RESIZE_H_
#define VHDSM_VHD_RESIZE_H_

#include <cstdint>
#include <string>

#include "base/env.h"
#include "vhd/resize_journal.h"

namespace vhd {

// Grows `path` to `new_size` bytes (rounded up to 2 MiB) without a journal;
// InvalidArgument when the BAT has no room (or the size shrinks).
base::Status ResizeFast(base::Env* env, const std::string& path,
                        uint64_t new_size);

// Grows `path` to `new_size` bytes (rounded up to 2 MiB), journaled in
// `journal` (which must not exist).
base::Status ResizeJournaled(base::Env* env, const std::string& path,
                             uint64_t new_size, const std::string& journal);

// Undoes an interrupted (or finished but not yet cleaned up) journaled
// resize, ours or vhd-util's, and removes the journal. A file that is not a
// complete journal of `path` is refused (see vhd/resize_journal.h): nothing
// is changed or removed. `outcome` gets vhd-util's stage and code.
base::Status RevertResize(base::Env* env, const std::string& path,
                          const std::string& journal,
                          RevertOutcome* outcome = nullptr);

// The largest size (bytes) a fast resize can reach: BAT entries x block size.
base::Status MaxFastResize(base::Env* env, const std::string& path,
                           uint64_t* bytes);

}  // namespace vhd

#endif  // VHDSM_VHD_RESIZE_H_
