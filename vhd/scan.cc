#include "vhd/scan.h"

#include <cstring>
#include <memory>

#include "vhd/chain.h"
#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

namespace vhd {

namespace {

ScanRecord Failed(ScanRecord r, const base::Status& s, const char* what) {
  r.status = s;
  r.error = what;
  return r;
}

// Fast mode: the footer copy at 0 and the header from the first 1536
// bytes, as vhd-util's fast scan reads them.
ScanRecord ScanFast(base::File* f, const std::string& path, ScanRecord r) {
  uint8_t buf[kFooterSize + kHeaderSize];
  base::Status s = f->Read(0, sizeof(buf), buf);
  if (!s.ok()) return Failed(r, s, "opening file");
  Footer footer = Footer::Decode(buf);
  bool legacy = false;
  if (!FooterChecksumAcceptable(footer, &legacy) || !footer.IsDynamicOrDiff()) {
    // Not a dynamic disk's copy at 0: a fixed disk, or a damaged copy.
    FooterInfo info;
    s = ReadFooter(f, &info);
    if (!s.ok()) return Failed(r, s, "opening file");
    footer = info.footer;
  }
  r.capacity = footer.curr_size;
  r.hidden = footer.hidden != 0;
  r.fixed = footer.disk_type() == DiskType::kFixed;
  r.uuid = footer.uuid;
  if (footer.disk_type() != DiskType::kDifferencing) return r;
  if (footer.data_offset != kSectorSize) {
    s = base::Status::Corruption(path + ": header not at 512");
    return Failed(r, s, "opening file");
  }
  DynamicHeader h = DynamicHeader::Decode(buf + kFooterSize);
  if (!h.CookieOk() || !h.ChecksumOk()) {
    return Failed(r, base::Status::Corruption(path + ": bad header"),
                  "opening file");
  }
  std::string name;
  if (!h.DecodeParentName(&name)) {
    return Failed(r, base::Status::Corruption(path + ": bad parent name"),
                  "getting parent");
  }
  r.has_parent = true;
  r.parent = name;
  return r;
}

// A differencing disk's parent, as the record names it; false (*s the
// failure) when no name can be given.
bool NameParent(base::Env* env, Image* img, SparseImage* sp, ScanRecord* r,
                base::Status* s) {
  r->has_parent = true;
  std::string parent;
  bool raw = false;
  *s = FindParent(env, img, &parent, &raw);
  r->parent_status = *s;
  if (s->ok() && !env->follows_locators()) {
    r->parent = parent;  // confined: a name next to the child, as is
  } else if (s->ok()) {
    std::string canon;
    r->parent = env->Realpath(parent, &canon).ok() ? canon : parent;
  } else if (!env->follows_locators()) {
    // Confined: the header's name (no locator is read); the record says
    // why it is not a parent.
    std::string name;
    if (sp->header().DecodeParentName(&name)) r->parent = name;
  } else {
    // Unresolved: the best locator's string (MacX first), as vhd-util.
    for (int i = 0; i < kParentLocatorCount && r->parent.empty(); ++i) {
      std::string p;
      if (sp->LocatorPath(i, &p).ok()) r->parent = p;
    }
    if (r->parent.empty()) return false;
  }
  return true;
}

}  // namespace

// Every failure to read the footer and header is vhd-util's "opening file"
// (its open reads them), fast mode included.
ScanRecord ScanFile(base::Env* env, const std::string& path,
                    const ScanOptions& options) {
  ScanRecord r;
  r.path = path;
  base::FileInfo fi;
  base::Status s = env->Stat(path, &fi);
  if (!s.ok()) return Failed(r, s, "opening file");
  r.size = fi.size;
  std::unique_ptr<base::File> f;
  s = env->Open(path, base::Env::OpenMode::kReadOnly, &f);
  if (!s.ok()) return Failed(r, s, "opening file");
  if (options.fast) return ScanFast(f.get(), path, r);

  std::unique_ptr<Image> img;
  s = OpenImage(env, path, OpenOptions(), &img);
  if (!s.ok()) return Failed(r, s, "opening file");
  const Footer& footer = *img->footer();
  r.capacity = footer.curr_size;
  r.hidden = footer.hidden != 0;
  r.fixed = img->type() == DiskType::kFixed;
  r.uuid = footer.uuid;
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp != nullptr && sp->expects_batmap() && sp->LoadBat().ok() &&
      sp->has_batmap()) {
    r.marker = sp->batmap_header().marker;
  }
  if (img->type() == DiskType::kDifferencing &&
      !NameParent(env, img.get(), sp, &r, &s)) {
    return Failed(r, s, "getting parent");
  }
  return r;
}

}  // namespace vhd
