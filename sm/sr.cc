#include "sm/sr.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <nlohmann/json.hpp>

#include "vhd/chain.h"
#include "vhd/create.h"
#include "vhd/format.h"
#include "vhd/inspect.h"
#include "vhd/modify.h"
#include "vhd/resize.h"
#include "vhd/scan.h"
#include "vhd/uuid.h"

namespace vhdsm {

namespace {

constexpr char kVhdSuffix[] = ".vhd";
// How far up a scan follows parents (loops and absurd depths end there).
constexpr int kMaxScanDepth = 256;

bool IsVdiFileName(const std::string& name, std::string* uuid) {
  if (name.size() != 36 + 4 || name.compare(36, 4, kVhdSuffix) != 0)
    return false;
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(name.substr(0, 36), &u)) return false;
  *uuid = name.substr(0, 36);
  return true;
}

std::string NewUuid() { return vhd::Uuid::Generate().ToString(); }

// Fills every VDI's children from the others' parents.
void LinkChildren(std::map<std::string, Vdi>* vdis) {
  for (auto& [uuid, v] : *vdis) {
    if (v.parent.empty()) continue;
    auto it = vdis->find(v.parent);
    if (it != vdis->end()) it->second.children.push_back(uuid);
  }
}

// A VDI on a parent loop is broken.
void MarkParentLoops(std::map<std::string, Vdi>* vdis) {
  auto parent_of = [&](const std::string& u) -> const std::string& {
    static const std::string kNone;
    auto it = vdis->find(u);
    return it == vdis->end() ? kNone : it->second.parent;
  };
  for (auto& [uuid, v] : *vdis) {
    std::string cur = v.parent;
    for (int d = 0; !cur.empty() && d <= kMaxScanDepth; ++d) {
      if (cur == uuid) {
        v.broken = Status::ChainTooLong(uuid + ".vhd is on a parent loop");
        break;
      }
      cur = parent_of(cur);
    }
  }
}

// So is every VDI above a broken one (reading it would need what is
// refused), or above a chain too deep to walk.
void MarkAboveBroken(std::map<std::string, Vdi>* vdis) {
  for (auto& [uuid, v] : *vdis) {
    if (!v.broken.ok()) continue;
    std::string cur = v.parent;
    for (int d = 0; !cur.empty() && d <= kMaxScanDepth; ++d) {
      auto it = vdis->find(cur);
      if (it == vdis->end()) break;
      const Vdi& p = it->second;
      if (!p.broken.ok() || d == kMaxScanDepth) {
        v.broken =
            Status(p.broken.ok() ? base::Code::kChainTooLong : p.broken.code(),
                   uuid + ".vhd is above a broken layer: " +
                       (p.broken.ok() ? "a chain too deep to walk"
                                      : p.broken.message()));
        break;
      }
      cur = p.parent;
    }
  }
}

}  // namespace

uint64_t EmptyVhdBytes(uint64_t virtual_size) {
  uint64_t entries =
      (virtual_size + vhd::kDefaultBlockSize - 1) / vhd::kDefaultBlockSize;
  return 3 * 512 + vhd::RoundUp(entries * 4, 512) + 512 +
         vhd::RoundUp((entries + 7) / 8, 512) + 3 * 512 + 512;
}

Sr::Sr(std::unique_ptr<base::ConfinedEnv> env, std::string dir)
    : confined_(std::move(env)),
      env_(confined_.get()),
      dir_(std::move(dir)),
      meta_(env_, dir_ + "/.vhdsm/vdi") {}

Status Sr::Open(const std::string& dir_in, std::unique_ptr<Sr>* sr) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::unique_ptr<base::ConfinedEnv> env;
  Status s = base::ConfinedEnv::Open(dir, &env);
  if (s.code() == base::Code::kUnsafePath) return s.Annotate("SR location");
  if (!s.ok()) {
    return Status::NotFound("SR location " + dir + " is not a directory (" +
                            s.message() + ")");
  }
  for (const char* sub : {"/.vhdsm", "/.vhdsm/vdi", "/.vhdsm/journal",
                          "/.vhdsm/attached", "/.vhdsm/tasks"}) {
    std::string p = dir + sub;
    base::FileInfo fi;
    s = env->Stat(p, &fi);
    if (s.code() == base::Code::kNotFound) {
      s = env->Mkdir(p, 0700);
      if (s.ok() || s.code() == base::Code::kExists) s = env->Stat(p, &fi);
    }
    RETURN_IF_ERROR(s);
    if (!fi.is_dir) {
      return Status::UnsafePath(p + " is not a directory" +
                                (fi.is_symlink ? " (a symlink)" : ""));
    }
  }
  sr->reset(new Sr(std::move(env), dir));
  return (*sr)->Recover();
}

std::string Sr::VdiPath(const std::string& uuid) const {
  return dir_ + "/" + uuid + kVhdSuffix;
}

std::string Sr::JournalPath(const std::string& op,
                            const std::string& uuid) const {
  return Meta("journal/" + op + "." + uuid);
}

Status Sr::LockSr(std::unique_ptr<FileLock>* lock) {
  return FileLock::Acquire(env_, Meta("sr.lock"), lock);
}

Status Sr::CheckUuid(const std::string& uuid) const {
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(uuid, &u)) {
    return Status::InvalidArgument("'" + uuid + "' is not a uuid");
  }
  return Status::OK();
}

Status Sr::CheckVdiFile(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  base::FileInfo fi;
  Status s = env_->Stat(VdiPath(uuid), &fi);
  if (!s.ok()) return Status::NotFound("VDI " + uuid + " not found in " + dir_);
  if (fi.is_symlink || !fi.is_regular) {
    return Status::InvalidArgument("VDI " + uuid +
                                   " is not a regular file inside the SR");
  }
  return Status::OK();
}

Status Sr::Space(uint64_t* total, uint64_t* free) {
  return confined_->Space(total, free);
}

Status Sr::NeedSpace(uint64_t bytes, const std::string& what) {
  uint64_t total = 0, free = 0;
  RETURN_IF_ERROR(Space(&total, &free));
  // Keep a margin for metadata and journals.
  constexpr uint64_t kMargin = 1 << 20;
  if (free < bytes + kMargin) {
    return Status::NoSpace(what + " needs " + std::to_string(bytes) +
                           " bytes; the SR has " + std::to_string(free) +
                           " free");
  }
  return Status::OK();
}

Status Sr::ScanVdiFile(const std::string& name,
                       std::map<std::string, Vdi>* vdis) {
  std::string uuid;
  if (!IsVdiFileName(name, &uuid)) return Status::OK();
  base::FileInfo fi;
  if (!env_->Stat(VdiPath(uuid), &fi).ok() || fi.is_symlink || !fi.is_regular) {
    return Status::OK();  // not a VDI (a symlink, a directory...): never opened
  }
  Vdi v;
  v.uuid = uuid;
  v.path = VdiPath(uuid);
  v.physical_utilisation = fi.size;
  // Not fast: the parent of each VHD is resolved (by the confined Env's
  // rule) and checked, not taken from its header on trust.
  vhd::ScanOptions so;
  so.fast = false;
  vhd::ScanRecord r = vhd::ScanFile(env_, VdiPath(uuid), so);
  if (!r.status.ok()) {
    v.broken = r.status.Annotate(name + " cannot be read");
  } else {
    v.virtual_size = r.capacity;
    v.physical_utilisation = r.size;
    v.hidden = r.hidden;
  }
  if (r.status.ok() && r.has_parent) {
    std::string puuid;
    if (!r.parent_status.ok()) {
      v.broken = r.parent_status.Annotate(name + "'s parent");
      // The VDI its header names stays its parent for the GC: never
      // pruned or merged away under it.
      if (IsVdiFileName(base::BaseName(r.parent), &puuid)) v.parent = puuid;
    } else if (!IsVdiFileName(base::BaseName(r.parent), &puuid)) {
      v.broken = Status::Corruption(name + "'s parent '" + r.parent +
                                    "' is not a VDI of this SR");
    } else {
      v.parent = puuid;
    }
  }
  RETURN_IF_ERROR(meta_.Get(uuid, &v.meta));
  (*vdis)[uuid] = std::move(v);
  return Status::OK();
}

Status Sr::ScanLocked(std::map<std::string, Vdi>* vdis) {
  vdis->clear();
  std::vector<std::string> names;
  RETURN_IF_ERROR(env_->ListDir(dir_, &names));
  for (const std::string& name : names) {
    RETURN_IF_ERROR(ScanVdiFile(name, vdis));
  }
  LinkChildren(vdis);
  MarkParentLoops(vdis);
  MarkAboveBroken(vdis);
  return Status::OK();
}

Status Sr::Scan(std::map<std::string, Vdi>* vdis) {
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  return ScanLocked(vdis);
}

Status Sr::CheckChain(const std::string& uuid) {
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(Scan(&vdis));
  auto it = vdis.find(uuid);
  if (it == vdis.end()) return Status::NotFound("VDI " + uuid + " not found");
  return it->second.broken;
}

Status Sr::GetVdi(const std::string& uuid, Vdi* vdi) {
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  vhd::ScanRecord r =
      vhd::ScanFile(env_, VdiPath(uuid), vhd::ScanOptions{true});
  if (!r.status.ok()) return r.status;
  *vdi = Vdi();
  vdi->uuid = uuid;
  vdi->path = VdiPath(uuid);
  vdi->virtual_size = r.capacity;
  vdi->physical_utilisation = r.size;
  vdi->hidden = r.hidden;
  std::string puuid;
  if (r.has_parent && IsVdiFileName(base::BaseName(r.parent), &puuid)) {
    vdi->parent = puuid;
  }
  return meta_.Get(uuid, &vdi->meta);
}

int Sr::Depth(const std::map<std::string, Vdi>& vdis, const std::string& uuid) {
  int d = 0;
  std::string cur = uuid;
  while (!cur.empty() && d <= 256) {
    auto it = vdis.find(cur);
    if (it == vdis.end()) break;
    ++d;
    cur = it->second.parent;
  }
  return d;
}

Status Sr::CreateVdi(uint64_t size, const VdiMeta& meta,
                     const std::string& uuid_in, Vdi* vdi) {
  if (size > kMaxVdiSize) {
    return Status::TooLarge("VDI size must be between 1 MB and " +
                            std::to_string(kMaxVdiSize >> 20) + " MB");
  }
  size = std::max(size, kMinVdiSize);
  size = vhd::RoundUp(size, vhd::kDefaultBlockSize);
  std::string uuid = uuid_in.empty() ? NewUuid() : uuid_in;
  RETURN_IF_ERROR(CheckUuid(uuid));
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  if (env_->Exists(VdiPath(uuid))) {
    return Status::Exists("VDI " + uuid + " already exists");
  }
  RETURN_IF_ERROR(NeedSpace(EmptyVhdBytes(size), "creating a VDI"));
  vhd::CreateParams p;
  p.size = size;
  RETURN_IF_ERROR(vhd::CreateVhd(env_, VdiPath(uuid), p));
  RETURN_IF_ERROR(meta_.Put(uuid, meta));
  lock.reset();
  return GetVdi(uuid, vdi);
}

Status Sr::RemoveVdiFile(const std::string& uuid) {
  Status s = env_->Unlink(VdiPath(uuid));
  if (!s.ok() && s.code() != base::Code::kNotFound) return s;
  RETURN_IF_ERROR(meta_.Remove(uuid));
  return env_->SyncDir(dir_);
}

Status Sr::DeleteVdi(const std::string& uuid) {
  RETURN_IF_ERROR(CheckUuid(uuid));
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  if (!env_->Exists(VdiPath(uuid))) {
    return meta_.Remove(uuid);  // idempotent
  }
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(ScanLocked(&vdis));
  const Vdi& v = vdis[uuid];
  if (!v.children.empty()) {
    // Still a parent: it becomes a hidden node the GC folds away later.
    RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(uuid), true));
    return meta_.Remove(uuid);
  }
  return RemoveVdiFile(uuid);
}

Status Sr::SetMeta(const std::string& uuid, const VdiMeta& meta) {
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  return meta_.Put(uuid, meta);
}

Status Sr::SnapshotVdi(const std::string& uuid, SnapshotKind kind,
                       const VdiMeta& meta, Vdi* result,
                       const std::string& snap_uuid) {
  RETURN_IF_ERROR(CheckUuid(uuid));
  if (!snap_uuid.empty()) {
    RETURN_IF_ERROR(CheckUuid(snap_uuid));
    if (kind != SnapshotKind::kDouble) {
      return Status::InvalidArgument("only a double snapshot takes a uuid");
    }
  }
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  // Under the lock: a GC's leaf coalesce renames the VDI's file meanwhile.
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(ScanLocked(&vdis));
  const Vdi& v = vdis.at(uuid);
  if (v.hidden) {
    return Status::InvalidArgument("VDI " + uuid + " is hidden (a base copy)");
  }
  RETURN_IF_ERROR(v.broken);
  int depth = Depth(vdis, uuid);
  if (depth >= kMaxChainDepth) {
    return Status::ChainTooLong("the snapshot chain of " + uuid + " is " +
                                std::to_string(depth) + " deep");
  }
  bool dbl = kind == SnapshotKind::kDouble;
  RETURN_IF_ERROR(
      NeedSpace(EmptyVhdBytes(v.virtual_size) * (dbl ? 2 : 1), "a snapshot"));

  std::string base = NewUuid();
  std::string snap = !dbl ? "" : snap_uuid.empty() ? NewUuid() : snap_uuid;
  if (env_->Exists(VdiPath(snap))) {
    return Status::Exists("VDI " + snap + " exists already");
  }
  nlohmann::json j = {
      {"op", "snapshot"}, {"vdi", uuid}, {"base", base}, {"snap", snap}};
  std::string journal = JournalPath("snapshot", uuid);
  RETURN_IF_ERROR(base::WriteFileAtomic(env_, journal, j.dump()));
  // 1. The VDI's data becomes the base copy (same inode, new name).
  RETURN_IF_ERROR(env_->Link(VdiPath(uuid), VdiPath(base)));
  // 2. A fresh empty child takes the VDI's name.
  std::string tmp = dir_ + "/." + uuid + ".vhd.new";
  env_->Unlink(tmp);
  RETURN_IF_ERROR(
      vhd::CreateDifferencing(env_, tmp, VdiPath(base), vhd::SnapshotParams()));
  RETURN_IF_ERROR(env_->Rename(tmp, VdiPath(uuid)));
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  // 3. The second leaf.
  if (dbl) {
    RETURN_IF_ERROR(vhd::CreateDifferencing(env_, VdiPath(snap), VdiPath(base),
                                            vhd::SnapshotParams()));
  }
  // 4. Hide the base copy; record who is who.
  RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(base), true));
  VdiMeta base_meta;
  base_meta.name_label = "base copy";
  base_meta.read_only = true;
  base_meta.managed = false;
  if (dbl) {
    RETURN_IF_ERROR(meta_.Put(base, base_meta));
    RETURN_IF_ERROR(meta_.Put(snap, meta));
  } else {
    VdiMeta m = meta;
    m.read_only = true;
    RETURN_IF_ERROR(meta_.Put(base, m));
  }
  RETURN_IF_ERROR(env_->Unlink(journal));
  lock.reset();
  return GetVdi(dbl ? snap : base, result);
}

Status Sr::ResizeVdi(const std::string& uuid, uint64_t size, Vdi* vdi) {
  RETURN_IF_ERROR(CheckVdiFile(uuid));
  if (size > kMaxVdiSize) {
    return Status::TooLarge("VDI size must be at most " +
                            std::to_string(kMaxVdiSize >> 20) + " MB");
  }
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  Vdi cur;
  RETURN_IF_ERROR(GetVdi(uuid, &cur));
  if (cur.hidden) {
    return Status::InvalidArgument("VDI " + uuid + " is hidden (a base copy)");
  }
  size = vhd::RoundUp(std::max(size, kMinVdiSize), vhd::kDefaultBlockSize);
  if (size < cur.virtual_size) {
    return Status::InvalidArgument("shrinking VDI " + uuid + " is not allowed");
  }
  if (size > cur.virtual_size) {
    RETURN_IF_ERROR(NeedSpace(EmptyVhdBytes(size) + 2 * vhd::kDefaultBlockSize,
                              "resizing a VDI"));
    RETURN_IF_ERROR(vhd::ResizeJournaled(env_, VdiPath(uuid), size,
                                         JournalPath("resize", uuid)));
  }
  lock.reset();
  return GetVdi(uuid, vdi);
}

Status Sr::Compose(const std::string& parent, const std::string& child) {
  RETURN_IF_ERROR(CheckVdiFile(parent));
  RETURN_IF_ERROR(CheckVdiFile(child));
  if (parent == child)
    return Status::InvalidArgument("a VDI cannot be its own parent");
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(ScanLocked(&vdis));
  for (const std::string& u : {parent, child}) {
    auto it = vdis.find(u);
    if (it != vdis.end()) RETURN_IF_ERROR(it->second.broken);
  }
  RETURN_IF_ERROR(
      vhd::Relink(env_, VdiPath(child), VdiPath(parent), vhd::RelinkOptions()));
  return vhd::SetHidden(env_, VdiPath(parent), true);  // as sm's FileSR
}

std::string Sr::AttachMarker(const std::string& uuid,
                             const std::string& host) const {
  // xapi names the host on every call; a caller that does not (a script,
  // vhdsm) is this machine, so two such hosts on one NFS SR stay apart.
  std::string h = host;
  if (h.empty()) {
    char name[256] = {0};
    h = gethostname(name, sizeof(name) - 1) == 0 && name[0] ? name : "local";
  }
  for (char& c : h) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  }
  return Meta("attached/" + uuid + "." + h);
}

Status Sr::AttachVdi(const std::string& uuid, const std::string& host,
                     Vdi* vdi) {
  RETURN_IF_ERROR(CheckUuid(uuid));
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  RETURN_IF_ERROR(GetVdi(uuid, vdi));
  if (vdi->hidden) {
    return Status::InvalidArgument("VDI " + uuid + " is hidden (a base copy)");
  }
  // blktap follows locators: a chain that is not intact here is not handed
  // to it.
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(ScanLocked(&vdis));
  auto it = vdis.find(uuid);
  if (it != vdis.end()) RETURN_IF_ERROR(it->second.broken);
  return base::WriteFileAtomic(env_, AttachMarker(uuid, host), host + "\n");
}

Status Sr::DetachVdi(const std::string& uuid, const std::string& host) {
  RETURN_IF_ERROR(CheckUuid(uuid));
  Status s = env_->Unlink(AttachMarker(uuid, host));
  return s.code() == base::Code::kNotFound ? Status::OK() : s;
}

bool Sr::IsAttached(const std::string& uuid) {
  std::vector<std::string> names;
  if (!env_->ListDir(Meta("attached"), &names).ok()) return false;
  for (const std::string& n : names) {
    if (n.size() > uuid.size() && n.compare(0, uuid.size(), uuid) == 0 &&
        n[uuid.size()] == '.' && n.find(".tmp.") == std::string::npos) {
      return true;
    }
  }
  return false;
}

Status Sr::Recover() {
  std::unique_ptr<FileLock> lock;
  RETURN_IF_ERROR(LockSr(&lock));
  return RecoverLocked();
}

Status Sr::RecoverLocked() {
  std::vector<std::string> names;
  RETURN_IF_ERROR(env_->ListDir(Meta("journal"), &names));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    size_t dot = name.find('.');
    if (dot == std::string::npos) continue;
    std::string op = name.substr(0, dot), uuid = name.substr(dot + 1);
    std::string journal = Meta("journal/" + name);
    if (CheckUuid(uuid).ok() == false) continue;  // a temp file
    if (op == "snapshot") {
      RETURN_IF_ERROR(RecoverSnapshot(uuid, journal));
    } else if (op == "resize") {
      RETURN_IF_ERROR(vhd::RevertResize(env_, VdiPath(uuid), journal));
    } else if (op == "relink") {
      RETURN_IF_ERROR(RecoverRelink(uuid, journal));
    } else if (op == "leaf") {
      RETURN_IF_ERROR(RecoverLeaf(uuid, journal));
    } else if (op == "coalesce") {
      // The chain is intact while a merge runs; the GC simply redoes it.
      RETURN_IF_ERROR(env_->Unlink(journal));
    }
  }
  return Status::OK();
}

Status Sr::RecoverSnapshot(const std::string& uuid,
                           const std::string& journal) {
  std::string text;
  RETURN_IF_ERROR(base::ReadFileToString(env_, journal, &text, 4096));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  // The journal is a file in the SR: a wrong type is a damaged journal
  // (dropped, as an unreadable one), never an exception in the GC thread.
  if (j.is_discarded() || !j.is_object() || !j.contains("base") ||
      !j["base"].is_string()) {
    return env_->Unlink(journal);
  }
  std::string base = j["base"].get<std::string>();
  std::string snap = j.contains("snap") && j["snap"].is_string()
                         ? j["snap"].get<std::string>()
                         : "";
  RETURN_IF_ERROR(CheckUuid(base));
  env_->Unlink(dir_ + "/." + uuid + ".vhd.new");
  base::FileInfo a, b;
  bool have_a = env_->Stat(VdiPath(uuid), &a).ok();
  bool have_b = env_->Stat(VdiPath(base), &b).ok();
  if (have_a && have_b && a.dev == b.dev && a.ino == b.ino) {
    // Linked but the new leaf never took the name: undo.
    RETURN_IF_ERROR(env_->Unlink(VdiPath(base)));
  } else if (have_a && have_b) {
    // The VDI is now the base copy's child: finish.
    if (!snap.empty() && CheckUuid(snap).ok() && !env_->Exists(VdiPath(snap))) {
      RETURN_IF_ERROR(vhd::CreateDifferencing(
          env_, VdiPath(snap), VdiPath(base), vhd::SnapshotParams()));
    }
    RETURN_IF_ERROR(vhd::SetHidden(env_, VdiPath(base), true));
    VdiMeta base_meta;
    base_meta.name_label = "base copy";
    base_meta.read_only = true;
    base_meta.managed = false;
    RETURN_IF_ERROR(meta_.Put(base, base_meta));
  }
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  return env_->Unlink(journal);
}

}  // namespace vhdsm
