#include "vhd/repair.h"

#include <cstring>
#include <memory>
#include <vector>

#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/sparse_image.h"

namespace vhd {

namespace {

// Rebuilds the batmap (header and map) from the block bitmaps, if its place
// is free; returns OK without change when the file has no batmap slot.
base::Status RebuildBatmap(SparseImage* img, base::File* f, bool* changed) {
  if (!img->expects_batmap() || img->has_batmap()) return base::Status::OK();
  const DynamicHeader& h = img->header();
  uint64_t entries = h.max_table_entries;
  uint64_t hoff = img->batmap_header_offset();
  uint64_t secs = std::max<uint64_t>(1, SectorsOf((entries + 7) / 8));
  uint64_t end = hoff + kSectorSize + secs * kSectorSize;
  // The slot must not hold blocks or locators (it never does in files
  // blktap or we wrote; a hostile file is left as it is).
  for (uint64_t b = 0; b < entries; ++b) {
    uint64_t off = uint64_t{img->bat()[b]} << kSectorShift;
    if (img->bat()[b] != kBatUnused && off < end &&
        off + img->bitmap_bytes() + h.block_size > hoff) {
      return base::Status::OK();
    }
  }
  for (const ParentLocatorEntry& e : h.loc) {
    if (e.code != 0 && e.data_offset < end &&
        e.data_offset + e.SpaceBytes() > hoff) {
      return base::Status::OK();
    }
  }
  std::vector<uint8_t> buf(end - hoff, 0);
  uint8_t* map = buf.data() + kSectorSize;
  for (uint64_t b = 0; b < entries; ++b) {
    BlockState st;
    RETURN_IF_ERROR(img->GetBlockState(b, &st));
    if (st.kind == BlockKind::kFull) BitmapSet(map, b);
  }
  BatmapHeader bh;
  std::memcpy(bh.cookie.data(), "tdbatmap", 8);
  bh.batmap_offset = hoff + kSectorSize;
  bh.batmap_size = static_cast<uint32_t>(secs);
  bh.batmap_version = kBatmapVersion;
  uint64_t sum_bytes = std::min<uint64_t>(
      RoundUp(std::max<uint64_t>(1, img->virtual_size() >> 24), kSectorSize),
      secs * kSectorSize);
  bh.checksum = BatmapHeader::MapChecksum(map, sum_bytes, kBatmapVersion);
  bh.Encode(buf.data());
  RETURN_IF_ERROR(f->Write(hoff, buf.data(), buf.size()));
  *changed = true;
  return base::Status::OK();
}

}  // namespace

base::Status RepairVhd(base::Env* env, const std::string& path,
                       const RepairOptions& options, bool* changed) {
  *changed = false;
  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadWrite, &f));
  FooterInfo info;
  RETURN_IF_ERROR(ReadFooter(f.get(), &info));
  if (options.use_backup_footer) {
    if (!info.backup_valid) {
      return base::Status::Corruption(path +
                                      ": the footer copy at 0 is not valid");
    }
    info.footer = info.backup;
    info.from_backup = true;
    info.offset = 0;
  }
  Footer footer = info.footer;
  if (footer.uuid.IsNull()) footer.uuid = Uuid::Generate();
  footer.Seal();

  if (!footer.IsDynamicOrDiff()) {
    // A fixed disk's only footer is at EOF; if it was readable there is
    // nothing to rebuild it from, and nothing to do beyond a null uuid.
    if (footer.uuid != info.footer.uuid ||
        footer.checksum != info.footer.checksum) {
      RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, info.offset));
      *changed = true;
    }
    return f->Sync();
  }

  // Open the metadata read-only through the same parser readers use.
  std::unique_ptr<base::File> ro;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadOnly, &ro));
  std::unique_ptr<SparseImage> img;
  FooterInfo open_info = info;
  open_info.footer = footer;
  RETURN_IF_ERROR(
      SparseImage::Open(std::move(ro), open_info, OpenOptions(), &img));
  RETURN_IF_ERROR(img->LoadBat());
  RETURN_IF_ERROR(RebuildBatmap(img.get(), f.get(), changed));

  uint64_t eod = img->end_of_data();
  uint8_t want[kFooterSize];
  footer.Encode(want);
  uint8_t have[kFooterSize] = {};
  size_t got = 0;
  RETURN_IF_ERROR(f->ReadSome(eod, kFooterSize, have, &got));
  bool eof_ok = got == kFooterSize &&
                std::memcmp(have, want, kFooterSize) == 0 &&
                info.file_size == eod + kFooterSize;
  if (!eof_ok) {
    RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, eod));
    RETURN_IF_ERROR(f->Truncate(eod + kFooterSize));
    *changed = true;
  }
  RETURN_IF_ERROR(f->ReadSome(0, kFooterSize, have, &got));
  if (got != kFooterSize || std::memcmp(have, want, kFooterSize) != 0) {
    RETURN_IF_ERROR(f->Sync());
    RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, 0));
    *changed = true;
  }
  return f->Sync();
}

}  // namespace vhd
