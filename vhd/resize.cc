#include "vhd/resize.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "vhd/endian.h"
#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

namespace vhd {

// On the original size: blktap leaves orig_size as created and changes only
// curr_size, but libvhdi (and the tools built on it) take a disk's size from
// orig_size, so a grown disk would look truncated to them. Nothing reads
// orig_size for anything else, so a resize sets both.

namespace {

constexpr uint64_t kRound = kDefaultBlockSize;  // vhd-util rounds to 2 MiB
constexpr char kMagic[9] = "VHDSMRJ1";
constexpr char kEndMagic[9] = "VHDSMRJE";
constexpr size_t kFixedPart = 8 + 8 + 8 + 8 + kFooterSize;

uint64_t Fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// What a resize overwrites, saved before it starts.
struct Journal {
  uint64_t orig_size = 0;
  uint64_t footer_off = 0;
  std::array<uint8_t, kFooterSize> footer{};  // as on disk at footer_off
  std::vector<uint8_t> saved;                 // bytes [0, saved.size())
};

Status WriteJournal(Env* env, const std::string& path, const Journal& j) {
  std::vector<uint8_t> buf(kFixedPart + j.saved.size() + 8 + 8);
  uint8_t* p = buf.data();
  std::memcpy(p, kMagic, 8);
  StoreBE64(p + 8, j.orig_size);
  StoreBE64(p + 16, j.footer_off);
  StoreBE64(p + 24, j.saved.size());
  std::memcpy(p + 32, j.footer.data(), kFooterSize);
  std::copy(j.saved.begin(), j.saved.end(), p + kFixedPart);
  size_t at = kFixedPart + j.saved.size();
  StoreBE64(p + at, Fnv1a(p, at));
  std::memcpy(p + at + 8, kEndMagic, 8);
  std::unique_ptr<File> f;
  VHD_RETURN_IF_ERROR(env->Open(path, Env::OpenMode::kCreateExclusive, &f));
  VHD_RETURN_IF_ERROR(f->Write(0, buf.data(), buf.size()));
  VHD_RETURN_IF_ERROR(f->Sync());
  f.reset();
  return env->SyncDir(DirName(path));
}

// *complete is false for a journal cut short by a crash while writing it.
Status ReadJournal(Env* env, const std::string& path, Journal* j,
                   bool* complete) {
  *complete = false;
  std::string data;
  VHD_RETURN_IF_ERROR(ReadFileToString(env, path, &data, 1ull << 30));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  if (data.size() < kFixedPart + 16 || std::memcmp(p, kMagic, 8) != 0) {
    return Status::OK();
  }
  uint64_t saved = LoadBE64(p + 24);
  if (saved > data.size() || data.size() != kFixedPart + saved + 16) {
    return Status::OK();
  }
  size_t at = kFixedPart + saved;
  if (LoadBE64(p + at) != Fnv1a(p, at) ||
      std::memcmp(p + at + 8, kEndMagic, 8) != 0) {
    return Status::OK();
  }
  j->orig_size = LoadBE64(p + 8);
  j->footer_off = LoadBE64(p + 16);
  std::memcpy(j->footer.data(), p + 32, kFooterSize);
  j->saved.assign(p + kFixedPart, p + kFixedPart + saved);
  *complete = true;
  return Status::OK();
}

Status Poison(File* f, Footer footer, uint64_t footer_off, bool sparse) {
  std::memcpy(footer.cookie.data(), "v_poison", 8);
  footer.Seal();
  VHD_RETURN_IF_ERROR(WriteFooterAt(f, footer, footer_off));
  if (sparse) VHD_RETURN_IF_ERROR(WriteFooterAt(f, footer, 0));
  return f->Sync();
}

Status CheckNewSize(const Image& img, uint64_t size) {
  if (size < img.virtual_size()) {
    return Status::InvalidArgument(
        img.path() + ": size (" + std::to_string(size) + ") < curr size (" +
        std::to_string(img.virtual_size()) + "); shrinking is not supported");
  }
  if (size > kMaxVirtualSize) {
    return Status::TooLarge(img.path() + ": " + std::to_string(size) +
                            " exceeds the VHD limit of 2040 GiB");
  }
  return Status::OK();
}

Status GrowFixed(Env* env, const std::string& path, Image* img, uint64_t size,
                 const std::string& journal) {
  std::unique_ptr<File> f;
  VHD_RETURN_IF_ERROR(env->Open(path, Env::OpenMode::kReadWrite, &f));
  Journal j;
  VHD_RETURN_IF_ERROR(f->Size(&j.orig_size));
  j.footer_off = j.orig_size - kFooterSize;
  VHD_RETURN_IF_ERROR(f->Read(j.footer_off, kFooterSize, j.footer.data()));
  VHD_RETURN_IF_ERROR(WriteJournal(env, journal, j));
  Footer footer = *img->footer();
  // The old footer becomes disk data: it must read as zeros.
  VHD_RETURN_IF_ERROR(f->Truncate(size + kFooterSize));
  std::vector<uint8_t> zeros(kFooterSize, 0);
  VHD_RETURN_IF_ERROR(f->Write(j.footer_off, zeros.data(), zeros.size()));
  footer.curr_size = size;
  footer.orig_size = size;  // see "On the original size" above
  footer.geometry = ChsGeometry(size);
  footer.Seal();
  VHD_RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, size));
  VHD_RETURN_IF_ERROR(f->Sync());
  VHD_RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(DirName(journal));
}

}  // namespace

Status MaxFastResize(Env* env, const std::string& path, uint64_t* bytes) {
  std::unique_ptr<Image> img;
  VHD_RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  *bytes = sp == nullptr ? 0
                         : uint64_t{sp->header().max_table_entries} *
                               sp->header().block_size;
  return Status::OK();
}

Status ResizeFast(Env* env, const std::string& path, uint64_t new_size) {
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> img;
  VHD_RETURN_IF_ERROR(OpenImage(env, path, o, &img));
  uint64_t size = RoundUp(new_size, kRound);
  VHD_RETURN_IF_ERROR(CheckNewSize(*img, size));
  if (size == img->virtual_size()) return Status::OK();
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) {
    return Status::InvalidArgument(path + ": fast resize needs a dynamic disk");
  }
  if (size > uint64_t{sp->header().max_table_entries} * sp->block_size()) {
    return Status::InvalidArgument(
        path + ": not enough metadata space reserved for fast resize");
  }
  Footer f = *sp->footer();
  f.curr_size = size;
  f.orig_size = size;  // see "On the original size" above
  f.geometry = ChsGeometry(size);
  VHD_RETURN_IF_ERROR(sp->WriteFooters(f));
  return sp->Flush();
}

Status ResizeJournaled(Env* env, const std::string& path, uint64_t new_size,
                       const std::string& journal) {
  if (env->Exists(journal)) {
    return Status::Exists(journal + " exists: revert or remove it first");
  }
  std::unique_ptr<Image> img;
  VHD_RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  uint64_t size = RoundUp(new_size, kRound);
  VHD_RETURN_IF_ERROR(CheckNewSize(*img, size));
  if (size == img->virtual_size()) return Status::OK();
  if (img->type() == DiskType::kFixed) {
    return GrowFixed(env, path, img.get(), size, journal);
  }
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) return Status::NotSupported(path + " is not a VHD");
  VHD_RETURN_IF_ERROR(sp->LoadBat());
  const DynamicHeader oh = sp->header();  // a copy: img is closed below
  uint32_t bs = oh.block_size;
  uint64_t old_entries = oh.max_table_entries;
  uint64_t new_entries = std::max<uint64_t>(old_entries, (size + bs - 1) / bs);
  if (new_entries > kMaxBatEntries) {
    return Status::TooLarge(path + ": the BAT would exceed its limit");
  }

  // New layout after the BAT: batmap, then the locators, each keeping its
  // room; blocks that start below the new end of metadata move to the end.
  uint64_t bat_end = oh.table_offset + RoundUp(new_entries * 4, kSectorSize);
  bool batmap = sp->expects_batmap();
  uint64_t bm_hdr = bat_end, bm_off = 0, bm_secs = 0;
  uint64_t meta = bat_end;
  if (batmap) {
    bm_off = bm_hdr + kSectorSize;
    bm_secs = std::max<uint64_t>(1, SectorsOf((new_entries + 7) / 8));
    meta = bm_off + bm_secs * kSectorSize;
  }
  DynamicHeader nh = oh;
  nh.max_table_entries = static_cast<uint32_t>(new_entries);
  std::vector<std::vector<uint8_t>> payloads(kParentLocatorCount);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocatorEntry& e = oh.loc[i];
    if (e.code == 0) continue;
    uint64_t space = RoundUp(e.SpaceBytes(), kSectorSize);
    if (!RangeWithin(e.data_offset, space, sp->footer_info().file_size) ||
        space > kMaxLocatorBytes) {
      return Status::Corruption(path + ": parent locator " + std::to_string(i) +
                                " is out of range; run check");
    }
    payloads[i].resize(space);
    VHD_RETURN_IF_ERROR(
        sp->file()->Read(e.data_offset, space, payloads[i].data()));
    nh.loc[i].data_offset = meta;
    meta += space;
  }
  uint64_t new_meta_end = meta;

  Journal j;
  j.orig_size = sp->footer_info().file_size;
  j.footer_off = sp->footer_offset();
  VHD_RETURN_IF_ERROR(
      sp->file()->Read(j.footer_off, kFooterSize, j.footer.data()));
  j.saved.resize(std::min(new_meta_end, j.orig_size));
  VHD_RETURN_IF_ERROR(sp->file()->Read(0, j.saved.size(), j.saved.data()));
  VHD_RETURN_IF_ERROR(WriteJournal(env, journal, j));

  std::vector<uint32_t> bat = sp->bat();
  bat.resize(new_entries, kBatUnused);
  std::vector<uint8_t> map;
  if (batmap) {
    map.assign(bm_secs * kSectorSize, 0);
    if (sp->has_batmap()) {
      const std::vector<uint8_t>& old = sp->batmap();
      std::copy(old.begin(), old.begin() + std::min(old.size(), map.size()),
                map.begin());
    } else {
      // A damaged batmap is rebuilt from the block bitmaps.
      for (uint64_t b = 0; b < old_entries; ++b) {
        BlockState st;
        VHD_RETURN_IF_ERROR(sp->GetBlockState(b, &st));
        if (st.kind == BlockKind::kFull) BitmapSet(map.data(), b);
      }
    }
  }
  Footer footer = *sp->footer();
  BatmapHeader bh = sp->batmap_header();
  if (!sp->has_batmap()) {
    bh = BatmapHeader();
    std::memcpy(bh.cookie.data(), "tdbatmap", 8);
    bh.batmap_version = kBatmapVersion;
  }
  uint32_t bm_bytes = sp->bitmap_bytes();
  uint64_t eod = std::max(sp->end_of_data(), new_meta_end);
  img.reset();

  std::unique_ptr<File> f;
  VHD_RETURN_IF_ERROR(env->Open(path, Env::OpenMode::kReadWrite, &f));
  VHD_RETURN_IF_ERROR(Poison(f.get(), footer, j.footer_off, true));

  // Move the blocks in the way, in file order, to data-aligned space.
  std::vector<std::pair<uint32_t, uint64_t>> moving;  // (offset, block)
  for (uint64_t b = 0; b < old_entries; ++b) {
    if (bat[b] != kBatUnused &&
        (uint64_t{bat[b]} << kSectorShift) < new_meta_end) {
      moving.emplace_back(bat[b], b);
    }
  }
  std::sort(moving.begin(), moving.end());
  for (auto [off, b] : moving) {
    uint64_t dst = RoundUp(eod + bm_bytes, kPageSize) - bm_bytes;
    VHD_RETURN_IF_ERROR(f->CopyTo(f.get(), uint64_t{off} << kSectorShift, dst,
                                  uint64_t{bm_bytes} + bs));
    bat[b] = static_cast<uint32_t>(dst >> kSectorShift);
    eod = dst + bm_bytes + bs;
  }
  if (!moving.empty()) VHD_RETURN_IF_ERROR(f->Sync());

  // New metadata from the BAT on, in one write; then the header.
  std::vector<uint8_t> buf(new_meta_end - oh.table_offset, 0);
  for (uint64_t b = 0; b < new_entries; ++b) StoreBE32(&buf[b * 4], bat[b]);
  footer.curr_size = size;
  footer.orig_size = size;  // see "On the original size" above
  footer.geometry = ChsGeometry(size);
  if (batmap) {
    bh.batmap_offset = bm_off;
    bh.batmap_size = static_cast<uint32_t>(bm_secs);
    uint64_t sum_bytes = std::min<uint64_t>(
        RoundUp(std::max<uint64_t>(1, size >> 24), kSectorSize), map.size());
    bh.checksum =
        BatmapHeader::MapChecksum(map.data(), sum_bytes, bh.batmap_version);
    bh.Encode(&buf[bm_hdr - oh.table_offset]);
    std::copy(map.begin(), map.end(), buf.begin() + (bm_off - oh.table_offset));
  }
  for (int i = 0; i < kParentLocatorCount; ++i) {
    if (payloads[i].empty()) continue;
    std::copy(payloads[i].begin(), payloads[i].end(),
              buf.begin() + (nh.loc[i].data_offset - oh.table_offset));
  }
  VHD_RETURN_IF_ERROR(f->Write(oh.table_offset, buf.data(), buf.size()));
  nh.Seal();
  uint8_t hb[kHeaderSize];
  nh.Encode(hb);
  VHD_RETURN_IF_ERROR(f->Write(footer.data_offset, hb, kHeaderSize));
  VHD_RETURN_IF_ERROR(f->Sync());

  // Commit: the new footer at the end of data, then the copy at 0.
  footer.Seal();
  VHD_RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, eod));
  VHD_RETURN_IF_ERROR(f->Truncate(eod + kFooterSize));
  VHD_RETURN_IF_ERROR(f->Sync());
  VHD_RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, 0));
  VHD_RETURN_IF_ERROR(f->Sync());
  f.reset();
  VHD_RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(DirName(journal));
}

Status RevertResize(Env* env, const std::string& path,
                    const std::string& journal) {
  Journal j;
  bool complete = false;
  VHD_RETURN_IF_ERROR(ReadJournal(env, journal, &j, &complete));
  if (complete) {
    std::unique_ptr<File> f;
    VHD_RETURN_IF_ERROR(env->Open(path, Env::OpenMode::kReadWrite, &f));
    VHD_RETURN_IF_ERROR(f->Write(0, j.saved.data(), j.saved.size()));
    VHD_RETURN_IF_ERROR(f->Truncate(j.orig_size));
    VHD_RETURN_IF_ERROR(f->Write(j.footer_off, j.footer.data(), kFooterSize));
    VHD_RETURN_IF_ERROR(f->Sync());
  }
  // An incomplete journal was cut short before the disk was touched.
  VHD_RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(DirName(journal));
}

}  // namespace vhd
