#include "vhd/modify.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "vhd/chain.h"
#include "vhd/create.h"
#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/sparse_image.h"

namespace vhd {

namespace {

base::Status OpenSparseWritable(base::Env* env, const std::string& path,
                                std::unique_ptr<SparseImage>* out) {
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, o, &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) {
    return base::Status::NotSupported(path +
                                      " is not a dynamic or differencing disk");
  }
  img.release();
  out->reset(sp);
  return base::Status::OK();
}

// Compares, over every sector `child` does not hold, the view through
// `old_chain` (the child's current parent) with the view through `new_parent`.
base::Status SameContentUnderChild(base::Env* env, const std::string& child,
                                   const std::string& new_parent, bool raw) {
  ChainOptions co;
  co.env = env;
  std::unique_ptr<Chain> with_child;
  RETURN_IF_ERROR(Chain::Open(child, co, &with_child));
  std::unique_ptr<Chain> newc;
  std::unique_ptr<Image> raw_img;
  if (!raw) RETURN_IF_ERROR(Chain::Open(new_parent, co, &newc));
  if (raw)
    RETURN_IF_ERROR(OpenRawImage(env, new_parent, OpenOptions(), &raw_img));
  uint64_t total = SectorsOf(with_child->virtual_size());
  uint64_t new_size = raw ? raw_img->virtual_size() : newc->virtual_size();
  std::vector<Extent> ext;
  std::vector<uint8_t> a, b;
  constexpr uint64_t kChunk = 4096;  // sectors
  for (uint64_t s = 0; s < total; s += kChunk) {
    uint64_t n = std::min(kChunk, total - s);
    RETURN_IF_ERROR(with_child->Map(s, n, &ext));
    for (const Extent& e : ext) {
      if (e.image == with_child->leaf()) continue;  // the child covers it
      uint64_t off = e.sector << kSectorShift;
      uint64_t len = std::min<uint64_t>(e.count << kSectorShift,
                                        with_child->virtual_size() - off);
      a.resize(len);
      b.assign(len, 0);
      RETURN_IF_ERROR(with_child->Read(off, len, a.data()));
      if (off < new_size) {
        uint64_t m = std::min(len, new_size - off);
        if (raw) {
          RETURN_IF_ERROR(raw_img->file()->Read(off, m, b.data()));
        } else {
          RETURN_IF_ERROR(newc->Read(off, m, b.data()));
        }
      }
      if (a != b) {
        return base::Status::InvalidArgument(
            new_parent + " differs from the current parent at byte " +
            std::to_string(off) + " where " + child + " does not cover it");
      }
    }
  }
  return base::Status::OK();
}

// Every locator slot must be one blktap can parse (data_space in sectors
// below 512, else bytes that are a multiple of 512), at most
// kMaxLocatorBytes, and lie between the header and the footer without
// touching the BAT: its space is then written or kept in place, never used
// to size an allocation or to move the end of the file.
base::Status CheckLocatorSlots(SparseImage* img) {
  const DynamicHeader& h = img->header();
  const uint64_t header_end = img->footer()->data_offset + kHeaderSize;
  const uint64_t bat_end =
      h.table_offset + RoundUp(uint64_t{h.max_table_entries} * 4, kSectorSize);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocatorEntry& e = h.loc[i];
    if (e.code == 0) continue;
    const uint64_t space = e.SpaceBytes();
    const char* why = nullptr;
    if (e.data_space >= kSectorSize && e.data_space % kSectorSize != 0) {
      why = "is neither sectors nor a multiple of 512 bytes";
    } else if (space == 0 || space > kMaxLocatorBytes) {
      why = "is beyond the 64 KiB a locator may hold";
    } else if (e.data_offset < header_end ||
               e.data_offset > img->footer_offset() ||
               space > img->footer_offset() - e.data_offset) {
      why = "lies outside the file's metadata";
    } else if (e.data_offset < bat_end &&
               e.data_offset + space > h.table_offset) {
      why = "overlaps the BAT";
    }
    if (why != nullptr) {
      return base::Status::Corruption(
          img->path() + ": parent locator " + std::to_string(i) + " (space " +
          std::to_string(e.data_space) + " at offset " +
          std::to_string(e.data_offset) + ") " + why);
    }
  }
  return base::Status::OK();
}

}  // namespace

base::Status Relink(base::Env* env, const std::string& child,
                    const std::string& parent, const RelinkOptions& options) {
  std::string canon;
  RETURN_IF_ERROR(env->Realpath(parent, &canon));
  base::FileInfo pi;
  RETURN_IF_ERROR(env->Stat(canon, &pi));
  if (!pi.is_regular) {
    return base::Status::InvalidArgument(parent + " is not a regular file");
  }
  Uuid parent_uuid;
  if (!options.raw_parent) {
    std::unique_ptr<Image> p;
    RETURN_IF_ERROR(OpenImage(env, canon, OpenOptions(), &p));
    parent_uuid = p->footer()->uuid;
    if (parent_uuid.IsNull()) {
      return base::Status::Corruption(parent + " has a null uuid");
    }
  }
  if (options.check_content) {
    RETURN_IF_ERROR(
        SameContentUnderChild(env, child, canon, options.raw_parent));
  }
  std::unique_ptr<SparseImage> img;
  RETURN_IF_ERROR(OpenSparseWritable(env, child, &img));
  if (img->type() != DiskType::kDifferencing) {
    return base::Status::InvalidArgument(child + " is not a differencing disk");
  }
  std::vector<LocatorPayload> payloads;
  RETURN_IF_ERROR(ParentLocators(env, child, canon, &payloads));
  RETURN_IF_ERROR(CheckLocatorSlots(img.get()));
  DynamicHeader h = img->header();
  // Check every slot first: all or nothing.
  for (const ParentLocatorEntry& e : h.loc) {
    for (const LocatorPayload& p : payloads) {
      if (e.code == static_cast<uint32_t>(p.code) &&
          RoundUp(p.bytes.size(), kSectorSize) > e.SpaceBytes()) {
        return base::Status::NameTooLong("the path to " + parent +
                                         " does not fit in the locator of " +
                                         child);
      }
    }
  }
  for (int i = 0; i < kParentLocatorCount; ++i) {
    ParentLocatorEntry& e = h.loc[i];
    for (const LocatorPayload& p : payloads) {
      if (e.code != static_cast<uint32_t>(p.code)) continue;
      std::vector<uint8_t> slot(e.SpaceBytes(), 0);
      std::copy(p.bytes.begin(), p.bytes.end(), slot.begin());
      RETURN_IF_ERROR(
          img->file()->Write(e.data_offset, slot.data(), slot.size()));
      e.data_length = static_cast<uint32_t>(p.bytes.size());
    }
  }
  h.parent_uuid = parent_uuid;
  h.parent_timestamp = VhdTimeFromUnix(pi.mtime);
  RETURN_IF_ERROR(h.SetParentName(base::BaseName(canon)));
  RETURN_IF_ERROR(img->file()->Sync());
  RETURN_IF_ERROR(img->WriteHeader(h));
  return img->Flush();
}

base::Status KillData(base::Env* env, const std::string& path) {
  std::unique_ptr<SparseImage> img;
  RETURN_IF_ERROR(OpenSparseWritable(env, path, &img));
  RETURN_IF_ERROR(img->LoadBat());
  if (img->type() == DiskType::kDifferencing) {
    RETURN_IF_ERROR(CheckLocatorSlots(img.get()));
  }
  const DynamicHeader& h = img->header();
  base::File* f = img->file();
  uint64_t entries = h.max_table_entries;
  uint64_t bat_bytes = RoundUp(entries * 4, kSectorSize);
  std::vector<uint8_t> bat(bat_bytes, 0);
  std::memset(bat.data(), 0xff, entries * 4);
  RETURN_IF_ERROR(f->Write(h.table_offset, bat.data(), bat.size()));
  uint64_t eoh = std::max(img->footer()->data_offset + kHeaderSize,
                          h.table_offset + bat_bytes);
  if (img->has_batmap()) {
    BatmapHeader bh = img->batmap_header();
    std::vector<uint8_t> buf(
        kSectorSize + uint64_t{bh.batmap_size} * kSectorSize, 0);
    bh.checksum = BatmapHeader::MapChecksum(nullptr, 0, bh.batmap_version);
    bh.Encode(buf.data());
    uint64_t hoff = img->batmap_header_offset();
    if (bh.batmap_offset == hoff + kSectorSize) {
      RETURN_IF_ERROR(f->Write(hoff, buf.data(), buf.size()));
    } else {
      RETURN_IF_ERROR(f->Write(bh.batmap_offset, buf.data() + kSectorSize,
                               buf.size() - kSectorSize));
      RETURN_IF_ERROR(f->Write(hoff, buf.data(), kSectorSize));
    }
    eoh = std::max(
        {eoh, hoff + kSectorSize, bh.batmap_offset + buf.size() - kSectorSize});
  }
  for (const ParentLocatorEntry& e : h.loc) {
    if (e.code != 0) eoh = std::max(eoh, e.data_offset + e.SpaceBytes());
  }
  RETURN_IF_ERROR(f->Sync());
  RETURN_IF_ERROR(WriteFooterAt(f, *img->footer(), eoh));
  RETURN_IF_ERROR(f->Truncate(eoh + kFooterSize));
  return f->Sync();
}

base::Status SetPhysicalSize(base::Env* env, const std::string& path,
                             uint64_t size) {
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, o, &img));
  uint64_t phys = 0;
  if (auto* sp = dynamic_cast<SparseImage*>(img.get())) {
    RETURN_IF_ERROR(sp->LoadBat());
    phys = sp->end_of_data() + kFooterSize;
  } else if (img->type() == DiskType::kFixed) {
    // The data, then the footer (vhd-util moves a fixed disk's footer too;
    // the old one stays behind the data, where nothing reads it).
    phys = img->virtual_size() + kFooterSize;
  } else {
    return base::Status::NotSupported(path + " is not a VHD");
  }
  if (size < phys || size % kSectorSize != 0) {
    return base::Status::InvalidArgument(
        path + ": physical size " + std::to_string(size) +
        " is below the data (" + std::to_string(phys) +
        ") or not a multiple of 512");
  }
  RETURN_IF_ERROR(
      WriteFooterAt(img->file(), *img->footer(), size - kFooterSize));
  return img->file()->Sync();
}

}  // namespace vhd
