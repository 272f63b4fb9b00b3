#include "vhd/resize_journal.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "vhd/endian.h"
#include "vhd/format.h"

namespace vhd {

namespace {

constexpr char kJournalCookie[9] = "vjournal";
constexpr uint64_t kEntryCookie = 0xaaaa12344321aaaaull;
constexpr size_t kJournalHeaderSize = 512;
constexpr size_t kEntryHeaderSize = 32;
constexpr size_t kDataChunk = 4u << 20;  // bytes per data entry we write
// A metadata entry larger than this is not one blktap could have written for
// a disk of at most 2040 GiB (its BAT is 4 MiB at 2 MiB blocks; 512 KiB
// blocks make it 16 MiB).
constexpr uint64_t kMaxMetadataEntry = 64u << 20;
// A parent locator holds a path: blktap reserves a few sectors.
constexpr uint64_t kMaxLocatorEntry = 1u << 20;
// The largest VHD file whose journal we accept: 2040 GiB of data plus room
// for its metadata.
constexpr uint64_t kMaxFooterOffset = 2048ull << 30;

enum EntryType : uint32_t {
  kFooterP = 1,
  kFooterC = 2,
  kHeader = 3,
  kLocator = 4,
  kBat = 5,
  kBatmapH = 6,
  kBatmapM = 7,
  kData = 8,
};

uint64_t Padded(uint64_t bytes) {
  return std::max<uint64_t>(1, SectorsOf(bytes)) << kSectorShift;
}

uint32_t ByteSum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i < n; ++i) sum += p[i];
  return sum;
}

// blktap's reading of a locator's room (vhd_parent_locator_size): sectors
// below 512, bytes when a multiple of 512, otherwise 0 (unusable).
uint64_t LocatorBytes(const ParentLocatorEntry& e) {
  if (e.data_space < kSectorSize) return uint64_t{e.data_space} << kSectorShift;
  return e.data_space % kSectorSize == 0 ? e.data_space : 0;
}

bool CreatorTap3(const Footer& f) {
  return std::memcmp(f.creator_app.data(), "tap", 3) == 0;
}

// The batmap bytes its checksum covers (blktap: one bit per 2 MiB of the
// virtual size, rounded up to a sector, at least one).
uint64_t BatmapSumBytes(const Footer& f) { return Padded(f.curr_size >> 24); }

bool PlatformCodeOk(uint32_t code) {
  switch (static_cast<PlatformCode>(code)) {
    case PlatformCode::kNone:
    case PlatformCode::kWi2r:
    case PlatformCode::kWi2k:
    case PlatformCode::kW2ru:
    case PlatformCode::kW2ku:
    case PlatformCode::kMac:
    case PlatformCode::kMacX:
      return true;
  }
  return false;
}

// vhd-util's footer check: cookie and checksum, and the legacy checksum of
// early tapdisk's hidden disks. A poisoned footer is refused: vhd-util cannot
// have journaled one (it does not open poisoned disks).
bool FooterOk(const Footer& f) {
  if (!f.CookieOk()) return false;
  if (f.ChecksumOk()) return true;
  if (f.hidden == 0 || !CreatorTap3(f) ||
      (f.creator_version != 0x00000001 && f.creator_version != 0x00010001)) {
    return false;
  }
  Footer g = f;
  g.hidden = 0;
  return g.ChecksumOk();
}

bool AnyFooterCookie(const Footer& f) {
  return f.CookieOk() || std::memcmp(f.cookie.data(), "v_poison", 8) == 0;
}

// vhd-util's header check (vhd_validate_header).
bool HeaderOk(const DynamicHeader& h) {
  if (!h.CookieOk() || h.version != 0x00010000 ||
      h.data_offset != kDataOffsetNone || h.block_size > kDefaultBlockSize ||
      !IsPowerOfTwo(h.block_size) || !h.ChecksumOk()) {
    return false;
  }
  for (const ParentLocatorEntry& e : h.loc) {
    if (!PlatformCodeOk(e.code)) return false;
  }
  return true;
}

bool BatmapHeaderOk(const BatmapHeader& b) {
  return b.CookieOk() && b.batmap_version <= kBatmapVersion;
}

// What a revert writes back, parsed from the journal and checked.
struct Parsed {
  Uuid uuid;
  uint64_t footer_off = 0;
  Footer footer, copy;
  bool dynamic = false;
  DynamicHeader header;
  std::vector<std::vector<uint8_t>> locators;  // in slot order
  std::vector<uint8_t> bat;
  bool batmap = false;
  std::vector<uint8_t> batmap_header;  // 512 bytes
  std::vector<uint8_t> map;
  struct Data {
    uint64_t at;      // payload offset in the journal
    uint64_t offset;  // in the VHD
    uint32_t size;
  };
  std::vector<Data> data;
};

class Reader {
 public:
  Reader(base::File* j, uint64_t size) : j_(j), size_(size) {}

  // A read past the end fails as blktap's does: -EPIPE.
  base::Status ReadAt(uint64_t off, uint64_t n, void* buf, int* err) {
    if (!RangeWithin(off, n, size_)) {
      *err = -EPIPE;
      return base::Status::Corruption(j_->path() + ": journal ends at " +
                                      std::to_string(size_) +
                                      " bytes, inside an entry");
    }
    base::Status s = j_->Read(off, n, buf);
    if (!s.ok()) *err = s.ToErrno();
    return s;
  }

  struct Entry {
    uint32_t type = 0, size = 0, checksum = 0;
    uint64_t offset = 0;
    uint8_t raw[kEntryHeaderSize];
  };

  // Reads the entry header at *pos; advances *pos past it.
  base::Status ReadEntry(uint64_t* pos, Entry* e, int* err) {
    RETURN_IF_ERROR(ReadAt(*pos, kEntryHeaderSize, e->raw, err));
    e->type = LoadBE32(e->raw + 8);
    e->size = LoadBE32(e->raw + 12);
    e->offset = LoadBE64(e->raw + 16);
    e->checksum = LoadBE32(e->raw + 24);
    if (LoadBE64(e->raw) != kEntryCookie || e->size == 0 ||
        e->size % kSectorSize != 0) {
      *err = -EINVAL;
      return base::Status::Corruption(j_->path() + ": no journal entry at " +
                                      std::to_string(*pos));
    }
    *pos += kEntryHeaderSize;
    return base::Status::OK();
  }

  uint32_t HeaderSum(const Entry& e) {
    uint8_t raw[kEntryHeaderSize];
    std::memcpy(raw, e.raw, sizeof(raw));
    std::memset(raw + 24, 0, 4);
    return ByteSum(raw, sizeof(raw));
  }

  // Reads a metadata entry of `type` (and `size` if non-zero) with its
  // payload, checksum checked; advances *pos past it.
  base::Status ReadMeta(uint64_t* pos, uint32_t type, uint64_t size, Entry* e,
                        std::vector<uint8_t>* payload, int* err) {
    RETURN_IF_ERROR(ReadEntry(pos, e, err));
    if (e->type != type || (size != 0 && e->size != size)) {
      *err = -EINVAL;
      return base::Status::Corruption(
          j_->path() + ": journal entry at " +
          std::to_string(*pos - kEntryHeaderSize) + " is of type " +
          std::to_string(e->type) + " and " + std::to_string(e->size) +
          " bytes where type " + std::to_string(type) + " was expected");
    }
    if (e->size > kMaxMetadataEntry) {
      *err = -EINVAL;
      return base::Status::Corruption(j_->path() + ": journal entry too large");
    }
    if (!RangeWithin(*pos, e->size, size_)) {  // before allocating
      *err = -EPIPE;
      return base::Status::Corruption(j_->path() + ": journal cut short");
    }
    payload->resize(e->size);
    RETURN_IF_ERROR(ReadAt(*pos, e->size, payload->data(), err));
    if (~ByteSum(payload->data(), payload->size(), HeaderSum(*e)) !=
        e->checksum) {
      *err = -EINVAL;
      return base::Status::Corruption(j_->path() +
                                      ": bad checksum of entry at " +
                                      std::to_string(*pos - kEntryHeaderSize));
    }
    *pos += e->size;
    return base::Status::OK();
  }

  // Checks a data entry's checksum, streaming its payload.
  base::Status CheckData(uint64_t* pos, Parsed::Data* d, int* err) {
    Entry e;
    RETURN_IF_ERROR(ReadEntry(pos, &e, err));
    if (e.type != kData || !RangeWithin(e.offset, e.size, ~uint64_t{0})) {
      *err = -EINVAL;
      return base::Status::Corruption(j_->path() + ": bad data entry at " +
                                      std::to_string(*pos - kEntryHeaderSize));
    }
    uint32_t sum = HeaderSum(e);
    std::vector<uint8_t> buf(std::min<uint64_t>(e.size, kDataChunk));
    for (uint64_t done = 0; done < e.size; done += buf.size()) {
      uint64_t n = std::min<uint64_t>(buf.size(), e.size - done);
      RETURN_IF_ERROR(ReadAt(*pos + done, n, buf.data(), err));
      sum = ByteSum(buf.data(), n, sum);
    }
    if (~sum != e.checksum) {
      *err = -EINVAL;
      return base::Status::Corruption(j_->path() +
                                      ": bad checksum of entry at " +
                                      std::to_string(*pos - kEntryHeaderSize));
    }
    d->at = *pos;
    d->offset = e.offset;
    d->size = e.size;
    *pos += e.size;
    return base::Status::OK();
  }

 private:
  base::File* j_;
  uint64_t size_;
};

// Where ParseMetadata is in the journal, and how it fails.
struct MetaCursor {
  MetaCursor(Reader* reader, const std::string& path, int* error)
      : r(reader), jpath(path), err(error) {}
  Reader* r;
  const std::string& jpath;
  int* err;
  uint64_t pos = kJournalHeaderSize;
  uint32_t count = 0;  // metadata entries read
  uint64_t eof = 0;
  Reader::Entry e;

  base::Status Invalid(const std::string& why) {
    *err = -EINVAL;
    return base::Status::Corruption(jpath + ": " + why);
  }
  // Reads the next metadata entry, of `type` and `size`, into *buf.
  base::Status Next(uint32_t type, uint64_t size, std::vector<uint8_t>* buf) {
    RETURN_IF_ERROR(r->ReadMeta(&pos, type, size, &e, buf, err));
    ++count;
    return base::Status::OK();
  }
};

// The journal's header: *data_off, *meta_entries, *data_entries; p's uuid
// and footer offset.
base::Status ParseJournalHeader(MetaCursor* c, Parsed* p, uint64_t* data_off,
                                uint32_t* meta_entries,
                                uint32_t* data_entries) {
  uint8_t h[kJournalHeaderSize];
  RETURN_IF_ERROR(c->r->ReadAt(0, sizeof(h), h, c->err));
  if (std::memcmp(h, kJournalCookie, 8) != 0) {
    return c->Invalid("not a vhd-util journal (no \"vjournal\" cookie)");
  }
  std::memcpy(p->uuid.bytes.data(), h + 8, 16);
  p->footer_off = LoadBE64(h + 24);
  *data_entries = LoadBE32(h + 32);
  *meta_entries = LoadBE32(h + 36);
  *data_off = LoadBE64(h + 40);
  uint64_t meta_off = LoadBE64(h + 48);
  c->eof = LoadLE64(h + 56);
  if (c->eof > (~uint64_t{0} >> 1) || *data_off > c->eof || meta_off > c->eof) {
    return c->Invalid("journal header out of range");
  }
  if (p->footer_off > kMaxFooterOffset ||
      meta_off != (*meta_entries ? kJournalHeaderSize : 0)) {
    return c->Invalid("journal header out of range");
  }
  return base::Status::OK();
}

// A dynamic disk's saved footer copy, header and parent locators.
base::Status ParseSavedHeader(MetaCursor* c, Parsed* p) {
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(c->Next(kFooterC, kFooterSize, &buf));
  p->copy = Footer::Decode(buf.data());
  if (!FooterOk(p->copy) || c->e.offset != 0) {
    return c->Invalid("the journal's saved footer copy is not valid");
  }
  const uint64_t hoff = p->footer.data_offset;
  RETURN_IF_ERROR(c->Next(kHeader, kHeaderSize, &buf));
  p->header = DynamicHeader::Decode(buf.data());
  if (!HeaderOk(p->header) || c->e.offset != hoff ||
      !RangeWithin(hoff, kHeaderSize, p->footer_off)) {
    return c->Invalid("the journal's saved header is not valid");
  }
  for (const ParentLocatorEntry& l : p->header.loc) {
    if (l.code == 0) continue;
    uint64_t n = LocatorBytes(l);
    if (n == 0 || n > kMaxLocatorEntry ||
        !RangeWithin(l.data_offset, n, p->footer_off)) {
      return c->Invalid("a saved parent locator is out of range");
    }
    p->locators.emplace_back();
    RETURN_IF_ERROR(c->Next(kLocator, n, &p->locators.back()));
    if (c->e.offset != l.data_offset) {
      return c->Invalid("a saved parent locator is not where its header says");
    }
  }
  return base::Status::OK();
}

// The saved batmap (header and map), when blktap's rule says there is one:
// for versions between 0.1 and 1.2 it looks for a batmap header, which is
// then the next entry.
base::Status ParseSavedBatmap(MetaCursor* c, Parsed* p, uint64_t bat_bytes) {
  const Footer& f = p->footer;
  p->batmap = CreatorTap3(f) && f.creator_version > 0x00000001;
  if (p->batmap && f.creator_version < 0x00010002) {
    Reader::Entry next;
    uint64_t peek = c->pos;
    int ignored = 0;
    p->batmap = c->pos < c->eof &&
                c->r->ReadEntry(&peek, &next, &ignored).ok() &&
                next.type == kBatmapH;
  }
  if (!p->batmap) return base::Status::OK();
  const uint64_t hdr_off = p->header.table_offset + bat_bytes;
  RETURN_IF_ERROR(c->Next(kBatmapH, kSectorSize, &p->batmap_header));
  BatmapHeader bh = BatmapHeader::Decode(p->batmap_header.data());
  uint64_t map_bytes = uint64_t{bh.batmap_size} << kSectorShift;
  if (!BatmapHeaderOk(bh) || c->e.offset != hdr_off ||
      !RangeWithin(hdr_off, kSectorSize, p->footer_off) || map_bytes == 0 ||
      map_bytes > kMaxMetadataEntry ||
      !RangeWithin(bh.batmap_offset, map_bytes, p->footer_off) ||
      BatmapSumBytes(f) > map_bytes) {
    return c->Invalid("the saved batmap header is not valid");
  }
  RETURN_IF_ERROR(c->Next(kBatmapM, map_bytes, &p->map));
  if (c->e.offset != bh.batmap_offset ||
      BatmapHeader::MapChecksum(p->map.data(), BatmapSumBytes(f),
                                bh.batmap_version) != bh.checksum) {
    return c->Invalid("the saved batmap does not match its checksum");
  }
  return base::Status::OK();
}

// A dynamic disk's saved metadata after its footer: header, BAT, batmap.
base::Status ParseSavedDynamic(MetaCursor* c, Parsed* p) {
  RETURN_IF_ERROR(ParseSavedHeader(c, p));
  const uint64_t bat_bytes = Padded(uint64_t{p->header.max_table_entries} * 4);
  if (bat_bytes > kMaxMetadataEntry ||
      !RangeWithin(p->header.table_offset, bat_bytes, p->footer_off)) {
    return c->Invalid("the saved BAT is out of range");
  }
  RETURN_IF_ERROR(c->Next(kBat, bat_bytes, &p->bat));
  if (c->e.offset != p->header.table_offset) {
    return c->Invalid("the saved BAT is not where its header says");
  }
  return ParseSavedBatmap(c, p, bat_bytes);
}

// Parses and checks the journal's header and metadata (vhd-util's "open").
base::Status ParseMetadata(Reader* r, const std::string& jpath, Parsed* p,
                           uint64_t* data_pos, uint32_t* data_entries,
                           int* err) {
  MetaCursor c(r, jpath, err);
  uint64_t data_off = 0;
  uint32_t meta_entries = 0;
  RETURN_IF_ERROR(
      ParseJournalHeader(&c, p, &data_off, &meta_entries, data_entries));
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(c.Next(kFooterP, kFooterSize, &buf));
  p->footer = Footer::Decode(buf.data());
  if (!FooterOk(p->footer) || c.e.offset != p->footer_off ||
      p->footer.uuid != p->uuid) {
    return c.Invalid(
        "the journal's saved footer is not valid or not its VHD's");
  }
  p->dynamic = p->footer.IsDynamicOrDiff();
  if (p->dynamic) RETURN_IF_ERROR(ParseSavedDynamic(&c, p));
  if (c.pos != data_off || c.count != meta_entries) {
    return c.Invalid("the journal's metadata does not end where it says");
  }
  *data_pos = c.pos;
  return base::Status::OK();
}

// The VHD must be the journal's: any footer it still carries names the
// journal's uuid. A dynamic disk always keeps its copy at 0 through a resize;
// a fixed one may have none left mid-grow.
base::Status CheckTarget(base::File* f, const std::string& path,
                         const Parsed& p, int* err) {
  uint64_t size;
  RETURN_IF_ERROR(f->Size(&size));
  // Offset 0 of a fixed disk is the guest's data, not a footer copy.
  std::vector<uint64_t> at = {p.footer_off};
  if (p.dynamic) at.push_back(0);
  if (size >= kFooterSize) at.push_back(size - kFooterSize);
  bool matched = false;
  for (uint64_t off : at) {
    uint8_t b[kFooterSize];
    if (!RangeWithin(off, kFooterSize, size) ||
        !f->Read(off, kFooterSize, b).ok()) {
      continue;
    }
    Footer ft = Footer::Decode(b);
    if (!AnyFooterCookie(ft) || !ft.ChecksumOk()) continue;
    if (ft.uuid != p.uuid) {
      *err = -EINVAL;
      return base::Status::InvalidArgument(
          path + " is not the VHD of this journal" + " (uuid " +
          ft.uuid.ToString() + ", the " + "journal's is " + p.uuid.ToString() +
          ")");
    }
    matched = true;
  }
  if (!matched && p.dynamic) {
    *err = -EINVAL;
    return base::Status::InvalidArgument(path +
                                         " has no VHD footer: not the VHD of "
                                         "this journal");
  }
  return base::Status::OK();
}

base::Status WriteFooter(base::File* f, Footer ft, uint64_t off) {
  ft.Seal();
  uint8_t b[kFooterSize];
  ft.Encode(b);
  return f->Write(off, b, kFooterSize);
}

// Writes the metadata back, cuts the file, writes the data entries.
base::Status Apply(base::File* j, base::File* f, const Parsed& p) {
  RETURN_IF_ERROR(WriteFooter(f, p.footer, p.footer_off));
  if (p.dynamic) {
    RETURN_IF_ERROR(WriteFooter(f, p.copy, 0));
    DynamicHeader h = p.header;
    h.Seal();
    uint8_t hb[kHeaderSize];
    h.Encode(hb);
    RETURN_IF_ERROR(f->Write(p.footer.data_offset, hb, kHeaderSize));
    size_t li = 0;
    for (const ParentLocatorEntry& l : p.header.loc) {
      if (l.code == 0) continue;
      const std::vector<uint8_t>& b = p.locators[li++];
      RETURN_IF_ERROR(f->Write(l.data_offset, b.data(), b.size()));
    }
    RETURN_IF_ERROR(
        f->Write(p.header.table_offset, p.bat.data(), p.bat.size()));
    if (p.batmap) {
      BatmapHeader bh = BatmapHeader::Decode(p.batmap_header.data());
      uint64_t sum = BatmapSumBytes(p.footer);
      bh.checksum =
          BatmapHeader::MapChecksum(p.map.data(), sum, bh.batmap_version);
      RETURN_IF_ERROR(f->Write(bh.batmap_offset, p.map.data(), sum));
      uint8_t b[kSectorSize];
      bh.Encode(b);
      RETURN_IF_ERROR(
          f->Write(p.header.table_offset + p.bat.size(), b, kSectorSize));
    }
  }
  const uint64_t end = p.footer_off + kFooterSize;
  RETURN_IF_ERROR(f->Truncate(end));
  // vhd-util writes each entry whole and cuts the file again at the end:
  // only what lies below `end` stays.
  std::vector<uint8_t> buf;
  for (const Parsed::Data& d : p.data) {
    if (d.offset >= end) continue;
    uint64_t n = std::min<uint64_t>(d.size, end - d.offset);
    for (uint64_t done = 0; done < n;) {
      uint64_t c = std::min<uint64_t>(kDataChunk, n - done);
      buf.resize(c);
      RETURN_IF_ERROR(j->Read(d.at + done, c, buf.data()));
      RETURN_IF_ERROR(f->Write(d.offset + done, buf.data(), c));
      done += c;
    }
  }
  return f->Sync();
}

// ---- writing ---------------------------------------------------------------

class Builder {
 public:
  explicit Builder(std::string* out) : out_(out) {
    out_->assign(kJournalHeaderSize, '\0');
  }
  void Add(uint32_t type, uint64_t offset, const uint8_t* p, size_t n) {
    uint8_t e[kEntryHeaderSize] = {};
    StoreBE64(e, kEntryCookie);
    StoreBE32(e + 8, type);
    StoreBE32(e + 12, static_cast<uint32_t>(n));
    StoreBE64(e + 16, offset);
    StoreBE32(e + 24, ~ByteSum(p, n, ByteSum(e, sizeof(e))));
    if (type == kData) {
      ++data_;
    } else {
      ++meta_;
      data_off_ = out_->size() + sizeof(e) + n;
    }
    out_->append(reinterpret_cast<const char*>(e), sizeof(e));
    out_->append(reinterpret_cast<const char*>(p), n);
  }
  void Finish(const Uuid& uuid, uint64_t footer_off) {
    auto* h = reinterpret_cast<uint8_t*>(out_->data());
    std::memcpy(h, kJournalCookie, 8);
    std::memcpy(h + 8, uuid.bytes.data(), 16);
    StoreBE64(h + 24, footer_off);
    StoreBE32(h + 32, data_);
    StoreBE32(h + 36, meta_);
    StoreBE64(h + 40, data_off_);
    StoreBE64(h + 48, kJournalHeaderSize);
    StoreLE64(h + 56, out_->size());
  }

 private:
  std::string* out_;
  uint32_t data_ = 0, meta_ = 0;
  uint64_t data_off_ = 0;
};

base::Status ReadBytes(base::File* f, uint64_t off, uint64_t n, uint64_t limit,
                       std::vector<uint8_t>* b) {
  if (!RangeWithin(off, n, limit)) {
    return base::Status::Corruption(f->path() + ": metadata at " +
                                    std::to_string(off) +
                                    " lies past the footer");
  }
  b->resize(n);
  return f->Read(off, n, b->data());
}

// The refusal of a journal for a VHD whose metadata vhd-util could not
// revert.
base::Status Refuse(base::File* f, const std::string& why) {
  return base::Status::Corruption(f->path() + ": " + why +
                                  ": a resize could not be reverted (run "
                                  "check, repair)");
}

// Journals blktap's batmap (header and map) when the disk has one; the
// header lies right after the BAT, at hdr_off.
base::Status AddBatmap(base::File* f, const Footer& footer, uint64_t hdr_off,
                       uint64_t foff, Builder* b) {
  bool batmap = CreatorTap3(footer) && footer.creator_version > 0x00000001;
  std::vector<uint8_t> hb;
  if (batmap) {
    bool readable = ReadBytes(f, hdr_off, kSectorSize, foff, &hb).ok() &&
                    BatmapHeaderOk(BatmapHeader::Decode(hb.data()));
    if (footer.creator_version < 0x00010002) {
      batmap = readable;
    } else if (!readable) {
      return Refuse(f, "damaged batmap header");
    }
  }
  if (!batmap) return base::Status::OK();
  BatmapHeader bh = BatmapHeader::Decode(hb.data());
  uint64_t map_bytes = uint64_t{bh.batmap_size} << kSectorShift;
  if (map_bytes == 0 || map_bytes > kMaxMetadataEntry ||
      BatmapSumBytes(footer) > map_bytes) {
    return Refuse(f, "batmap of a wrong size");
  }
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(ReadBytes(f, bh.batmap_offset, map_bytes, foff, &buf));
  if (BatmapHeader::MapChecksum(buf.data(), BatmapSumBytes(footer),
                                bh.batmap_version) != bh.checksum) {
    return Refuse(f, "batmap checksum mismatch");
  }
  b->Add(kBatmapH, hdr_off, hb.data(), hb.size());
  b->Add(kBatmapM, bh.batmap_offset, buf.data(), buf.size());
  return base::Status::OK();
}

// Journals a dynamic disk's metadata after its footer: the copy at 0, the
// header, the locators, the BAT and the batmap.
base::Status AddDynamicMetadata(base::File* f, const Footer& footer,
                                uint64_t foff, Builder* b) {
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(ReadBytes(f, 0, kFooterSize, foff, &buf));
  if (!FooterOk(Footer::Decode(buf.data()))) {
    return Refuse(f, "bad footer copy");
  }
  b->Add(kFooterC, 0, buf.data(), buf.size());
  RETURN_IF_ERROR(ReadBytes(f, footer.data_offset, kHeaderSize, foff, &buf));
  DynamicHeader h = DynamicHeader::Decode(buf.data());
  if (!HeaderOk(h)) return Refuse(f, "bad dynamic header");
  b->Add(kHeader, footer.data_offset, buf.data(), buf.size());
  for (const ParentLocatorEntry& l : h.loc) {
    if (l.code == 0) continue;
    uint64_t n = LocatorBytes(l);
    if (n == 0 || n > kMaxLocatorEntry) {
      return Refuse(f, "a parent locator of unusable size");
    }
    RETURN_IF_ERROR(ReadBytes(f, l.data_offset, n, foff, &buf));
    b->Add(kLocator, l.data_offset, buf.data(), buf.size());
  }
  uint64_t bat_bytes = Padded(uint64_t{h.max_table_entries} * 4);
  if (bat_bytes > kMaxMetadataEntry) return Refuse(f, "BAT too large");
  RETURN_IF_ERROR(ReadBytes(f, h.table_offset, bat_bytes, foff, &buf));
  b->Add(kBat, h.table_offset, buf.data(), buf.size());
  return AddBatmap(f, footer, h.table_offset + bat_bytes, foff, b);
}

// Journals the current bytes of each range below the footer at foff, as
// data entries of whole sectors.
base::Status AddDataRanges(
    base::File* f, const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
    uint64_t foff, uint64_t size, Builder* b) {
  std::vector<uint8_t> buf;
  for (auto [off, len] : ranges) {
    if (off >= foff) continue;
    uint64_t end = RoundUp(std::min(foff, off + len) - off, kSectorSize) + off;
    for (uint64_t at = off; at < end; at += kDataChunk) {
      uint64_t n = std::min<uint64_t>(kDataChunk, end - at);
      RETURN_IF_ERROR(ReadBytes(f, at, n, size, &buf));
      b->Add(kData, at, buf.data(), buf.size());
    }
  }
  return base::Status::OK();
}

}  // namespace

base::Status WriteResizeJournal(
    base::Env* env, base::File* f, const std::string& journal,
    const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  uint64_t size;
  RETURN_IF_ERROR(f->Size(&size));
  if (size < kFooterSize) return Refuse(f, "too small");
  const uint64_t foff = size - kFooterSize;
  std::string out;
  Builder b(&out);
  std::vector<uint8_t> buf;
  RETURN_IF_ERROR(ReadBytes(f, foff, kFooterSize, size, &buf));
  Footer footer = Footer::Decode(buf.data());
  if (!FooterOk(footer)) return Refuse(f, "no valid footer at its end");
  b.Add(kFooterP, foff, buf.data(), buf.size());
  if (footer.IsDynamicOrDiff()) {
    RETURN_IF_ERROR(AddDynamicMetadata(f, footer, foff, &b));
  }
  RETURN_IF_ERROR(AddDataRanges(f, ranges, foff, size, &b));
  b.Finish(footer.uuid, foff);
  return base::WriteFileAtomic(env, journal, out);
}

base::Status RevertResizeJournal(base::Env* env, const std::string& path,
                                 const std::string& journal,
                                 RevertOutcome* outcome) {
  RevertOutcome local;
  RevertOutcome* o = outcome ? outcome : &local;
  o->stage = RevertOutcome::Stage::kOpen;
  o->vhd_errno = 0;
  auto fail = [&](base::Status s) {
    if (o->vhd_errno == 0) o->vhd_errno = s.ToErrno();
    return s;
  };
  std::unique_ptr<base::File> j, f;
  base::Status s = env->Open(journal, base::Env::OpenMode::kReadOnly, &j);
  if (!s.ok()) return fail(s);
  s = env->Open(path, base::Env::OpenMode::kReadWrite, &f);
  if (!s.ok()) return fail(s);
  uint64_t jsize;
  s = j->Size(&jsize);
  if (!s.ok()) return fail(s);
  Reader r(j.get(), jsize);
  Parsed p;
  uint64_t pos = 0;
  uint32_t data_entries = 0;
  s = ParseMetadata(&r, journal, &p, &pos, &data_entries, &o->vhd_errno);
  if (s.ok()) s = CheckTarget(f.get(), path, p, &o->vhd_errno);
  if (!s.ok()) return fail(s);

  o->stage = RevertOutcome::Stage::kRevert;
  for (uint32_t i = 0; i < data_entries; ++i) {
    p.data.emplace_back();
    s = r.CheckData(&pos, &p.data.back(), &o->vhd_errno);
    if (!s.ok()) return fail(s);
  }
  s = Apply(j.get(), f.get(), p);
  if (!s.ok()) return fail(s);
  f.reset();
  j.reset();

  o->stage = RevertOutcome::Stage::kRemove;
  s = env->Unlink(journal);
  if (s.ok()) s = env->SyncDir(base::DirName(journal));
  return s.ok() ? s : fail(s);
}

}  // namespace vhd
