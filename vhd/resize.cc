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

namespace {

// A block in the way of the grown metadata, and where it moves.
struct Move {
  uint64_t from, to, block;
};

// Everything a journaled grow of a dynamic disk writes, computed before the
// journal is: the old and new headers, the new BAT, batmap and locators, and
// the blocks that move.
struct GrowPlan {
  uint64_t size = 0;
  DynamicHeader oh, nh;
  uint64_t new_entries = 0;
  bool batmap = false;
  uint64_t bm_hdr = 0, bm_off = 0, bm_secs = 0;
  uint64_t new_meta_end = 0;
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<uint32_t> bat;
  std::vector<uint8_t> map;
  Footer footer;
  BatmapHeader bh;
  uint32_t bm_bytes = 0;
  uint64_t footer_off = 0;
  uint64_t eod = 0;
  std::vector<Move> moves;
};

// New layout after the BAT: batmap, then the locators, each keeping its
// room (their payloads are read here).
base::Status PlanMetadata(SparseImage* sp, const std::string& path,
                          GrowPlan* p) {
  p->oh = sp->header();
  uint32_t bs = p->oh.block_size;
  uint64_t old_entries = p->oh.max_table_entries;
  p->new_entries = std::max<uint64_t>(old_entries, (p->size + bs - 1) / bs);
  if (p->new_entries > kMaxBatEntries) {
    return base::Status::TooLarge(path + ": the BAT would exceed its limit");
  }
  uint64_t bat_end =
      p->oh.table_offset + RoundUp(p->new_entries * 4, kSectorSize);
  p->batmap = sp->expects_batmap();
  p->bm_hdr = bat_end;
  uint64_t meta = bat_end;
  if (p->batmap) {
    p->bm_off = p->bm_hdr + kSectorSize;
    p->bm_secs = std::max<uint64_t>(1, SectorsOf((p->new_entries + 7) / 8));
    meta = p->bm_off + p->bm_secs * kSectorSize;
  }
  p->nh = p->oh;
  p->nh.max_table_entries = static_cast<uint32_t>(p->new_entries);
  p->payloads.assign(kParentLocatorCount, {});
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocatorEntry& e = p->oh.loc[i];
    if (e.code == 0) continue;
    uint64_t space = RoundUp(e.SpaceBytes(), kSectorSize);
    if (!RangeWithin(e.data_offset, space, sp->footer_info().file_size) ||
        space > kMaxLocatorBytes) {
      return base::Status::Corruption(path + ": parent locator " +
                                      std::to_string(i) +
                                      " is out of range; run check");
    }
    p->payloads[i].resize(space);
    RETURN_IF_ERROR(
        sp->file()->Read(e.data_offset, space, p->payloads[i].data()));
    p->nh.loc[i].data_offset = meta;
    meta += space;
  }
  p->new_meta_end = meta;
  return base::Status::OK();
}

// The grown BAT and batmap, and the footer and batmap header to rewrite.
base::Status PlanTables(SparseImage* sp, const std::string& path, GrowPlan* p) {
  p->bat = sp->bat();
  p->bat.resize(p->new_entries, kBatUnused);
  if (p->batmap) {
    p->map.assign(p->bm_secs * kSectorSize, 0);
    // The journal needs the batmap as vhd-util checks it (so does vhd-util
    // resize): a damaged one is refused, and `repair` rebuilds it.
    if (!sp->has_batmap()) {
      return base::Status::Corruption(path + ": damaged batmap (" +
                                      sp->batmap_problem() +
                                      "); run repair first");
    }
    const std::vector<uint8_t>& old = sp->batmap();
    std::copy(old.begin(), old.begin() + std::min(old.size(), p->map.size()),
              p->map.begin());
  }
  p->footer = *sp->footer();
  p->bh = sp->batmap_header();
  if (!sp->has_batmap()) {
    p->bh = BatmapHeader();
    std::memcpy(p->bh.cookie.data(), "tdbatmap", 8);
    p->bh.batmap_version = kBatmapVersion;
  }
  p->bm_bytes = sp->bitmap_bytes();
  p->footer_off = sp->footer_offset();
  p->eod = std::max(sp->end_of_data(), p->new_meta_end);
  return base::Status::OK();
}

// The blocks in the way move, in file order, to data-aligned space at the
// end of data.
void PlanMoves(GrowPlan* p) {
  for (uint64_t b = 0; b < p->oh.max_table_entries; ++b) {
    if (p->bat[b] != kBatUnused &&
        (uint64_t{p->bat[b]} << kSectorShift) < p->new_meta_end) {
      p->moves.push_back({uint64_t{p->bat[b]} << kSectorShift, 0, b});
    }
  }
  std::sort(p->moves.begin(), p->moves.end(),
            [](const Move& a, const Move& b) { return a.from < b.from; });
  for (Move& m : p->moves) {
    m.to = RoundUp(p->eod + p->bm_bytes, kPageSize) - p->bm_bytes;
    p->eod = m.to + p->bm_bytes + p->oh.block_size;
  }
}

// Everything overwritten below the old footer is journaled first: the
// metadata (as vhd-util journals it), and as data entries the region from
// the BAT to the new end of metadata, the moved blocks' new places and the
// new footer's (when end of data lies below the old footer).
std::vector<std::pair<uint64_t, uint64_t>> JournalRanges(const GrowPlan& p) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {p.oh.table_offset, p.new_meta_end - p.oh.table_offset}};
  for (const Move& m : p.moves) {
    ranges.push_back({m.to, uint64_t{p.bm_bytes} + p.oh.block_size});
  }
  ranges.push_back({p.eod, kFooterSize});
  return ranges;
}

base::Status MoveBlocks(base::File* f, GrowPlan* p) {
  for (const Move& m : p->moves) {
    RETURN_IF_ERROR(
        f->CopyTo(f, m.from, m.to, uint64_t{p->bm_bytes} + p->oh.block_size));
    p->bat[m.block] = static_cast<uint32_t>(m.to >> kSectorShift);
  }
  if (!p->moves.empty()) RETURN_IF_ERROR(f->Sync());
  return base::Status::OK();
}

// New metadata from the BAT on, in one write; then the header.
base::Status WriteGrownMetadata(base::File* f, GrowPlan* p) {
  const uint64_t base_off = p->oh.table_offset;
  std::vector<uint8_t> buf(p->new_meta_end - base_off, 0);
  for (uint64_t b = 0; b < p->new_entries; ++b) {
    StoreBE32(&buf[b * 4], p->bat[b]);
  }
  p->footer.curr_size = p->size;
  p->footer.orig_size = p->size;  // see "On the original size" above
  p->footer.geometry = ChsGeometry(p->size);
  if (p->batmap) {
    BatmapHeader& bh = p->bh;
    bh.batmap_offset = p->bm_off;
    bh.batmap_size = static_cast<uint32_t>(p->bm_secs);
    uint64_t sum_bytes = std::min<uint64_t>(
        RoundUp(std::max<uint64_t>(1, p->size >> 24), kSectorSize),
        p->map.size());
    bh.checksum =
        BatmapHeader::MapChecksum(p->map.data(), sum_bytes, bh.batmap_version);
    bh.Encode(&buf[p->bm_hdr - base_off]);
    std::copy(p->map.begin(), p->map.end(),
              buf.begin() + (p->bm_off - base_off));
  }
  for (int i = 0; i < kParentLocatorCount; ++i) {
    if (p->payloads[i].empty()) continue;
    std::copy(p->payloads[i].begin(), p->payloads[i].end(),
              buf.begin() + (p->nh.loc[i].data_offset - base_off));
  }
  RETURN_IF_ERROR(f->Write(base_off, buf.data(), buf.size()));
  p->nh.Seal();
  uint8_t hb[kHeaderSize];
  p->nh.Encode(hb);
  RETURN_IF_ERROR(f->Write(p->footer.data_offset, hb, kHeaderSize));
  return f->Sync();
}

// Commit: the new footer at the end of data, then the copy at 0.
base::Status CommitFooters(base::File* f, GrowPlan* p) {
  p->footer.Seal();
  RETURN_IF_ERROR(WriteFooterAt(f, p->footer, p->eod));
  RETURN_IF_ERROR(f->Truncate(p->eod + kFooterSize));
  RETURN_IF_ERROR(f->Sync());
  RETURN_IF_ERROR(WriteFooterAt(f, p->footer, 0));
  return f->Sync();
}

}  // namespace

base::Status ResizeJournaled(base::Env* env, const std::string& path,
                             uint64_t new_size, const std::string& journal) {
  if (env->Exists(journal)) {
    return base::Status::Exists(journal + " exists: revert or remove it first");
  }
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  GrowPlan plan;
  plan.size = RoundUp(new_size, kRound);
  RETURN_IF_ERROR(CheckNewSize(*img, plan.size));
  if (plan.size == img->virtual_size()) return base::Status::OK();
  if (img->type() == DiskType::kFixed) {
    return GrowFixed(env, path, img.get(), plan.size, journal);
  }
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) return base::Status::NotSupported(path + " is not a VHD");
  RETURN_IF_ERROR(sp->LoadBat());
  RETURN_IF_ERROR(PlanMetadata(sp, path, &plan));
  RETURN_IF_ERROR(PlanTables(sp, path, &plan));
  PlanMoves(&plan);
  RETURN_IF_ERROR(
      WriteResizeJournal(env, sp->file(), journal, JournalRanges(plan)));
  img.reset();

  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadWrite, &f));
  RETURN_IF_ERROR(Poison(f.get(), plan.footer, plan.footer_off, true));
  RETURN_IF_ERROR(MoveBlocks(f.get(), &plan));
  RETURN_IF_ERROR(WriteGrownMetadata(f.get(), &plan));
  RETURN_IF_ERROR(CommitFooters(f.get(), &plan));
  f.reset();
  RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(base::DirName(journal));
}

base::Status RevertResize(base::Env* env, const std::string& path,
                          const std::string& journal, RevertOutcome* outcome) {
  return RevertResizeJournal(env, path, journal, outcome);
}

}  // namespace vhd
