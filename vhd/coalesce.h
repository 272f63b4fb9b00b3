// Coalesce: fold a differencing disk's data into its parent.
//
// Every sector the child holds (bitmap-set runs; whole blocks when full) is
// copied to the same virtual sector of the parent, whose bitmaps are OR-ed
// and blocks allocated as needed; a parent smaller than the child is grown
// first. The parent must be a VHD with the child's recorded parent uuid: a
// raw parent (null parent uuid, whatever file a locator names) is refused
// with kNotSupported, so that nothing but a VHD is ever written through a
// locator. The child is never modified. Because the child shadows every sector
// written, the chain reads the same bytes at every moment, so a crash is
// harmless and a re-run gives the same result (idempotent).
//
// Progress is checkpointed in a small journal next to the parent
// (".<parent name>.coalesce"): the first block not yet durably merged. An
// interrupted coalesce resumes there instead of starting over; the journal
// is removed when the merge is complete.
#ifndef VHDSM_VHD_COALESCE_H_
#define VHDSM_VHD_COALESCE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/env.h"

namespace vhd {

struct CoalesceProgress {
  uint64_t blocks_done = 0;   // child blocks examined
  uint64_t blocks_total = 0;  // child blocks
  uint64_t bytes_done = 0;    // bytes copied so far
  uint64_t bytes_total = 0;   // bytes the child holds (allocated sectors)
  double seconds = 0;
};

struct CoalesceOptions {
  std::function<void(const CoalesceProgress&)> progress;
  bool durable = true;
  // Parent metadata is committed (and the journal advanced) this often.
  uint64_t checkpoint_bytes = 256ull << 20;
  // Only grow the parent to the child's size (the one step that changes
  // what a reader of the parent's metadata sees: while a journaled grow
  // runs, the parent cannot be opened), copying nothing. A caller that
  // lets readers in during the long merge runs this step while it keeps
  // them out.
  bool grow_parent_only = false;
};

struct CoalesceResult {
  uint64_t sectors = 0;      // sectors copied by this run
  bool resumed = false;      // started from a journal's checkpoint
  uint64_t first_block = 0;  // where this run started
  std::string parent;        // the parent's path
};

base::Status Coalesce(base::Env* env, const std::string& child,
                      const CoalesceOptions& options, CoalesceResult* result);

// Path of the coalesce journal for `parent`.
std::string CoalesceJournalPath(const std::string& parent);

}  // namespace vhd

#endif  // VHDSM_VHD_COALESCE_H_
