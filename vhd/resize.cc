#include "vhd/resize.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "vhd/endian.h"
#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/resize_journal.h"
#include "vhd/sparse_image.h"

namespace vhd {

// On the original size: blktap leaves orig_size as created and changes only
// curr_size, but libvhdi (and the tools built on it) take a disk's size from
// orig_size, so a grown disk would look truncated to them. Nothing reads
// orig_size for anything else, so a resize sets both.

namespace {

constexpr uint64_t kRound = kDefaultBlockSize;  // vhd-util rounds to 2 MiB
base::Status Poison(base::File* f, Footer footer, uint64_t footer_off,
                    bool sparse) {
  std::memcpy(footer.cookie.data(), "v_poison", 8);
  footer.Seal();
  RETURN_IF_ERROR(WriteFooterAt(f, footer, footer_off));
  if (sparse) RETURN_IF_ERROR(WriteFooterAt(f, footer, 0));
  return f->Sync();
}

base::Status CheckNewSize(const Image& img, uint64_t size) {
  if (size < img.virtual_size()) {
    return base::Status::InvalidArgument(
        img.path() + ": size (" + std::to_string(size) + ") < curr size (" +
        std::to_string(img.virtual_size()) + "); shrinking is not supported");
  }
  if (size > kMaxVirtualSize) {
    return base::Status::TooLarge(img.path() + ": " + std::to_string(size) +
                                  " exceeds the VHD limit of 2040 GiB");
  }
  return base::Status::OK();
}

base::Status GrowFixed(base::Env* env, const std::string& path, Image* img,
                       uint64_t size, const std::string& journal) {
  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadWrite, &f));
  uint64_t footer_off;
  RETURN_IF_ERROR(f->Size(&footer_off));
  footer_off -= kFooterSize;  // OpenImage found a footer there
  // Only the footer is overwritten below the old end: the journal's footer
  // entry covers it.
  RETURN_IF_ERROR(WriteResizeJournal(env, f.get(), journal, {}));
  Footer footer = *img->footer();
  // The old footer becomes disk data: it must read as zeros.
  RETURN_IF_ERROR(f->Truncate(size + kFooterSize));
  std::vector<uint8_t> zeros(kFooterSize, 0);
  RETURN_IF_ERROR(f->Write(footer_off, zeros.data(), zeros.size()));
  footer.curr_size = size;
  footer.orig_size = size;  // see "On the original size" above
  footer.geometry = ChsGeometry(size);
  footer.Seal();
  RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, size));
  RETURN_IF_ERROR(f->Sync());
  RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(base::DirName(journal));
}

}  // namespace

base::Status MaxFastResize(base::Env* env, const std::string& path,
                           uint64_t* bytes) {
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  *bytes = sp == nullptr ? 0
                         : uint64_t{sp->header().max_table_entries} *
                               sp->header().block_size;
  return base::Status::OK();
}

base::Status ResizeFast(base::Env* env, const std::string& path,
                        uint64_t new_size) {
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, o, &img));
  uint64_t size = RoundUp(new_size, kRound);
  RETURN_IF_ERROR(CheckNewSize(*img, size));
  if (size == img->virtual_size()) return base::Status::OK();
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) {
    return base::Status::InvalidArgument(path +
                                         ": fast resize needs a dynamic disk");
  }
  if (size > uint64_t{sp->header().max_table_entries} * sp->block_size()) {
    return base::Status::InvalidArgument(
        path + ": not enough metadata space reserved for fast resize");
  }
  Footer f = *sp->footer();
  f.curr_size = size;
  f.orig_size = size;  // see "On the original size" above
  f.geometry = ChsGeometry(size);
  RETURN_IF_ERROR(sp->WriteFooters(f));
  return sp->Flush();
}

base::Status ResizeJournaled(base::Env* env, const std::string& path,
                             uint64_t new_size, const std::string& journal) {
  if (env->Exists(journal)) {
    return base::Status::Exists(journal + " exists: revert or remove it first");
  }
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  uint64_t size = RoundUp(new_size, kRound);
  RETURN_IF_ERROR(CheckNewSize(*img, size));
  if (size == img->virtual_size()) return base::Status::OK();
  if (img->type() == DiskType::kFixed) {
    return GrowFixed(env, path, img.get(), size, journal);
  }
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) return base::Status::NotSupported(path + " is not a VHD");
  RETURN_IF_ERROR(sp->LoadBat());
  const DynamicHeader oh = sp->header();  // a copy: img is closed below
  uint32_t bs = oh.block_size;
  uint64_t old_entries = oh.max_table_entries;
  uint64_t new_entries = std::max<uint64_t>(old_entries, (size + bs - 1) / bs);
  if (new_entries > kMaxBatEntries) {
    return base::Status::TooLarge(path + ": the BAT would exceed its limit");
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
      return base::Status::Corruption(path + ": parent locator " +
                                      std::to_string(i) +
                                      " is out of range; run check");
    }
    payloads[i].resize(space);
    RETURN_IF_ERROR(sp->file()->Read(e.data_offset, space, payloads[i].data()));
    nh.loc[i].data_offset = meta;
    meta += space;
  }
  uint64_t new_meta_end = meta;

  std::vector<uint32_t> bat = sp->bat();
  bat.resize(new_entries, kBatUnused);
  std::vector<uint8_t> map;
  if (batmap) {
    map.assign(bm_secs * kSectorSize, 0);
    // The journal needs the batmap as vhd-util checks it (so does vhd-util
    // resize): a damaged one is refused, and `repair` rebuilds it.
    if (!sp->has_batmap()) {
      return base::Status::Corruption(path + ": damaged batmap (" +
                                      sp->batmap_problem() +
                                      "); run repair first");
    }
    const std::vector<uint8_t>& old = sp->batmap();
    std::copy(old.begin(), old.begin() + std::min(old.size(), map.size()),
              map.begin());
  }
  Footer footer = *sp->footer();
  BatmapHeader bh = sp->batmap_header();
  if (!sp->has_batmap()) {
    bh = BatmapHeader();
    std::memcpy(bh.cookie.data(), "tdbatmap", 8);
    bh.batmap_version = kBatmapVersion;
  }
  uint32_t bm_bytes = sp->bitmap_bytes();
  const uint64_t footer_off = sp->footer_offset();
  uint64_t eod = std::max(sp->end_of_data(), new_meta_end);

  // The blocks in the way move, in file order, to data-aligned space at the
  // end of data.
  struct Move {
    uint64_t from, to, block;
  };
  std::vector<Move> moves;
  for (uint64_t b = 0; b < old_entries; ++b) {
    if (bat[b] != kBatUnused &&
        (uint64_t{bat[b]} << kSectorShift) < new_meta_end) {
      moves.push_back({uint64_t{bat[b]} << kSectorShift, 0, b});
    }
  }
  std::sort(moves.begin(), moves.end(),
            [](const Move& a, const Move& b) { return a.from < b.from; });
  for (Move& m : moves) {
    m.to = RoundUp(eod + bm_bytes, kPageSize) - bm_bytes;
    eod = m.to + bm_bytes + bs;
  }

  // Everything overwritten below the old footer is journaled first: the
  // metadata (as vhd-util journals it), and as data entries the region from
  // the BAT to the new end of metadata, the moved blocks' new places and the
  // new footer's (when end of data lies below the old footer).
  std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {oh.table_offset, new_meta_end - oh.table_offset}};
  for (const Move& m : moves) ranges.push_back({m.to, uint64_t{bm_bytes} + bs});
  ranges.push_back({eod, kFooterSize});
  RETURN_IF_ERROR(WriteResizeJournal(env, sp->file(), journal, ranges));
  img.reset();

  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadWrite, &f));
  RETURN_IF_ERROR(Poison(f.get(), footer, footer_off, true));
  for (const Move& m : moves) {
    RETURN_IF_ERROR(f->CopyTo(f.get(), m.from, m.to, uint64_t{bm_bytes} + bs));
    bat[m.block] = static_cast<uint32_t>(m.to >> kSectorShift);
  }
  if (!moves.empty()) RETURN_IF_ERROR(f->Sync());

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
  RETURN_IF_ERROR(f->Write(oh.table_offset, buf.data(), buf.size()));
  nh.Seal();
  uint8_t hb[kHeaderSize];
  nh.Encode(hb);
  RETURN_IF_ERROR(f->Write(footer.data_offset, hb, kHeaderSize));
  RETURN_IF_ERROR(f->Sync());

  // Commit: the new footer at the end of data, then the copy at 0.
  footer.Seal();
  RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, eod));
  RETURN_IF_ERROR(f->Truncate(eod + kFooterSize));
  RETURN_IF_ERROR(f->Sync());
  RETURN_IF_ERROR(WriteFooterAt(f.get(), footer, 0));
  RETURN_IF_ERROR(f->Sync());
  f.reset();
  RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(base::DirName(journal));
}

base::Status RevertResize(base::Env* env, const std::string& path,
                          const std::string& journal, RevertOutcome* outcome) {
  return RevertResizeJournal(env, path, journal, outcome);
}

}  // namespace vhd
