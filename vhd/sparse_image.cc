#include "vhd/sparse_image.h"

#include <algorithm>
#include <cstring>

#include "vhd/endian.h"
#include "vhd/unicode.h"

namespace vhd {

namespace {

constexpr uint64_t kBatEntriesPerSector = kSectorSize / 4;
constexpr size_t kBitmapCacheLimit = 8192;

struct Region {
  uint64_t start;
  uint64_t end;
  int64_t block;  // -1 for metadata
  const char* what;
};

}  // namespace

// ---- bitmap helpers -------------------------------------------------------

void BitmapSetRange(uint8_t* map, uint32_t first, uint32_t n) {
  uint32_t i = first, end = first + n;
  while (i < end && (i & 7)) BitmapSet(map, i++);
  while (i + 8 <= end) {
    map[i >> 3] = 0xff;
    i += 8;
  }
  while (i < end) BitmapSet(map, i++);
}

bool BitmapAllSet(const uint8_t* map, uint32_t first, uint32_t n) {
  uint32_t i = first, end = first + n;
  while (i < end && (i & 7)) {
    if (!BitmapTest(map, i++)) return false;
  }
  while (i + 8 <= end) {
    if (map[i >> 3] != 0xff) return false;
    i += 8;
  }
  while (i < end) {
    if (!BitmapTest(map, i++)) return false;
  }
  return true;
}

uint32_t BitmapCount(const uint8_t* map, uint32_t n) {
  uint32_t c = 0, i = 0;
  for (; i + 8 <= n; i += 8) c += __builtin_popcount(map[i >> 3]);
  for (; i < n; ++i) c += BitmapTest(map, i);
  return c;
}

uint32_t BitmapRun(const uint8_t* map, uint32_t first, uint32_t limit) {
  bool v = BitmapTest(map, first);
  uint8_t whole = v ? 0xff : 0x00;
  uint32_t i = first + 1, end = first + limit;
  while (i < end && (i & 7)) {
    if (BitmapTest(map, i) != v) return i - first;
    ++i;
  }
  while (i + 8 <= end && map[i >> 3] == whole) i += 8;
  while (i < end && BitmapTest(map, i) == v) ++i;
  return i - first;
}

// ---- open -----------------------------------------------------------------

SparseImage::SparseImage(std::unique_ptr<base::File> file,
                         const FooterInfo& info, const DynamicHeader& header,
                         const OpenOptions& options)
    : file_(std::move(file)),
      info_(info),
      footer_(info.footer),
      header_(header),
      options_(options),
      // Without a valid EOF footer, blocks may extend to the end of the file.
      footer_off_(info.from_backup ? info.file_size : info.offset) {
  uint32_t spb = header_.block_size >> kSectorShift;
  bitmap_bytes_ = static_cast<uint32_t>(RoundUp((spb + 7) / 8, kSectorSize));
}

SparseImage::~SparseImage() {
  if (options_.writable) CommitMetadata();
}

base::Status SparseImage::Open(std::unique_ptr<base::File> file,
                               const FooterInfo& info,
                               const OpenOptions& options,
                               std::unique_ptr<SparseImage>* image) {
  const Footer& f = info.footer;
  const std::string& path = file->path();
  if (!RangeWithin(f.data_offset, kHeaderSize, info.file_size)) {
    return base::Status::Corruption(path + ": dynamic header offset " +
                                    std::to_string(f.data_offset) +
                                    " is beyond the end of the file");
  }
  uint8_t buf[kHeaderSize];
  RETURN_IF_ERROR(file->Read(f.data_offset, kHeaderSize, buf));
  DynamicHeader h = DynamicHeader::Decode(buf);
  if (!h.CookieOk()) {
    return base::Status::Corruption(path +
                                    ": no 'cxsparse' cookie in the header");
  }
  if (!h.ChecksumOk()) {
    return base::Status::Corruption(path + ": bad dynamic header checksum");
  }
  if (!IsPowerOfTwo(h.block_size) || h.block_size < kSectorSize ||
      h.block_size > kMaxBlockSize) {
    return base::Status::Corruption(path + ": unsupported block size " +
                                    std::to_string(h.block_size));
  }
  if (f.curr_size > kMaxReadableVirtualSize) {
    return base::Status::TooLarge(path + ": virtual size " +
                                  std::to_string(f.curr_size) +
                                  " exceeds the 2 TiB a VHD can address");
  }
  if (h.max_table_entries > kMaxBatEntries) {
    return base::Status::TooLarge(path + ": BAT of " +
                                  std::to_string(h.max_table_entries) +
                                  " entries is beyond the supported maximum");
  }
  uint64_t needed = (f.curr_size + h.block_size - 1) / h.block_size;
  if (h.max_table_entries < needed) {
    return base::Status::Corruption(
        path + ": BAT has " + std::to_string(h.max_table_entries) +
        " entries but the disk size needs " + std::to_string(needed));
  }
  if (h.table_offset % kSectorSize != 0 ||
      !RangeWithin(h.table_offset, uint64_t{h.max_table_entries} * 4,
                   info.file_size)) {
    return base::Status::Corruption(path + ": BAT at " +
                                    std::to_string(h.table_offset) +
                                    " lies outside the file");
  }
  if (options.writable && (info.from_backup || info.length != kFooterSize)) {
    return base::Status::Corruption(
        path +
        ": the footer at the end of the file is damaged; run repair "
        "before writing");
  }
  image->reset(new SparseImage(std::move(file), info, h, options));
  return base::Status::OK();
}

bool SparseImage::expects_batmap() const {
  return footer_.CreatorIsTap() && footer_.creator_version >= 0x00010002;
}

uint64_t SparseImage::batmap_checksum_bytes() const {
  uint64_t bytes = std::max<uint64_t>(1, footer_.curr_size >> 24);
  return std::min<uint64_t>(RoundUp(bytes, kSectorSize), batmap_.size());
}

uint64_t SparseImage::batmap_header_offset() const {
  return header_.table_offset +
         RoundUp(uint64_t{header_.max_table_entries} * 4, kSectorSize);
}

base::Status ReadBatEntries(base::File* f, uint64_t offset, uint32_t n,
                            std::vector<uint32_t>* out, uint32_t* got) {
  // A chunk at a time straight into the vector, then byte-swapped in place:
  // the memory is touched once, in cache-sized pieces.
  constexpr uint32_t kChunk = 16 << 10;  // entries
  out->clear();
  out->reserve(n);
  *got = 0;
  while (*got < n) {
    uint32_t want = std::min(kChunk, n - *got);
    out->resize(*got + want);
    uint32_t* dst = out->data() + *got;
    size_t read = 0;
    RETURN_IF_ERROR(
        f->ReadSome(offset + uint64_t{*got} * 4, size_t{want} * 4, dst, &read));
    uint32_t k = static_cast<uint32_t>(read / 4);
    for (uint32_t i = 0; i < k; ++i) {
      dst[i] = LoadBE32(reinterpret_cast<const uint8_t*>(dst + i));
    }
    *got += k;
    if (k < want) {
      out->resize(*got);
      break;
    }
  }
  return base::Status::OK();
}

base::Status SparseImage::SummarizeBat(uint64_t* allocated,
                                       uint64_t* end_of_data) {
  if (bat_loaded_) {
    *allocated = 0;
    for (uint64_t i = 0; i < block_count() && i < bat_.size(); ++i) {
      *allocated += bat_[i] != kBatUnused;
    }
    *end_of_data = eod_;
    return base::Status::OK();
  }
  const std::string& p = path();
  const uint32_t n = header_.max_table_entries;
  const uint64_t blocks = block_count();
  uint64_t eod = std::max<uint64_t>(
      {kFooterSize, footer_.data_offset + kHeaderSize,
       header_.table_offset + RoundUp(uint64_t{n} * 4, kSectorSize)});
  if (expects_batmap()) {
    uint64_t hoff = batmap_header_offset();
    uint8_t hb[kSectorSize];
    if (hoff + kSectorSize <= footer_off_ &&
        file_->Read(hoff, kSectorSize, hb).ok()) {
      BatmapHeader h = BatmapHeader::Decode(hb);
      uint64_t need = SectorsOf((uint64_t{n} + 7) / 8);
      uint64_t bytes = uint64_t{h.batmap_size} * kSectorSize;
      if (h.CookieOk() && h.batmap_version <= kBatmapVersion &&
          h.batmap_size >= need && h.batmap_offset % kSectorSize == 0 &&
          RangeWithin(h.batmap_offset, bytes, footer_off_) &&
          h.batmap_size <= (kMaxBatEntries / 8 / kSectorSize) + 1) {
        eod = std::max({eod, hoff + kSectorSize, h.batmap_offset + bytes});
      }
    }
  }
  if (type() == DiskType::kDifferencing) {
    for (const ParentLocatorEntry& e : header_.loc) {
      uint64_t len = e.SpaceBytes();
      if (e.code != 0 && len > 0 &&
          RangeWithin(e.data_offset, len, footer_off_))
        eod = std::max(eod, e.data_offset + len);
    }
  }
  const uint64_t span = uint64_t{bitmap_bytes_} + header_.block_size;
  uint8_t buf[64 << 10];
  uint64_t used = 0;
  for (uint32_t done = 0; done < n;) {
    size_t want = std::min<uint64_t>(sizeof(buf), uint64_t{n - done} * 4);
    size_t read = 0;
    RETURN_IF_ERROR(file_->ReadSome(header_.table_offset + uint64_t{done} * 4,
                                    want, buf, &read));
    if (read < want) {
      return base::Status::Corruption(
          p + ": BAT extends beyond the end of the file");
    }
    for (size_t k = 0; k < read; k += 4, ++done) {
      uint32_t e = LoadBE32(buf + k);
      if (e == kBatUnused) continue;
      uint64_t off = uint64_t{e} << kSectorShift;
      if (off + span > footer_off_) {
        return base::Status::Corruption(p + ": block " + std::to_string(done) +
                                        " at offset " + std::to_string(off) +
                                        " extends beyond the end of data");
      }
      eod = std::max(eod, off + span);
      used += done < blocks;
    }
  }
  *allocated = used;
  *end_of_data = eod;
  return base::Status::OK();
}

namespace {

// Adds a region for every allocated block: corruption when one extends past
// `footer_off`.
base::Status AddBlockRegions(const std::string& p,
                             const std::vector<uint32_t>& bat,
                             uint64_t block_span, uint64_t footer_off,
                             std::vector<Region>* regions) {
  for (uint32_t i = 0; i < bat.size(); ++i) {
    if (bat[i] == kBatUnused) continue;
    uint64_t off = uint64_t{bat[i]} << kSectorShift;
    if (off + block_span > footer_off) {
      return base::Status::Corruption(p + ": block " + std::to_string(i) +
                                      " at offset " + std::to_string(off) +
                                      " extends beyond the end of data");
    }
    regions->push_back({off, off + block_span, i, "block"});
  }
  return base::Status::OK();
}

// Corruption when a block overlaps anything; else *eod = the furthest end.
base::Status CheckOverlaps(const std::string& p, std::vector<Region> regions,
                           uint64_t* end_of_data) {
  std::sort(regions.begin(), regions.end(),
            [](const Region& a, const Region& b) { return a.start < b.start; });
  // Sorted by start, a region overlaps an earlier one iff it starts before
  // the furthest end seen so far (not just the previous region's end: a
  // large locator slot may contain several later regions).
  uint64_t eod = 0;
  size_t furthest = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (i > 0 && regions[i].start < eod &&
        (regions[i].block >= 0 || regions[furthest].block >= 0)) {
      const Region& a = regions[furthest];
      const Region& b = regions[i];
      auto name = [](const Region& r) {
        return r.block >= 0 ? "block " + std::to_string(r.block)
                            : std::string(r.what);
      };
      return base::Status::Corruption(p + ": " + name(b) + " overlaps " +
                                      name(a));
    }
    if (regions[i].end > eod) {
      eod = regions[i].end;
      furthest = i;
    }
  }
  *end_of_data = eod;
  return base::Status::OK();
}

}  // namespace

base::Status SparseImage::LoadBat() {
  if (bat_loaded_) return base::Status::OK();
  const std::string& p = path();
  uint32_t n = header_.max_table_entries;
  uint64_t padded = RoundUp(uint64_t{n} * 4, kSectorSize);
  std::vector<uint32_t> bat;
  uint32_t got = 0;
  RETURN_IF_ERROR(
      ReadBatEntries(file_.get(), header_.table_offset, n, &bat, &got));
  if (got < n) {
    return base::Status::Corruption(p +
                                    ": BAT extends beyond the end of the file");
  }
  // The rest of the BAT's last sector (kept to rewrite it as found); none
  // when the BAT ends on a sector boundary.
  bat_pad_.assign(padded - uint64_t{n} * 4, 0);
  if (!bat_pad_.empty()) {
    size_t pad_got = 0;
    RETURN_IF_ERROR(file_->ReadSome(header_.table_offset + uint64_t{n} * 4,
                                    bat_pad_.size(), bat_pad_.data(),
                                    &pad_got));
  }

  std::vector<Region> regions;
  regions.push_back({0, kFooterSize, -1, "footer copy"});
  regions.push_back(
      {footer_.data_offset, footer_.data_offset + kHeaderSize, -1, "header"});
  regions.push_back(
      {header_.table_offset, header_.table_offset + padded, -1, "BAT"});
  RETURN_IF_ERROR(LoadBatmap());
  if (batmap_valid_) {
    uint64_t hoff = batmap_header_offset();
    regions.push_back({hoff, hoff + kSectorSize, -1, "batmap header"});
    regions.push_back({batmap_hdr_.batmap_offset,
                       batmap_hdr_.batmap_offset + batmap_.size(), -1,
                       "batmap"});
  }
  if (type() == DiskType::kDifferencing) {
    for (const ParentLocatorEntry& e : header_.loc) {
      if (e.code == 0) continue;
      uint64_t len = e.SpaceBytes();
      if (len > 0 && RangeWithin(e.data_offset, len, footer_off_)) {
        regions.push_back({e.data_offset, e.data_offset + len, -1, "locator"});
      }
    }
  }
  RETURN_IF_ERROR(AddBlockRegions(p, bat,
                                  uint64_t{bitmap_bytes_} + header_.block_size,
                                  footer_off_, &regions));
  uint64_t eod = 0;
  RETURN_IF_ERROR(CheckOverlaps(p, std::move(regions), &eod));
  bat_ = std::move(bat);
  eod_ = eod;
  full_bitmap_.assign(bitmap_bytes_, 0xff);
  bat_loaded_ = true;
  return base::Status::OK();
}

base::Status SparseImage::LoadBatmap() {
  // blktap's batmap (tolerated when absent or bad; `check` reports it).
  batmap_valid_ = false;
  if (!expects_batmap()) return base::Status::OK();
  uint64_t hoff = batmap_header_offset();
  if (hoff + kSectorSize > footer_off_) {
    batmap_problem_ = "batmap header beyond end of data";
    return base::Status::OK();
  }
  uint8_t hb[kSectorSize];
  RETURN_IF_ERROR(file_->Read(hoff, kSectorSize, hb));
  batmap_hdr_ = BatmapHeader::Decode(hb);
  uint64_t need = SectorsOf((uint64_t{header_.max_table_entries} + 7) / 8);
  if (!batmap_hdr_.CookieOk()) {
    batmap_problem_ = "no 'tdbatmap' cookie";
  } else if (batmap_hdr_.batmap_version > kBatmapVersion) {
    batmap_problem_ = "unsupported batmap version";
  } else if (batmap_hdr_.batmap_size < need) {
    batmap_problem_ = "batmap smaller than the BAT";
  } else if (batmap_hdr_.batmap_offset % kSectorSize != 0 ||
             !RangeWithin(batmap_hdr_.batmap_offset,
                          uint64_t{batmap_hdr_.batmap_size} * kSectorSize,
                          footer_off_) ||
             batmap_hdr_.batmap_size > (kMaxBatEntries / 8 / kSectorSize) + 1) {
    batmap_problem_ = "batmap outside the file";
  } else {
    std::vector<uint8_t> map(uint64_t{batmap_hdr_.batmap_size} * kSectorSize);
    RETURN_IF_ERROR(
        file_->Read(batmap_hdr_.batmap_offset, map.size(), map.data()));
    batmap_ = std::move(map);
    uint32_t sum = BatmapHeader::MapChecksum(
        batmap_.data(), batmap_checksum_bytes(), batmap_hdr_.batmap_version);
    if (sum != batmap_hdr_.checksum) {
      batmap_problem_ = "bad batmap checksum";
      batmap_.clear();
    } else {
      batmap_valid_ = true;
    }
  }
  return base::Status::OK();
}

uint64_t SparseImage::allocated_blocks() const {
  uint64_t c = 0;
  for (uint32_t e : bat_) c += (e != kBatUnused);
  return c;
}

// ---- reading --------------------------------------------------------------

uint64_t SparseImage::DataOffset(uint64_t block, uint32_t sector) const {
  return (uint64_t{bat_[block]} << kSectorShift) + bitmap_bytes_ +
         (uint64_t{sector} << kSectorShift);
}

base::Status SparseImage::ReadBitmap(uint64_t block,
                                     std::vector<uint8_t>* bitmap) {
  RETURN_IF_ERROR(LoadBat());
  if (block >= bat_.size() || bat_[block] == kBatUnused) {
    return base::Status::InvalidArgument("block " + std::to_string(block) +
                                         " is not allocated");
  }
  bitmap->resize(bitmap_bytes_);
  return file_->Read(uint64_t{bat_[block]} << kSectorShift, bitmap_bytes_,
                     bitmap->data());
}

base::Status SparseImage::CachedBitmap(uint64_t block,
                                       std::vector<uint8_t>** out) {
  auto it = bitmaps_.find(block);
  if (it == bitmaps_.end()) {
    if (bitmaps_.size() >= kBitmapCacheLimit) {
      for (auto i = bitmaps_.begin(); i != bitmaps_.end();) {
        i = i->second.dirty ? std::next(i) : bitmaps_.erase(i);
      }
    }
    Bitmap bm;
    RETURN_IF_ERROR(ReadBitmap(block, &bm.bits));
    it = bitmaps_.emplace(block, std::move(bm)).first;
  }
  *out = &it->second.bits;
  return base::Status::OK();
}

base::Status SparseImage::GetBlockState(uint64_t block, BlockState* state) {
  RETURN_IF_ERROR(LoadBat());
  state->bitmap = nullptr;
  if (block >= bat_.size() || bat_[block] == kBatUnused) {
    state->kind = BlockKind::kUnallocated;
    return base::Status::OK();
  }
  if (batmap_valid_ && BitmapTest(batmap_.data(), block)) {
    state->kind = BlockKind::kFull;
    state->bitmap = full_bitmap_.data();
    return base::Status::OK();
  }
  std::vector<uint8_t>* bm;
  RETURN_IF_ERROR(CachedBitmap(block, &bm));
  if (BitmapAllSet(bm->data(), 0, sectors_per_block())) {
    state->kind = BlockKind::kFull;
  } else {
    state->kind = BlockKind::kPartial;
  }
  state->bitmap = bm->data();
  return base::Status::OK();
}

base::Status SparseImage::ReadLocator(int index, std::string* payload) {
  const ParentLocatorEntry& e = header_.loc[index];
  if (e.code == 0)
    return base::Status::NotFound("locator " + std::to_string(index));
  if (e.data_length == 0 || e.data_length > kMaxLocatorBytes ||
      e.data_length > e.SpaceBytes() ||
      !RangeWithin(e.data_offset, e.data_length, info_.file_size)) {
    return base::Status::Corruption(path() + ": parent locator " +
                                    std::to_string(index) + " is out of range");
  }
  std::vector<uint8_t> raw(e.data_length);
  RETURN_IF_ERROR(file_->Read(e.data_offset, raw.size(), raw.data()));
  switch (static_cast<PlatformCode>(e.code)) {
    case PlatformCode::kMacX:
    case PlatformCode::kMac:
    case PlatformCode::kWi2r:
    case PlatformCode::kWi2k: {
      payload->assign(raw.begin(), raw.end());
      size_t nul = payload->find('\0');
      if (nul != std::string::npos) payload->resize(nul);
      return base::Status::OK();
    }
    case PlatformCode::kW2ku:
    case PlatformCode::kW2ru:
      if (!Utf16ToUtf8(raw.data(), raw.size(), Utf16Order::kLittle, payload)) {
        return base::Status::Corruption(path() + ": parent locator " +
                                        std::to_string(index) +
                                        " is not valid UTF-16");
      }
      return base::Status::OK();
    case PlatformCode::kNone:
      break;
  }
  return base::Status::Corruption(path() + ": parent locator " +
                                  std::to_string(index) +
                                  " has an unknown code");
}

base::Status SparseImage::LocatorPath(int index, std::string* path) {
  auto code = static_cast<PlatformCode>(header_.loc[index].code);
  if (code != PlatformCode::kMacX && code != PlatformCode::kW2ku &&
      code != PlatformCode::kW2ru) {
    return base::Status::InvalidArgument("locator " + std::to_string(index) +
                                         " does not hold a path");
  }
  std::string p;
  RETURN_IF_ERROR(ReadLocator(index, &p));
  if (code == PlatformCode::kMacX) {
    if (p.rfind("file://", 0) != 0) {
      return base::Status::Corruption(this->path() + ": MacX locator " +
                                      std::to_string(index) +
                                      " is not a file URL");
    }
    p = p.substr(7);
  } else {
    std::replace(p.begin(), p.end(), '\\', '/');
    if (p.size() >= 2 && (p[0] == 'C' || p[0] == 'c') && p[1] == ':') {
      p = p.substr(2);
    }
  }
  if (p.empty()) {
    return base::Status::Corruption(this->path() + ": locator " +
                                    std::to_string(index) + " is empty");
  }
  *path = p;
  return base::Status::OK();
}

base::Status SparseImage::ParentCandidates(std::vector<std::string>* paths) {
  paths->clear();
  std::string dir = base::DirName(path());
  for (int i = 0; i < kParentLocatorCount; ++i) {
    std::string p;
    if (LocatorPath(i, &p).ok()) paths->push_back(base::JoinPath(dir, p));
  }
  std::string name;
  if (header_.DecodeParentName(&name) && !name.empty()) {
    std::replace(name.begin(), name.end(), '\\', '/');
    paths->push_back(base::JoinPath(dir, base::BaseName(name)));
  }
  return base::Status::OK();
}

// ---- writing --------------------------------------------------------------

base::Status SparseImage::CheckWritable() const {
  if (!options_.writable) {
    return base::Status::ReadOnly(path() + " is open read-only");
  }
  return base::Status::OK();
}

base::Status SparseImage::WriteSectors(uint64_t block, uint32_t sector,
                                       uint32_t n, const SectorSource& src) {
  RETURN_IF_ERROR(CheckWritable());
  RETURN_IF_ERROR(LoadBat());
  if (block >= block_count() || sector + uint64_t{n} > sectors_per_block() ||
      n == 0) {
    return base::Status::InvalidArgument("write outside the disk");
  }
  if (bat_[block] == kBatUnused) return AllocateBlock(block, sector, n, src);

  std::vector<uint8_t>* bm;
  RETURN_IF_ERROR(CachedBitmap(block, &bm));
  bool new_bits = !BitmapAllSet(bm->data(), sector, n);
  uint64_t off = DataOffset(block, sector);
  uint64_t len = uint64_t{n} << kSectorShift;
  if (new_bits && type() == DiskType::kDynamic && !options_.shadowed) {
    // Bits first: the sectors already hold zeros, so a crash exposes zeros.
    BitmapSetRange(bm->data(), sector, n);
    RETURN_IF_ERROR(file_->Write(uint64_t{bat_[block]} << kSectorShift,
                                 bm->data(), bitmap_bytes_));
    if (options_.durable) RETURN_IF_ERROR(file_->Sync());
    RETURN_IF_ERROR(src.WriteTo(file_.get(), off, len));
    data_written_ = true;
    MarkBatmapIfFull(block, *bm, true);
    return base::Status::OK();
  }
  // Differencing: data first; the bits that expose it come at commit.
  RETURN_IF_ERROR(src.WriteTo(file_.get(), off, len));
  data_written_ = true;
  if (new_bits) {
    BitmapSetRange(bm->data(), sector, n);
    bitmaps_[block].dirty = true;
    MarkBatmapIfFull(block, *bm, false);
  }
  return base::Status::OK();
}

base::Status SparseImage::ReserveBlocks(const std::vector<uint64_t>& blocks) {
  RETURN_IF_ERROR(CheckWritable());
  RETURN_IF_ERROR(LoadBat());
  // Where AllocateBlock would put each new block, one after the other.
  uint64_t end = eod_;
  for (uint64_t b : blocks) {
    if (b >= bat_.size() || bat_[b] != kBatUnused) continue;
    end = RoundUp(end + bitmap_bytes_, kPageSize) + header_.block_size;
  }
  if (end == eod_) return base::Status::OK();
  end += kFooterSize;
  RETURN_IF_ERROR(file_->Reserve(eod_, end - eod_));
  reserved_end_ = std::max(reserved_end_, end);
  return base::Status::OK();
}

base::Status SparseImage::AllocateBlock(uint64_t block, uint32_t sector,
                                        uint32_t n, const SectorSource& src) {
  uint64_t bm_off = RoundUp(eod_ + bitmap_bytes_, kPageSize) - bitmap_bytes_;
  uint64_t data_off = bm_off + bitmap_bytes_;
  uint64_t new_end = data_off + header_.block_size;
  if ((bm_off >> kSectorShift) >= kBatUnused) {
    return base::Status::TooLarge(path() +
                                  ": the file would exceed the 2 TiB that "
                                  "a BAT entry can address");
  }
  uint64_t old_size = info_.file_size;
  // 1. Move the footer past the new block (the old one may be overwritten).
  if (new_end > footer_off_) {
    RETURN_IF_ERROR(WriteFooterAt(file_.get(), footer_, new_end));
    footer_off_ = new_end;
    info_.file_size = std::max(info_.file_size, new_end + kFooterSize);
  }
  // 2. Bitmap and data, in space no BAT entry points at yet.
  Bitmap bm;
  bm.bits.assign(bitmap_bytes_, 0);
  BitmapSetRange(bm.bits.data(), sector, n);
  RETURN_IF_ERROR(file_->Write(bm_off, bm.bits.data(), bitmap_bytes_));
  uint64_t len = uint64_t{n} << kSectorShift;
  if (data_off < old_size) {
    // Reusing space inside the old file: clear what we do not write so that
    // unset sectors read as zero for bitmap-blind readers too.
    std::vector<uint8_t> zeros(std::min<uint64_t>(header_.block_size, 1 << 20));
    auto zero = [&](uint64_t from, uint64_t to) -> base::Status {
      to = std::min(to, old_size);
      while (from < to) {
        uint64_t k = std::min<uint64_t>(zeros.size(), to - from);
        RETURN_IF_ERROR(file_->Write(from, zeros.data(), k));
        from += k;
      }
      return base::Status::OK();
    };
    RETURN_IF_ERROR(zero(data_off, data_off + (uint64_t{sector} << 9)));
    RETURN_IF_ERROR(zero(data_off + (uint64_t{sector} << 9) + len, new_end));
  }
  RETURN_IF_ERROR(src.WriteTo(
      file_.get(), data_off + (uint64_t{sector} << kSectorShift), len));
  data_written_ = true;
  // 3. BAT entry (written at commit, after the sync).
  bat_[block] = static_cast<uint32_t>(bm_off >> kSectorShift);
  dirty_bat_sectors_.insert(block / kBatEntriesPerSector);
  eod_ = new_end;
  MarkBatmapIfFull(block, bm.bits, true);
  bitmaps_[block] = std::move(bm);
  return base::Status::OK();
}

void SparseImage::MarkBatmapIfFull(uint64_t block,
                                   const std::vector<uint8_t>& bitmap,
                                   bool bitmap_durable) {
  if (!batmap_valid_ || BitmapTest(batmap_.data(), block)) return;
  if (!BitmapAllSet(bitmap.data(), 0, sectors_per_block())) return;
  (bitmap_durable ? batmap_now_ : batmap_later_).insert(block);
}

base::Status SparseImage::WriteBatSectors() {
  std::vector<uint8_t> buf;
  auto it = dirty_bat_sectors_.begin();
  while (it != dirty_bat_sectors_.end()) {
    uint64_t first = *it, last = first;
    auto next = std::next(it);
    while (next != dirty_bat_sectors_.end() && *next == last + 1) {
      last = *next;
      ++next;
    }
    buf.assign((last - first + 1) * kSectorSize, 0);
    uint64_t pad_at = bat_.size() * 4 - first * kSectorSize;
    if (pad_at < buf.size()) {
      std::copy(bat_pad_.begin(), bat_pad_.end(), buf.begin() + pad_at);
    }
    for (uint64_t e = first * kBatEntriesPerSector;
         e < (last + 1) * kBatEntriesPerSector && e < bat_.size(); ++e) {
      uint8_t* q = &buf[(e - first * kBatEntriesPerSector) * 4];
      q[0] = bat_[e] >> 24;
      q[1] = (bat_[e] >> 16) & 0xff;
      q[2] = (bat_[e] >> 8) & 0xff;
      q[3] = bat_[e] & 0xff;
    }
    // Bytes after the last entry keep what the file had (blktap: zeros).
    uint64_t off = header_.table_offset + first * kSectorSize;
    uint64_t bat_end =
        header_.table_offset + RoundUp(uint64_t{bat_.size()} * 4, kSectorSize);
    uint64_t len = std::min<uint64_t>(buf.size(), bat_end - off);
    RETURN_IF_ERROR(file_->Write(off, buf.data(), len));
    it = next;
  }
  dirty_bat_sectors_.clear();
  return base::Status::OK();
}

base::Status SparseImage::WriteBatmap() {
  uint64_t bytes = batmap_checksum_bytes();
  batmap_hdr_.checksum = BatmapHeader::MapChecksum(batmap_.data(), bytes,
                                                   batmap_hdr_.batmap_version);
  uint64_t hoff = batmap_header_offset();
  if (batmap_hdr_.batmap_offset == hoff + kSectorSize) {
    // Header and map are adjacent (always, in files blktap or we create):
    // one write keeps the checksum consistent with the map.
    std::vector<uint8_t> buf(kSectorSize + bytes);
    batmap_hdr_.Encode(buf.data());
    std::copy(batmap_.begin(), batmap_.begin() + bytes,
              buf.begin() + kSectorSize);
    return file_->Write(hoff, buf.data(), buf.size());
  }
  RETURN_IF_ERROR(
      file_->Write(batmap_hdr_.batmap_offset, batmap_.data(), bytes));
  uint8_t hb[kSectorSize];
  batmap_hdr_.Encode(hb);
  return file_->Write(hoff, hb, kSectorSize);
}

base::Status SparseImage::CommitMetadata() {
  if (reserved_end_ != 0) {
    // Give back what ReserveBlocks held past EOF and no block took.
    uint64_t size = 0;
    RETURN_IF_ERROR(file_->Size(&size));
    if (reserved_end_ > size) RETURN_IF_ERROR(file_->Truncate(size));
    reserved_end_ = 0;
  }
  bool dirty_bitmaps = false;
  for (auto& [b, bm] : bitmaps_) dirty_bitmaps |= bm.dirty;
  if (!data_written_ && !dirty_bitmaps && dirty_bat_sectors_.empty() &&
      batmap_now_.empty() && batmap_later_.empty()) {
    return base::Status::OK();
  }
  if (data_written_ && options_.durable) RETURN_IF_ERROR(file_->Sync());
  data_written_ = false;
  for (auto& [b, bm] : bitmaps_) {
    if (!bm.dirty) continue;
    RETURN_IF_ERROR(file_->Write(uint64_t{bat_[b]} << kSectorShift,
                                 bm.bits.data(), bitmap_bytes_));
    bm.dirty = false;
  }
  RETURN_IF_ERROR(WriteBatSectors());
  bool batmap_changed = false;
  for (uint64_t b : batmap_now_) {
    BitmapSet(batmap_.data(), b);
    batmap_changed = true;
  }
  batmap_now_.clear();
  if (!batmap_later_.empty()) {
    if (options_.durable) RETURN_IF_ERROR(file_->Sync());
    for (uint64_t b : batmap_later_) BitmapSet(batmap_.data(), b);
    batmap_later_.clear();
    batmap_changed = true;
  }
  if (batmap_changed) RETURN_IF_ERROR(WriteBatmap());
  return base::Status::OK();
}

base::Status SparseImage::Flush() {
  if (!options_.writable) return base::Status::OK();
  RETURN_IF_ERROR(CommitMetadata());
  return file_->Sync();
}

base::Status SparseImage::WriteFooters(Footer footer) {
  RETURN_IF_ERROR(CheckWritable());
  footer.Seal();
  RETURN_IF_ERROR(WriteFooterAt(file_.get(), footer, footer_off_));
  RETURN_IF_ERROR(WriteFooterAt(file_.get(), footer, 0));
  footer_ = footer;
  info_.footer = footer;
  info_.backup = footer;
  info_.backup_valid = true;
  info_.backup_identical = true;
  return base::Status::OK();
}

base::Status SparseImage::WriteHeader(DynamicHeader header) {
  RETURN_IF_ERROR(CheckWritable());
  header.Seal();
  uint8_t buf[kHeaderSize];
  header.Encode(buf);
  RETURN_IF_ERROR(file_->Write(footer_.data_offset, buf, kHeaderSize));
  header_ = header;
  return base::Status::OK();
}

}  // namespace vhd
