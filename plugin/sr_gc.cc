// The GC/coalescer of an SR (Sr::Gc) and the recovery of its journals.
//
// Each pass, under the SR lock: recover, scan, then do one thing and start
// over, until there is nothing left to do:
//   1. prune: a hidden VDI with no children holds nothing anyone can read;
//      unlink it (repeatedly: its parent may become prunable);
//   2. non-leaf coalesce: a hidden node X with children whose parent P has
//      no other child: merge X into P (outside the SR lock: the chain reads
//      the same throughout, and vhd::Coalesce resumes), then, journaled
//      ("relink.X"), relink X's children to P and unlink X;
//   3. leaf coalesce: a leaf L that no VM has attached, whose hidden parent P
//      has no other child: merge L into P, then the rename dance, journaled
//      ("leaf.L"): L.vhd -> .L.vhd.old, P.vhd -> L.vhd (so the VDI keeps its
//      uuid and location), unhide, unlink the old leaf.
// A crash at any step is finished by Recover() at the next open.
#include <nlohmann/json.hpp>

#include "plugin/sr.h"
#include "vhd/coalesce.h"
#include "vhd/inspect.h"
#include "vhd/modify.h"

namespace vhdsm {

Status Sr::RelinkChildren(const std::string& node, const std::string& parent) {
  std::map<std::string, Vdi> vdis;
  VHD_RETURN_IF_ERROR(ScanLocked(&vdis));
  auto it = vdis.find(node);
  if (it == vdis.end()) return Status::OK();
  for (const std::string& child : it->second.children) {
    VHD_RETURN_IF_ERROR(vhd::Relink(env_, VdiPath(child), VdiPath(parent),
                                    vhd::RelinkOptions()));
  }
  return Status::OK();
}

Status Sr::RecoverRelink(const std::string& node, const std::string& journal) {
  std::string parent;
  VHD_RETURN_IF_ERROR(vhd::ReadFileToString(env_, journal, &parent));
  while (!parent.empty() && parent.back() == '\n') parent.pop_back();
  VHD_RETURN_IF_ERROR(CheckUuid(parent));
  if (env_->Exists(VdiPath(node))) {
    // The data is in the parent already: finish relinking, then drop node.
    VHD_RETURN_IF_ERROR(RelinkChildren(node, parent));
    VHD_RETURN_IF_ERROR(RemoveVdiFile(node));
  }
  return env_->Unlink(journal);
}

Status Sr::RecoverLeaf(const std::string& leaf, const std::string& journal) {
  std::string parent;
  VHD_RETURN_IF_ERROR(vhd::ReadFileToString(env_, journal, &parent));
  while (!parent.empty() && parent.back() == '\n') parent.pop_back();
  VHD_RETURN_IF_ERROR(CheckUuid(parent));
  std::string old = dir_ + "/." + leaf + ".vhd.old";
  bool have_leaf = env_->Exists(VdiPath(leaf));
  bool have_parent = env_->Exists(VdiPath(parent));
  bool have_old = env_->Exists(old);
  if (have_leaf && have_parent) {
    // Still merging (or merged, not renamed): the chain is intact; the GC
    // will redo the merge.
  } else if (!have_leaf && have_parent && have_old) {
    VHD_RETURN_IF_ERROR(env_->Rename(VdiPath(parent), VdiPath(leaf)));
    have_leaf = true;
  }
  if (have_leaf && !env_->Exists(VdiPath(parent))) {
    VHD_RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(leaf), false));
    if (env_->Exists(old)) VHD_RETURN_IF_ERROR(env_->Unlink(old));
    VHD_RETURN_IF_ERROR(meta_.Remove(parent));
  }
  VHD_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return env_->Unlink(journal);
}

Status Sr::Gc(const GcOptions& options, GcReport* report) {
  *report = GcReport();
  std::unique_ptr<FileLock> gc_lock;
  VHD_RETURN_IF_ERROR(options.wait
                          ? FileLock::Acquire(Meta("gc.lock"), &gc_lock)
                          : FileLock::TryAcquire(Meta("gc.lock"), &gc_lock));
  auto stop = [&] { return options.should_stop && options.should_stop(); };
  for (int pass = 0; pass < 100000 && !stop(); ++pass) {
    std::unique_ptr<FileLock> lock;
    VHD_RETURN_IF_ERROR(LockSr(&lock));
    VHD_RETURN_IF_ERROR(RecoverLocked());
    std::map<std::string, Vdi> vdis;
    VHD_RETURN_IF_ERROR(ScanLocked(&vdis));

    // 1. Prune.
    bool pruned = false;
    for (const auto& [uuid, v] : vdis) {
      if (v.hidden && v.children.empty()) {
        VHD_RETURN_IF_ERROR(RemoveVdiFile(uuid));
        report->pruned++;
        report->removed.push_back(uuid);
        pruned = true;
      }
    }
    if (pruned) continue;

    // 2. Non-leaf coalesce: the deepest candidate first (shortens the
    // longest chain).
    std::string node;
    int best = -1;
    for (const auto& [uuid, v] : vdis) {
      if (!v.hidden || v.children.empty() || v.parent.empty()) continue;
      auto p = vdis.find(v.parent);
      if (p == vdis.end() || p->second.children.size() != 1) continue;
      int d = Depth(vdis, uuid);
      if (d > best) {
        best = d;
        node = uuid;
      }
    }
    if (!node.empty()) {
      const std::string parent = vdis[node].parent;
      std::string cj = JournalPath("coalesce", node);
      VHD_RETURN_IF_ERROR(vhd::WriteFileAtomic(env_, cj, parent + "\n"));
      lock.reset();  // the long merge runs outside the SR lock
      vhd::CoalesceResult cr;
      VHD_RETURN_IF_ERROR(
          vhd::Coalesce(env_, VdiPath(node), vhd::CoalesceOptions(), &cr));
      report->bytes_merged += cr.sectors << vhd::kSectorShift;
      VHD_RETURN_IF_ERROR(LockSr(&lock));
      std::string rj = JournalPath("relink", node);
      VHD_RETURN_IF_ERROR(vhd::WriteFileAtomic(env_, rj, parent + "\n"));
      env_->Unlink(cj);
      VHD_RETURN_IF_ERROR(RelinkChildren(node, parent));
      VHD_RETURN_IF_ERROR(RemoveVdiFile(node));
      VHD_RETURN_IF_ERROR(env_->Unlink(rj));
      report->coalesced++;
      report->removed.push_back(node);
      continue;
    }

    // 3. Leaf coalesce (under the SR lock: nobody may attach meanwhile).
    if (!options.leaf_coalesce) break;
    std::string leaf;
    for (const auto& [uuid, v] : vdis) {
      if (v.hidden || !v.children.empty() || v.parent.empty()) continue;
      auto p = vdis.find(v.parent);
      if (p == vdis.end() || !p->second.hidden ||
          p->second.children.size() != 1 || IsAttached(uuid)) {
        continue;
      }
      leaf = uuid;
      break;
    }
    if (leaf.empty()) break;
    const std::string parent = vdis[leaf].parent;
    std::string lj = JournalPath("leaf", leaf);
    VHD_RETURN_IF_ERROR(vhd::WriteFileAtomic(env_, lj, parent + "\n"));
    vhd::CoalesceResult cr;
    VHD_RETURN_IF_ERROR(
        vhd::Coalesce(env_, VdiPath(leaf), vhd::CoalesceOptions(), &cr));
    report->bytes_merged += cr.sectors << vhd::kSectorShift;
    std::string old = dir_ + "/." + leaf + ".vhd.old";
    VHD_RETURN_IF_ERROR(env_->Rename(VdiPath(leaf), old));
    VHD_RETURN_IF_ERROR(env_->Rename(VdiPath(parent), VdiPath(leaf)));
    VHD_RETURN_IF_ERROR(env_->SyncDir(dir_));
    VHD_RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(leaf), false));
    VHD_RETURN_IF_ERROR(env_->Unlink(old));
    VHD_RETURN_IF_ERROR(meta_.Remove(parent));
    VHD_RETURN_IF_ERROR(env_->SyncDir(dir_));
    VHD_RETURN_IF_ERROR(env_->Unlink(lj));
    report->leaf_coalesced++;
    report->removed.push_back(parent);
  }
  return Status::OK();
}

}  // namespace vhdsm
