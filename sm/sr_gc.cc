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
// A crash at any step is finished by Recover() at the next open. A VDI whose
// chain is broken (Vdi::broken: a parent outside the rules of sr.h) is never
// pruned, merged, merged into or relinked: the GC works around it.
//
// A merge writes the child's blocks into the parent: it starts only when the
// SR has room for the child's whole file (NeedSpace), so that a full SR
// fails with kNoSpace having changed nothing; a candidate that does not fit
// is skipped and the others still run (kNoSpace is returned at the end).
// When nothing is left to do, temporaries that interrupted processes left
// behind are swept (SweepStale): no file but <uuid>.vhd and .vhdsm/ outlives
// a complete GC.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "sm/sr.h"
#include "vhd/coalesce.h"
#include "vhd/inspect.h"
#include "vhd/modify.h"
#include "vhd/resize.h"
#include "vhd/uuid.h"

namespace vhdsm {

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The writer of a base::WriteFileAtomic temporary "<name>.tmp.<pid>.<n>",
// or 0 when `name` is not one.
pid_t AtomicTempWriter(const std::string& name) {
  size_t at = name.rfind(".tmp.");
  if (at == std::string::npos) return 0;
  std::string rest = name.substr(at + 5);
  size_t dot = rest.find('.');
  if (dot == std::string::npos || dot == 0) return 0;
  pid_t pid = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (rest[i] < '0' || rest[i] > '9' || pid > 1 << 24) return 0;
    pid = pid * 10 + (rest[i] - '0');
  }
  return pid;
}

// A vhd::CreateVhd/CreateDifferencing temporary ".<name>.tmp-<digits>".
bool IsCreateTemp(const std::string& name) {
  size_t at = name.rfind(".tmp-");
  return at != std::string::npos && at + 5 < name.size() &&
         name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

// No such process, or a zombie (killed, not yet reaped: it writes no more).
bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // /proc files report size 0: read them with read(2), not by their size.
  char buf[512];
  int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(),
                  O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  if (n <= 0) return false;
  std::string stat(buf, n);
  size_t paren = stat.rfind(')');  // the name may hold spaces and parens
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'Z';
}

// Removes what interrupted operations left in the SR, once the GC has
// nothing left to do. Runs under the SR lock and the GC lock: every writer
// of the SR's VHD files, their temporaries and the GC's journals holds one
// of them, so what is found here is stale; a temporary of a metadata file
// (records of tasks, which are written without the SR lock) is removed only
// when the process that wrote it is gone.
//   .<uuid>.vhd.tmp-N      a VHD being created (vhd::CreateVhd & co)
//   .<uuid>.vhd.new/.old   a snapshot's new leaf; a leaf coalesce's old leaf
//                          (their journals have been recovered already)
//   .<uuid>.vhd.coalesce   a merge's resume point: nothing is left to merge
//   ....coalesce.resize    a parent's interrupted grow: reverted
//   ....tmp.<pid>.<n>      base::WriteFileAtomic's temporary
//   .vhdsm/vdi/<uuid>.json, .vhdsm/attached/<uuid>.<host>
//                          a VDI's record and attach markers once its file
//                          is gone (a process killed between the unlink of
//                          the file and that of the record)
// Best effort: a failure leaves the file for the next GC.
void SweepStale(base::Env* env, const std::string& dir) {
  std::vector<std::string> names;
  if (env->ListDir(dir, &names).ok()) {
    for (const std::string& n : names) {
      if (n.size() < 2 || n[0] != '.' || n == ".vhdsm") continue;
      std::string path = dir + "/" + n;
      base::FileInfo fi;
      if (!env->Stat(path, &fi).ok() || !fi.is_regular) continue;
      const std::string kResize = ".coalesce.resize";
      if (EndsWith(n, ".vhd" + kResize)) {
        std::string parent =
            dir + "/" + n.substr(1, n.size() - 1 - kResize.size());
        if (env->Exists(parent)) {
          vhd::RevertResize(env, parent, path);  // removes the journal
          continue;
        }
      } else if (!EndsWith(n, ".vhd.new") && !EndsWith(n, ".vhd.old") &&
                 !EndsWith(n, ".vhd.coalesce") && !IsCreateTemp(n) &&
                 AtomicTempWriter(n) == 0) {
        continue;  // not ours
      }
      env->Unlink(path);
    }
  }
  for (const char* sub : {"journal", "vdi", "attached", "tasks"}) {
    std::string d = dir + "/.vhdsm/" + sub;
    if (!env->ListDir(d, &names).ok()) continue;
    const bool per_vdi =
        sub == std::string("vdi") || sub == std::string("attached");
    vhd::Uuid id;
    for (const std::string& n : names) {
      pid_t writer = AtomicTempWriter(n);
      if (writer != 0) {
        if (ProcessGone(writer)) env->Unlink(d + "/" + n);
      } else if (per_vdi && n.size() > 36 && n[36] == '.' &&
                 vhd::Uuid::Parse(n.substr(0, 36), &id) &&
                 !env->Exists(dir + "/" + n.substr(0, 36) + ".vhd")) {
        env->Unlink(d + "/" + n);
      }
    }
  }
  env->SyncDir(dir);
}

}  // namespace

Status Sr::RelinkChildren(const std::string& node, const std::string& parent) {
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(ScanLocked(&vdis));
  auto it = vdis.find(node);
  if (it == vdis.end()) return Status::OK();
  for (const std::string& child : it->second.children) {
    RETURN_IF_ERROR(vhd::Relink(env_, VdiPath(child), VdiPath(parent),
                                vhd::RelinkOptions()));
  }
  return Status::OK();
}

Status Sr::RecoverRelink(const std::string& node, const std::string& journal) {
  std::string parent;
  RETURN_IF_ERROR(base::ReadFileToString(env_, journal, &parent, 4096));
  while (!parent.empty() && parent.back() == '\n') parent.pop_back();
  RETURN_IF_ERROR(CheckUuid(parent));
  if (env_->Exists(VdiPath(node))) {
    // The data is in the parent already: finish relinking, then drop node.
    RETURN_IF_ERROR(RelinkChildren(node, parent));
    RETURN_IF_ERROR(RemoveVdiFile(node));
  }
  return env_->Unlink(journal);
}

Status Sr::RecoverLeaf(const std::string& leaf, const std::string& journal) {
  std::string parent;
  RETURN_IF_ERROR(base::ReadFileToString(env_, journal, &parent, 4096));
  while (!parent.empty() && parent.back() == '\n') parent.pop_back();
  RETURN_IF_ERROR(CheckUuid(parent));
  std::string old = dir_ + "/." + leaf + ".vhd.old";
  bool have_leaf = env_->Exists(VdiPath(leaf));
  bool have_parent = env_->Exists(VdiPath(parent));
  bool have_old = env_->Exists(old);
  if (have_leaf && have_parent) {
    // Still merging (or merged, not renamed): the chain is intact; the GC
    // will redo the merge.
  } else if (!have_leaf && have_parent && have_old) {
    RETURN_IF_ERROR(env_->Rename(VdiPath(parent), VdiPath(leaf)));
    have_leaf = true;
  }
  if (have_leaf && !env_->Exists(VdiPath(parent))) {
    RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(leaf), false));
    if (env_->Exists(old)) RETURN_IF_ERROR(env_->Unlink(old));
    RETURN_IF_ERROR(meta_.Remove(parent));
  }
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  return env_->Unlink(journal);
}

Status Sr::PruneLocked(const std::map<std::string, Vdi>& vdis, GcReport* report,
                       bool* pruned) {
  *pruned = false;
  for (const auto& [uuid, v] : vdis) {
    if (v.hidden && v.children.empty() && v.broken.ok()) {
      RETURN_IF_ERROR(RemoveVdiFile(uuid));
      report->pruned++;
      report->removed.push_back(uuid);
      *pruned = true;
    }
  }
  return Status::OK();
}

std::string Sr::NonLeafCandidate(const std::map<std::string, Vdi>& vdis,
                                 const std::set<std::string>& no_room) {
  std::string node;
  int best = -1;
  for (const auto& [uuid, v] : vdis) {
    if (!v.hidden || v.children.empty() || v.parent.empty() ||
        no_room.count(uuid) || !v.broken.ok()) {
      continue;
    }
    auto p = vdis.find(v.parent);
    if (p == vdis.end() || p->second.children.size() != 1 ||
        !p->second.broken.ok()) {
      continue;
    }
    // Its children are relinked afterwards: not one that only names it
    // (whose own parent check failed).
    bool child_broken = false;
    for (const std::string& c : v.children) {
      auto ci = vdis.find(c);
      child_broken |= ci == vdis.end() || !ci->second.broken.ok();
    }
    if (child_broken) continue;
    int d = Depth(vdis, uuid);
    if (d > best) {
      best = d;
      node = uuid;
    }
  }
  return node;
}

Status Sr::CoalesceNonLeaf(const std::string& node, const std::string& parent,
                           std::unique_ptr<FileLock>* lock, GcReport* report) {
  std::string cj = JournalPath("coalesce", node);
  RETURN_IF_ERROR(base::WriteFileAtomic(env_, cj, parent + "\n"));
  // The long merge runs outside the SR lock; growing the parent first,
  // during which a scan could not open it, does not.
  vhd::CoalesceResult cr;
  vhd::CoalesceOptions grow;
  grow.grow_parent_only = true;
  RETURN_IF_ERROR(vhd::Coalesce(env_, VdiPath(node), grow, &cr));
  lock->reset();
  RETURN_IF_ERROR(
      vhd::Coalesce(env_, VdiPath(node), vhd::CoalesceOptions(), &cr));
  report->bytes_merged += cr.sectors << vhd::kSectorShift;
  RETURN_IF_ERROR(LockSr(lock));
  std::string rj = JournalPath("relink", node);
  RETURN_IF_ERROR(base::WriteFileAtomic(env_, rj, parent + "\n"));
  env_->Unlink(cj);
  RETURN_IF_ERROR(RelinkChildren(node, parent));
  RETURN_IF_ERROR(RemoveVdiFile(node));
  RETURN_IF_ERROR(env_->Unlink(rj));
  report->coalesced++;
  report->removed.push_back(node);
  return Status::OK();
}

std::string Sr::LeafCandidate(const std::map<std::string, Vdi>& vdis,
                              const std::set<std::string>& no_room) {
  for (const auto& [uuid, v] : vdis) {
    if (v.hidden || !v.children.empty() || v.parent.empty() ||
        no_room.count(uuid) || !v.broken.ok()) {
      continue;
    }
    auto p = vdis.find(v.parent);
    if (p == vdis.end() || !p->second.hidden || !p->second.broken.ok() ||
        p->second.children.size() != 1 || IsAttached(uuid)) {
      continue;
    }
    return uuid;
  }
  return "";
}

Status Sr::CoalesceLeafLocked(const std::string& leaf,
                              const std::string& parent, GcReport* report) {
  std::string lj = JournalPath("leaf", leaf);
  RETURN_IF_ERROR(base::WriteFileAtomic(env_, lj, parent + "\n"));
  vhd::CoalesceResult cr;
  RETURN_IF_ERROR(
      vhd::Coalesce(env_, VdiPath(leaf), vhd::CoalesceOptions(), &cr));
  report->bytes_merged += cr.sectors << vhd::kSectorShift;
  std::string old = dir_ + "/." + leaf + ".vhd.old";
  RETURN_IF_ERROR(env_->Rename(VdiPath(leaf), old));
  RETURN_IF_ERROR(env_->Rename(VdiPath(parent), VdiPath(leaf)));
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(leaf), false));
  RETURN_IF_ERROR(env_->Unlink(old));
  RETURN_IF_ERROR(meta_.Remove(parent));
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  RETURN_IF_ERROR(env_->Unlink(lj));
  report->leaf_coalesced++;
  report->removed.push_back(parent);
  return Status::OK();
}

Status Sr::Gc(const GcOptions& options, GcReport* report) {
  *report = GcReport();
  std::unique_ptr<FileLock> gc_lock;
  RETURN_IF_ERROR(options.wait
                      ? FileLock::Acquire(env_, Meta("gc.lock"), &gc_lock)
                      : FileLock::TryAcquire(env_, Meta("gc.lock"), &gc_lock));
  auto stop = [&] { return options.should_stop && options.should_stop(); };
  // Merges skipped for want of space (NeedSpace), by the child's uuid.
  std::set<std::string> no_room;
  Status no_space;
  auto fits = [&](const Vdi& child) {
    Status s = NeedSpace(child.physical_utilisation,
                         "coalescing VDI " + child.uuid + " into its parent");
    if (s.ok()) return true;
    no_room.insert(child.uuid);
    no_space = s;
    return false;
  };
  for (int pass = 0; pass < 100000 && !stop(); ++pass) {
    std::unique_ptr<FileLock> lock;
    RETURN_IF_ERROR(LockSr(&lock));
    RETURN_IF_ERROR(RecoverLocked());
    std::map<std::string, Vdi> vdis;
    RETURN_IF_ERROR(ScanLocked(&vdis));
    bool pruned = false;
    RETURN_IF_ERROR(PruneLocked(vdis, report, &pruned));
    if (pruned) continue;
    std::string node = NonLeafCandidate(vdis, no_room);
    if (!node.empty()) {
      if (fits(vdis[node])) {
        RETURN_IF_ERROR(
            CoalesceNonLeaf(node, vdis[node].parent, &lock, report));
      }
      continue;
    }
    // Under the SR lock: nobody may attach the leaf meanwhile.
    std::string leaf =
        options.leaf_coalesce ? LeafCandidate(vdis, no_room) : std::string();
    if (leaf.empty()) {
      // Nothing left to do (but what did not fit).
      SweepStale(env_, dir_);
      return no_room.empty() ? Status::OK() : no_space;
    }
    if (fits(vdis[leaf])) {
      RETURN_IF_ERROR(CoalesceLeafLocked(leaf, vdis[leaf].parent, report));
    }
  }
  return Status::OK();
}

}  // namespace vhdsm
