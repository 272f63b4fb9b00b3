// Sr: a storage repository as FileSR keeps it, on a directory.
//
// One VHD per VDI, named <vdi-uuid>.vhd; a VDI's location is its uuid;
// parents are named by relative locators "./<uuid>.vhd". A snapshot
// hard-links the VDI to a new hidden "base copy" and puts a fresh empty
// child under it with the VDI's own name (the user's VDI keeps its uuid);
// a double snapshot adds a second child, the snapshot. Deleting a leaf
// unlinks it and leaves now-childless hidden parents to the GC (sr_gc.cc).
//
// Everything that is not in the VHDs lives under <sr>/.vhdsm/: VDI metadata
// (vdi_meta.h), journals of multi-step operations, attach markers, locks.
// Every metadata change holds the SR lock (an flock, so VHDSR processes and
// vhdsmd exclude each other); interrupted operations are finished or undone
// by Recover(), which runs on every open.
//
// Inputs from the toolstack are checked here: uuids must be uuids, a VDI file
// must be a regular file inside the SR (no symlinks), sizes within the VHD
// limits; operations that need space check it first (kNoSpace, nothing done).
//
// The SR's files are not trusted (NFS peers, vdi_introduce and operators
// write them). Every file operation of an Sr -- VHDs, .vhdsm/ records,
// journals, locks, tasks -- goes through its own base::ConfinedEnv, a
// descriptor of the SR directory: no path, symlink or locator leads out of
// it (kUnsafePath). A parent is only ever the <uuid>.vhd its child's header
// names, next to it, with the recorded uuid. A VHD whose chain does not
// satisfy this (a raw parent, a symlink, a missing or mismatched parent, a
// loop, or an unreadable layer below) is reported by Scan as broken, with the
// reason, and is never coalesced, relinked, snapshotted or imaged: the GC
// leaves it (and its descendants) alone, the other operations fail.
#ifndef VHDSM_SM_SR_H_
#define VHDSM_SM_SR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/confined_env.h"
#include "base/env.h"
#include "base/status.h"
#include "sm/file_lock.h"
#include "sm/vdi_meta.h"

namespace vhdsm {

using base::Status;

inline constexpr int kMaxChainDepth = 30;            // xapi's MAX_CHAIN_SIZE
inline constexpr uint64_t kMinVdiSize = 2ull << 20;  // 2 MiB
inline constexpr uint64_t kMaxVdiSize = 2040ull << 30;

struct Vdi {
  std::string uuid;
  std::string path;
  uint64_t virtual_size = 0;
  uint64_t physical_utilisation = 0;  // bytes the file takes
  bool hidden = false;
  std::string parent;  // parent VDI uuid, "" for none (or broken)
  // Not OK: this VDI or one below it in its chain cannot be trusted (why).
  Status broken;
  std::vector<std::string> children;
  VdiMeta meta;
};

enum class SnapshotKind {
  kSingle,    // one leaf, the old data becomes a read-only snapshot
  kDouble,    // the VDI's leaf and a second leaf, the snapshot/clone
  kInternal,  // kSingle used by the GC (no accounting)
};

struct GcOptions {
  // Called between steps; returning true stops the GC (abort flag).
  std::function<bool()> should_stop;
  // Leaf-coalesce unattached leaves too.
  bool leaf_coalesce = true;
  // Wait for a GC already running on this SR (then run), instead of
  // returning kBusy at once.
  bool wait = false;
};

struct GcReport {
  int pruned = 0;          // hidden VDIs with no live leaf removed
  int coalesced = 0;       // hidden nodes merged into their parent
  int leaf_coalesced = 0;  // leaves merged into their parent
  uint64_t bytes_merged = 0;
  std::vector<std::string> removed;  // uuids whose files are gone
};

class Sr {
 public:
  // Opens the SR at `dir` (which must exist and be a directory, not a
  // symlink), creating .vhdsm/ if needed, and runs Recover().
  static Status Open(const std::string& dir, std::unique_ptr<Sr>* sr);

  const std::string& path() const { return dir_; }
  // The Env confined to this SR: every vhd:: call on its files uses it.
  base::Env* env() { return env_; }
  std::string VdiPath(const std::string& uuid) const;

  // All VDIs (hidden ones included), by uuid, with parents and children.
  Status Scan(std::map<std::string, Vdi>* vdis);
  Status GetVdi(const std::string& uuid, Vdi* vdi);
  // OK if the VDI's whole chain is intact (see above), else why not.
  Status CheckChain(const std::string& uuid);
  // Bytes in the SR's file system: total and available to us.
  Status Space(uint64_t* total, uint64_t* free);

  // A new empty VDI of `size` bytes (rounded up to 2 MiB). `uuid` empty:
  // generated.
  Status CreateVdi(uint64_t size, const VdiMeta& meta, const std::string& uuid,
                   Vdi* vdi);
  // Unlinks a leaf (idempotent); a VDI with children becomes hidden instead.
  Status DeleteVdi(const std::string& uuid);
  // Snapshot or clone; *result is the new user-visible VDI (kDouble: the
  // second leaf; kSingle/kInternal: the read-only base copy). `snap_uuid`
  // (kDouble only; empty: a new one) names the second leaf, so that a caller
  // can record it before the snapshot exists: a crash then leaves no VDI
  // that nobody knows of.
  Status SnapshotVdi(const std::string& uuid, SnapshotKind kind,
                     const VdiMeta& meta, Vdi* result,
                     const std::string& snap_uuid = "");
  // Grows a VDI (journaled; shrinking is refused).
  Status ResizeVdi(const std::string& uuid, uint64_t size, Vdi* vdi);
  Status SetMeta(const std::string& uuid, const VdiMeta& meta);
  // Makes `child` a child of `parent` (vdi_compose): relinks it in place.
  Status Compose(const std::string& parent, const std::string& child);

  // Attach markers, one per host (a shared SR): a VDI in use on any host is
  // never leaf-coalesced. AttachVdi checks the VDI and marks it under the SR
  // lock, so it cannot race with a GC renaming the VDI's file.
  Status AttachVdi(const std::string& uuid, const std::string& host, Vdi* vdi);
  Status DetachVdi(const std::string& uuid, const std::string& host);
  bool IsAttached(const std::string& uuid);

  // Garbage collection and coalescing (sr_gc.cc). One GC per SR: kBusy if
  // another is running.
  Status Gc(const GcOptions& options, GcReport* report);

  // Finishes or undoes interrupted snapshots, resizes and GC steps.
  Status Recover();
  // kNoSpace (naming `what`) unless the SR has `bytes` free, and a margin
  // for metadata and journals.
  Status NeedSpace(uint64_t bytes, const std::string& what);

  Status LockSr(std::unique_ptr<FileLock>* lock);

 private:
  Sr(std::unique_ptr<base::ConfinedEnv> env, std::string dir);
  std::string Meta(const std::string& rel) const {
    return dir_ + "/.vhdsm/" + rel;
  }
  std::string JournalPath(const std::string& op, const std::string& uuid) const;
  Status CheckUuid(const std::string& uuid) const;
  Status CheckVdiFile(const std::string& uuid) const;
  Status ScanLocked(std::map<std::string, Vdi>* vdis);
  // Adds the VDI file `name` of the SR to `vdis` with what its header and
  // its parent's say (broken if they cannot be trusted); other names are
  // skipped.
  Status ScanVdiFile(const std::string& name, std::map<std::string, Vdi>* vdis);
  Status RecoverLocked();
  Status RecoverSnapshot(const std::string& uuid, const std::string& journal);
  Status RecoverRelink(const std::string& uuid, const std::string& journal);
  Status RecoverLeaf(const std::string& uuid, const std::string& journal);
  Status RemoveVdiFile(const std::string& uuid);
  std::string AttachMarker(const std::string& uuid,
                           const std::string& host) const;
  Status RelinkChildren(const std::string& node, const std::string& parent);
  int Depth(const std::map<std::string, Vdi>& vdis, const std::string& uuid);

  // The GC's steps (sr_gc.cc), each on one scan `vdis`, skipping the
  // candidates in `no_room` (merges that did not fit).
  // Unlinks every hidden, childless, unbroken VDI; *pruned if any.
  Status PruneLocked(const std::map<std::string, Vdi>& vdis, GcReport* report,
                     bool* pruned);
  // The deepest hidden node whose parent has it as only child ("": none).
  std::string NonLeafCandidate(const std::map<std::string, Vdi>& vdis,
                               const std::set<std::string>& no_room);
  // Merges `node` into `parent` (dropping `*lock`, the SR lock, during the
  // merge and taking it again), then relinks its children and unlinks it.
  Status CoalesceNonLeaf(const std::string& node, const std::string& parent,
                         std::unique_ptr<FileLock>* lock, GcReport* report);
  // An unattached leaf whose hidden parent has it as only child ("": none).
  std::string LeafCandidate(const std::map<std::string, Vdi>& vdis,
                            const std::set<std::string>& no_room);
  // Merges `leaf` into `parent` and gives the parent the leaf's name.
  Status CoalesceLeafLocked(const std::string& leaf, const std::string& parent,
                            GcReport* report);

  std::unique_ptr<base::ConfinedEnv> confined_;
  base::Env* env_;  // confined_
  std::string dir_;
  MetaStore meta_;
};

// Metadata size of an empty VHD of `virtual_size` (what a create or a
// snapshot needs on disk before any data).
uint64_t EmptyVhdBytes(uint64_t virtual_size);

}  // namespace vhdsm

#endif  // VHDSM_SM_SR_H_
