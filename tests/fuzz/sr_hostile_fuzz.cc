// libFuzzer target: an SR whose files are hostile (written by whoever can
// write the SR directory), under scan, GC and snapshot (sm/sr.h).
//
// Each input builds, in a private directory, a fresh SR holding one user
// VDI G with a snapshot (its hidden base B), and an outside directory with
// sentinel files (a 320-byte file, a VHD, a subdirectory). Then each op of
// the input (2 bytes: kind, operand) plants one hostile layer in the SR:
// differencing VHDs whose locators are absolute or climb out with "../",
// whose parent is a symlink to the outside, whose parent uuid is null (a
// "raw parent") or not their named parent's, self and two-layer parent
// loops, a symlink or FIFO under a VDI's name, a leaf above a previous
// layer, or a byte of a header changed (checksum resealed). Then: Scan,
// Gc, a double snapshot of G (image_create's step), Gc again, and a read
// of every VDI through the SR's confined Env.
// Invariants (abort): the outside is byte-identical (files and listing);
// G still reads what it held; Scan and the snapshot of G succeed.
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "sm/sr.h"
#include "vhd/chain.h"
#include "vhd/create.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/inspect.h"
#include "vhd/uuid.h"

namespace {

constexpr uint64_t kMiB = 1 << 20;

[[noreturn]] void Bug(const std::string& what) {
  std::fprintf(stderr, "sr_hostile_fuzz: %s\n", what.c_str());
  std::abort();
}

std::string ReadAll(const std::string& path) {
  std::string s;
  base::ReadFileToString(base::Env::Default(), path, &s, 64 << 20);
  return s;
}

void WriteAll(const std::string& path, const std::string& data) {
  std::unique_ptr<base::File> f;
  if (!base::Env::Default()
           ->Open(path, base::Env::OpenMode::kCreateTruncate, &f)
           .ok() ||
      !f->Write(0, data.data(), data.size()).ok()) {
    Bug("cannot write " + path);
  }
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path);
}

void RemoveTree(const std::string& path) {
  ::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

// Every file under `dir` (not following symlinks) with its bytes.
void Snapshot(const std::string& dir, std::map<std::string, std::string>* m) {
  std::vector<std::string> names;
  base::Env::Default()->ListDir(dir, &names);
  for (const std::string& n : names) {
    std::string p = dir + "/" + n;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      (*m)[p + "/"] = "";
      Snapshot(p, m);
    } else {
      (*m)[p] = S_ISREG(st.st_mode) ? ReadAll(p) : "<special>";
    }
  }
}

std::string View(vhdsm::Sr* sr, const std::string& uuid) {
  vhd::ChainOptions o;
  o.env = sr->env();
  std::unique_ptr<vhd::Chain> c;
  base::Status s = vhd::Chain::Open(sr->VdiPath(uuid), o, &c);
  if (!s.ok()) return "<error> " + s.ToString();
  std::string out(c->virtual_size(), '\0');
  s = c->Read(0, out.size(), out.data());
  return s.ok() ? out : "<error> " + s.ToString();
}

template <typename F>
void EditHeader(const std::string& path, F edit) {
  std::string d = ReadAll(path);
  if (d.size() < 1536) return;
  auto* u = reinterpret_cast<uint8_t*>(d.data());
  vhd::DynamicHeader h = vhd::DynamicHeader::Decode(u + 512);
  edit(&h, &d);
  h.Seal();
  h.Encode(reinterpret_cast<uint8_t*>(d.data()) + 512);
  WriteAll(path, d);
}

void SetHiddenRaw(const std::string& path) {
  std::string d = ReadAll(path);
  if (d.size() < 1024) return;
  for (uint64_t off : {uint64_t{0}, uint64_t{d.size() - 512}}) {
    auto* u = reinterpret_cast<uint8_t*>(d.data()) + off;
    vhd::Footer f = vhd::Footer::Decode(u);
    f.hidden = 1;
    f.Seal();
    f.Encode(u);
  }
  WriteAll(path, d);
}

vhd::Uuid FooterUuid(const std::string& path) {
  std::unique_ptr<vhd::Image> img;
  if (!vhd::OpenImage(base::Env::Default(), path, vhd::OpenOptions(), &img)
           .ok()) {
    return vhd::Uuid();
  }
  return img->footer()->uuid;
}

struct World {
  std::string root, sr, out;
};

World* TheWorld() {
  static World* w = [] {
    auto* w = new World;
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base && *base ? base : "/tmp") + "/vhdsm-sr-hostile-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) Bug("mkdtemp");
    w->root = buf.data();
    w->sr = w->root + "/sr";
    w->out = w->root + "/out";
    std::atexit([] { RemoveTree(TheWorld()->root); });
    return w;
  }();
  return w;
}

// Plants one hostile layer; `names` are the SR's VDI uuids so far.
void Plant(vhdsm::Sr* sr, const World& w, uint8_t kind, uint8_t arg,
           std::vector<std::string>* names) {
  const std::string victim = w.out + "/victim";
  const std::string victim_vhd = w.out + "/victim.vhd";
  const std::string named =
      names->empty() ? std::string("x") : (*names)[arg % names->size()];
  // What an op rewrites is a layer it planted, never G's base (names[0]):
  // changing a VDI's own bytes is not an attack on confinement.
  const std::string planted = names->size() < 2
                                  ? std::string()
                                  : (*names)[1 + arg % (names->size() - 1)];
  std::string h = vhd::Uuid::Generate().ToString();
  std::string path = sr->VdiPath(h);
  base::Env* posix = base::Env::Default();
  vhd::SnapshotParams sp;
  switch (kind % 11) {
    case 0:  // absolute MacX locator to the outside VHD; header names a VDI
    case 1:  // "../" locators to it
      if (!vhd::CreateDifferencing(posix, path, victim_vhd, sp).ok()) return;
      EditHeader(path, [&](vhd::DynamicHeader* hd, std::string* d) {
        hd->SetParentName(named + ".vhd");
        if (kind % 11 != 0) return;
        std::string url = "file://" + victim_vhd;
        if (url.size() > hd->loc[0].SpaceBytes() ||
            hd->loc[0].data_offset + url.size() > d->size()) {
          return;
        }
        d->replace(hd->loc[0].data_offset, url.size(), url);
        hd->loc[0].data_length = static_cast<uint32_t>(url.size());
      });
      break;
    case 2: {  // parent <s>.vhd, a symlink to the outside VHD
      std::string s = vhd::Uuid::Generate().ToString();
      if (::symlink(victim_vhd.c_str(), sr->VdiPath(s).c_str()) != 0) return;
      if (!vhd::CreateDifferencing(posix, path, sr->VdiPath(s), sp).ok()) {
        return;
      }
      EditHeader(path, [&](vhd::DynamicHeader* hd, std::string*) {
        hd->SetParentName(s + ".vhd");
      });
      break;
    }
    case 3:  // raw parent: the 320-byte file
      sp.raw_parent = true;
      if (!vhd::CreateDifferencing(posix, path, victim, sp).ok()) return;
      EditHeader(path, [&](vhd::DynamicHeader* hd, std::string*) {
        hd->SetParentName(named + ".vhd");
      });
      break;
    case 4:  // a VDI's name, another uuid (the outside VHD's)
      if (!vhd::CreateDifferencing(posix, path, sr->VdiPath(named), sp).ok()) {
        return;
      }
      EditHeader(path, [&](vhd::DynamicHeader* hd, std::string*) {
        hd->parent_uuid = FooterUuid(victim_vhd);
      });
      break;
    case 5:  // itself, with its own uuid; locators outside
      sp.uuid = FooterUuid(victim_vhd);
      if (!vhd::CreateDifferencing(posix, path, victim_vhd, sp).ok()) return;
      EditHeader(path, [&](vhd::DynamicHeader* hd, std::string*) {
        hd->SetParentName(h + ".vhd");
      });
      break;
    case 6: {  // a loop of two: h -> planted -> h (rewritten to point up)
      if (planted.empty()) return;
      if (!vhd::CreateDifferencing(posix, path, sr->VdiPath(planted), sp)
               .ok()) {
        return;
      }
      vhd::Uuid hu = FooterUuid(path);
      EditHeader(sr->VdiPath(planted),
                 [&](vhd::DynamicHeader* hd, std::string*) {
                   if (hd->cookie[0] != 'c')
                     return;  // not a dynamic disk's header
                   hd->parent_uuid = hu;
                   hd->SetParentName(h + ".vhd");
                 });
      break;
    }
    case 7:  // a symlink under a VDI's name
      if (::symlink((arg & 1 ? victim : w.out).c_str(), path.c_str()) != 0) {
        return;
      }
      names->push_back(h);
      return;
    case 8:  // a FIFO under a VDI's name
      if (::mkfifo(path.c_str(), 0600) != 0) return;
      names->push_back(h);
      return;
    case 9:  // a leaf above a layer planted before
      if (names->empty()) return;
      if (!vhd::CreateDifferencing(posix, path, sr->VdiPath(named), sp).ok()) {
        return;
      }
      break;
    case 10:  // one header byte of a planted layer, resealed
      if (planted.empty()) return;
      EditHeader(sr->VdiPath(planted),
                 [&](vhd::DynamicHeader* hd, std::string*) {
                   uint8_t raw[vhd::kHeaderSize];
                   hd->Encode(raw);
                   raw[40 + (arg * 7) % (vhd::kHeaderSize - 40)] ^=
                       static_cast<uint8_t>(arg | 1);
                   *hd = vhd::DynamicHeader::Decode(raw);
                 });
      return;
  }
  if (arg & 0x80) SetHiddenRaw(path);
  names->push_back(h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = *TheWorld();
  RemoveTree(w.sr);
  RemoveTree(w.out);
  if (::mkdir(w.sr.c_str(), 0755) != 0 || ::mkdir(w.out.c_str(), 0755) != 0 ||
      ::mkdir((w.out + "/d").c_str(), 0755) != 0) {
    Bug("mkdir");
  }
  std::string sentinel(320, '\0');
  for (size_t i = 0; i < sentinel.size(); ++i) sentinel[i] = char(i * 131);
  WriteAll(w.out + "/victim", sentinel);
  WriteAll(w.out + "/d/victim2", "sentinel\n");
  vhd::CreateParams cp;
  cp.size = 4 * kMiB;
  if (!vhd::CreateVhd(base::Env::Default(), w.out + "/victim.vhd", cp).ok()) {
    Bug("create victim.vhd");
  }
  std::map<std::string, std::string> outside;
  Snapshot(w.out, &outside);

  std::unique_ptr<vhdsm::Sr> sr;
  base::Status s = vhdsm::Sr::Open(w.sr, &sr);
  if (!s.ok()) Bug("open: " + s.ToString());
  vhdsm::Vdi g, b;
  if (!sr->CreateVdi(4 * kMiB, vhdsm::VdiMeta(), "", &g).ok()) Bug("create");
  {
    vhd::ChainOptions o;
    o.writable = true;
    o.env = sr->env();
    std::unique_ptr<vhd::Chain> c;
    std::string d(kMiB, 'g');
    if (!vhd::Chain::Open(g.path, o, &c).ok() ||
        !c->Write(kMiB, d.size(), d.data()).ok() || !c->Flush().ok()) {
      Bug("write G");
    }
  }
  if (!sr->SnapshotVdi(g.uuid, vhdsm::SnapshotKind::kSingle, vhdsm::VdiMeta(),
                       &b)
           .ok()) {
    Bug("snapshot G");
  }
  const std::string g_view = View(sr.get(), g.uuid);
  if (g_view.rfind("<error>", 0) == 0) Bug("G unreadable: " + g_view);

  std::vector<std::string> names = {b.uuid};
  for (size_t i = 0; i + 1 < size && names.size() < 12; i += 2) {
    Plant(sr.get(), w, data[i], data[i + 1], &names);
  }

  auto check = [&](const char* when) {
    std::map<std::string, std::string> now;
    Snapshot(w.out, &now);
    if (now != outside) Bug(std::string("the outside changed ") + when);
    std::string v = View(sr.get(), g.uuid);
    if (v != g_view)
      Bug(std::string("G lost data ") + when + ": " + v.substr(0, 200));
  };
  std::map<std::string, vhdsm::Vdi> vdis;
  s = sr->Scan(&vdis);
  if (!s.ok()) Bug("scan: " + s.ToString());
  if (!vdis.count(g.uuid) || !vdis[g.uuid].broken.ok()) {
    Bug("G reported broken: " + vdis[g.uuid].broken.ToString());
  }
  check("after planting");
  vhdsm::GcReport gr;
  sr->Gc(vhdsm::GcOptions(), &gr);
  check("after gc");
  vhdsm::Vdi snap;
  s = sr->SnapshotVdi(g.uuid, vhdsm::SnapshotKind::kDouble, vhdsm::VdiMeta(),
                      &snap);
  if (!s.ok()) Bug("snapshot of G: " + s.ToString());
  check("after the snapshot");
  sr->DeleteVdi(snap.uuid);
  sr->Gc(vhdsm::GcOptions(), &gr);
  check("after the second gc");
  if (sr->Scan(&vdis).ok()) {
    for (const auto& [uuid, v] : vdis) View(sr.get(), uuid);
  }
  check("at the end");
  return 0;
}
