// Resizing a VHD's virtual size.
//
// Fast resize rewrites only the footers and needs room in the BAT (a disk
// created with a -S preallocation). Journaled resize may also grow the BAT:
// blocks in the way are moved to the end of the file and the batmap and
// parent locators move up. Before anything changes, the original bytes of
// every region it will overwrite (and the original footer and file size) are
// saved to a journal file and synced, and the footers are "poisoned" (cookie
// "v_poison", as blktap does) so that nothing opens the disk mid-way. A crash
// at any point is undone by RevertResize with that journal; a finished resize
// unpoisons the footers and deletes the journal.
//
// Only growing is supported (vhd-util cannot shrink dynamic disks either).
#ifndef VHDSM_VHD_RESIZE_H_
#define VHDSM_VHD_RESIZE_H_

#include <cstdint>
#include <string>

#include "vhd/env.h"

namespace vhd {

// Grows `path` to `new_size` bytes (rounded up to 2 MiB) without a journal;
// InvalidArgument when the BAT has no room (or the size shrinks).
Status ResizeFast(Env* env, const std::string& path, uint64_t new_size);

// Grows `path` to `new_size` bytes (rounded up to 2 MiB), journaled in
// `journal` (which must not exist).
Status ResizeJournaled(Env* env, const std::string& path, uint64_t new_size,
                       const std::string& journal);

// Undoes an interrupted (or finished but not yet cleaned up) journaled
// resize, and removes the journal. A journal that was never completed means
// the disk was not touched: it is just removed.
Status RevertResize(Env* env, const std::string& path,
                    const std::string& journal);

// The largest size (bytes) a fast resize can reach: BAT entries x block size.
Status MaxFastResize(Env* env, const std::string& path, uint64_t* bytes);

}  // namespace vhd

#endif  // VHDSM_VHD_RESIZE_H_
