// specvhd: VHD fixtures written straight from the Microsoft VHD spec v1.0
// (hard disk footer, dynamic disk header, BAT, sector bitmaps, parent
// locators) plus blktap's batmap, with byte packing of its own. Nothing from
// vhd/ is included here on purpose: this is an independent oracle.
#include "tests/util/spec_vhd.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace specvhd {

namespace {

constexpr uint64_t kFooterBytes = 512;
constexpr uint64_t kHeaderBytes = 1024;
constexpr uint64_t kPage = 4096;

uint64_t RoundUpTo(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

void PutBytes(std::string* s, uint64_t off, const void* p, size_t n) {
  if (off + n > s->size()) throw std::out_of_range("specvhd: write past end");
  std::memcpy(&(*s)[off], p, n);
}

// The spec's "Hard Disk Footer Format" table, packed by hand.
std::string MakeFooter(const Disk& d, const Uuid& uuid,
                       uint64_t header_offset) {
  std::string f(kFooterBytes, '\0');
  PutBytes(&f, 0, "conectix", 8);                  // Cookie
  PutBE32(&f, 8, 0x00000002);                      // Features: reserved bit
  PutBE32(&f, 12, 0x00010000);                     // File Format Version
  PutBE64(&f, 16, header_offset);                  // Data Offset
  PutBE32(&f, 24, d.timestamp);                    // Time Stamp
  PutBytes(&f, 28, d.creator.data(), 4);           // Creator Application
  PutBE32(&f, 32, d.creator_version);              // Creator Version
  PutBE32(&f, 36, d.creator_os);                   // Creator Host OS
  PutBE64(&f, 40, d.virtual_size);                 // Original Size
  PutBE64(&f, 48, d.virtual_size);                 // Current Size
  PutBE32(&f, 56, Chs(d.virtual_size));            // Disk Geometry
  PutBE32(&f, 60, static_cast<uint32_t>(d.type));  // Disk Type
  PutBytes(&f, 68, uuid.data(), 16);               // Unique Id
  f[84] = 0;                                       // Saved State
  f[85] = static_cast<char>(d.hidden);             // blktap's hidden flag
  PutBE32(&f, 64, Checksum(f, 0, kFooterBytes, 64));
  return f;
}

std::string EncodeLocator(const Locator& l) {
  if (!l.raw_payload.empty()) return l.raw_payload;
  if (l.code == kW2ku || l.code == kW2ru) return Utf16(l.text, false);
  return l.text;  // MacX: UTF-8
}

// Fills `n` bytes at `p` with random bytes of which at least one is non-zero.
void RandomFill(std::mt19937_64* rng, char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = (*rng)();
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>((*rng)());
  if (n > 0) p[0] = static_cast<char>(p[0] | 0x40);
}

bool SectorPresent(const Block& b, uint32_t s) {
  if (b.kind == Block::Kind::kFull) return true;
  if (b.kind == Block::Kind::kPartial) {
    return s < b.present.size() && b.present[s];
  }
  return false;
}

// Writes one sector of content: random (1 in 16 all zero, so that explicit
// zeros that shadow a parent are covered too).
void SectorData(std::mt19937_64* rng, char* p) {
  if ((*rng)() % 16 == 0) {
    std::memset(p, 0, kSector);
  } else {
    RandomFill(rng, p, kSector);
  }
}

Image BuildFixed(const Disk& d, const Uuid& uuid) {
  Image img;
  img.uuid = uuid;
  std::mt19937_64 rng(d.seed * 0x9E3779B97F4A7C15ull + 7);
  std::string data(d.virtual_size, '\0');
  uint64_t spb = d.block_size / kSector;
  char sec[kSector];
  for (uint64_t b = 0; b < d.blocks.size(); ++b) {
    for (uint32_t s = 0; s < spb; ++s) {
      uint64_t at = (b * spb + s) * kSector;
      if (at >= d.virtual_size) break;
      if (!SectorPresent(d.blocks[b], s)) continue;
      SectorData(&rng, sec);
      std::memcpy(&data[at], sec,
                  std::min<uint64_t>(kSector, d.virtual_size - at));
    }
  }
  img.raw = data;
  std::string footer = MakeFooter(d, uuid, ~uint64_t{0});
  img.file = data;
  img.layout.footer_offset = data.size();
  switch (d.footer) {
    case FooterMode::kNormal:
      img.file += footer;
      break;
    case FooterMode::kShort511:
      img.file += footer.substr(0, 511);
      break;
    case FooterMode::kCorruptEof:
      footer[67] = static_cast<char>(footer[67] ^ 0x5a);
      img.file += footer;
      break;
    case FooterMode::kMissingEof:
      img.layout.footer_offset = kNoOffset;
      break;
  }
  return img;
}

}  // namespace

// ---- byte helpers -----------------------------------------------------------

void PutBE16(std::string* s, uint64_t off, uint16_t v) {
  uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  PutBytes(s, off, b, 2);
}

void PutBE32(std::string* s, uint64_t off, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  PutBytes(s, off, b, 4);
}

void PutBE64(std::string* s, uint64_t off, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  PutBytes(s, off, b, 8);
}

uint32_t GetBE32(const std::string& s, uint64_t off) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s.at(off + i));
  return v;
}

uint64_t GetBE64(const std::string& s, uint64_t off) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(s.at(off + i));
  return v;
}

uint32_t Checksum(const std::string& s, uint64_t off, uint64_t n,
                  uint64_t checksum_at) {
  uint32_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (i >= checksum_at && i < checksum_at + 4) continue;
    sum += static_cast<uint8_t>(s.at(off + i));
  }
  return ~sum;
}

void ResealFooter(std::string* file, uint64_t off) {
  std::string f = file->substr(off, kFooterBytes);
  f.resize(kFooterBytes, '\0');  // a 511-byte footer: the last byte is zero
  uint32_t sum = Checksum(f, 0, kFooterBytes, 64);
  PutBE32(file, off + 64, sum);
}

void ResealHeader(std::string* file, uint64_t off) {
  PutBE32(file, off + 36, Checksum(*file, off, kHeaderBytes, 36));
}

std::string Utf16(const std::string& utf8, bool big_endian) {
  std::string out;
  auto unit = [&](uint32_t u) {
    char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xff);
    if (big_endian) {
      out += hi;
      out += lo;
    } else {
      out += lo;
      out += hi;
    }
  };
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<uint8_t>(utf8[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    for (size_t k = 1; k < len && i + k < utf8.size(); ++k) {
      cp = cp << 6 | (static_cast<uint8_t>(utf8[i + k]) & 0x3f);
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xd800 | (cp >> 10));
      unit(0xdc00 | (cp & 0x3ff));
    } else {
      unit(cp);
    }
  }
  return out;
}

// Appendix "CHS Calculation" of the spec, verbatim.
uint32_t Chs(uint64_t size) {
  uint64_t total = size / kSector;
  uint64_t spt, heads, cth;
  if (total > 65535ull * 16 * 255) total = 65535ull * 16 * 255;
  if (total >= 65535ull * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = total / spt;
  } else {
    spt = 17;
    cth = total / spt;
    heads = (cth + 1023) / 1024;
    if (heads < 4) heads = 4;
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = total / spt;
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = total / spt;
    }
  }
  uint64_t cyl = cth / heads;
  return static_cast<uint32_t>(cyl << 16 | heads << 8 | spt);
}

Uuid RandomUuid(uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0xA5A5F00DCAFEull);
  Uuid u;
  for (auto& b : u) b = static_cast<uint8_t>(rng());
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);  // version 4
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

// ---- content helpers --------------------------------------------------------

uint64_t BlockCount(const Disk& d) {
  return (d.virtual_size + d.block_size - 1) / d.block_size;
}

Block PartialBlock(uint32_t spb,
                   const std::vector<std::pair<uint32_t, uint32_t>>& runs,
                   bool junk) {
  Block b;
  b.kind = Block::Kind::kPartial;
  b.present.assign(spb, false);
  b.junk = junk;
  for (auto [first, n] : runs) {
    for (uint32_t s = first; s < first + n && s < spb; ++s) b.present[s] = true;
  }
  return b;
}

std::vector<Block> RandomBlocks(uint64_t count, uint32_t spb,
                                std::mt19937_64* rng, bool junk,
                                bool aligned_4k) {
  std::vector<Block> out(count);
  uint32_t unit = aligned_4k ? 8 : 1;
  for (Block& b : out) {
    uint64_t r = (*rng)() % 100;
    b.junk = junk;
    if (r < 25) continue;  // unallocated
    if (r < 45) {
      b.kind = Block::Kind::kFull;
      continue;
    }
    b.kind = Block::Kind::kPartial;
    b.present.assign(spb, false);
    uint32_t units = spb / unit;
    if (units == 0) {
      b.kind = Block::Kind::kFull;
      continue;
    }
    if ((*rng)() % 4 == 0) {
      // Independent random bits.
      for (uint32_t u = 0; u < units; ++u) {
        bool on = (*rng)() % 2;
        for (uint32_t k = 0; k < unit; ++k) b.present[u * unit + k] = on;
      }
    } else {
      // Runs: single units, short runs and long runs, alternating.
      bool on = (*rng)() % 2;
      for (uint32_t u = 0; u < units;) {
        uint64_t pick = (*rng)() % 10;
        uint32_t len = pick < 3   ? 1
                       : pick < 6 ? 2 + (*rng)() % 7
                       : pick < 9 ? 9 + (*rng)() % 64
                                  : 1 + (*rng)() % units;
        len = std::min(len, units - u);
        for (uint32_t k = 0; k < len * unit; ++k) {
          b.present[u * unit + k] = on;
        }
        u += len;
        on = !on;
      }
    }
  }
  return out;
}

// ---- the builder ------------------------------------------------------------

Image Build(const Disk& d, const std::string& parent_raw) {
  if (d.block_size < kSector || (d.block_size & (d.block_size - 1)) != 0) {
    throw std::invalid_argument("specvhd: block size must be a power of two");
  }
  Uuid uuid = d.uuid;
  if (uuid == Uuid{}) uuid = RandomUuid(d.seed);
  if (d.type == Type::kFixed) return BuildFixed(d, uuid);

  Image img;
  img.uuid = uuid;
  Layout& L = img.layout;
  std::mt19937_64 rng(d.seed * 0x9E3779B97F4A7C15ull + 1);

  const uint64_t nblocks = BlockCount(d);
  const uint32_t spb = d.block_size / kSector;
  const uint64_t entries = nblocks + d.extra_bat_entries;
  L.max_table_entries = static_cast<uint32_t>(entries);
  L.bitmap_bytes = static_cast<uint32_t>(RoundUpTo((spb + 7) / 8, kSector));
  const uint64_t bat_bytes = RoundUpTo(entries * 4, kSector);
  const uint64_t map_bytes =
      std::max<uint64_t>(kSector, RoundUpTo((entries + 7) / 8, kSector));
  const uint64_t bat_region = bat_bytes + (d.batmap ? kSector + map_bytes : 0);

  // ---- placement
  uint64_t pos = 0;
  pos += kFooterBytes;  // footer copy
  pos += uint64_t{d.header_gap_sectors} * kSector;
  L.header_offset = pos;
  pos += kHeaderBytes;
  auto place_bat = [&]() {
    L.table_offset = pos;
    if (d.batmap) L.batmap_header_offset = pos + bat_bytes;
    pos += bat_region;
  };
  if (!d.bat_after_blocks) place_bat();
  std::vector<std::string> payloads;
  std::vector<uint64_t> spaces;
  for (const Locator& l : d.locators) {
    payloads.push_back(EncodeLocator(l));
    uint64_t space =
        RoundUpTo(std::max<uint64_t>(payloads.back().size(), 1), kSector) +
        uint64_t{l.extra_sectors} * kSector;
    spaces.push_back(space);
    L.locator_offsets.push_back(pos);
    pos += space;
  }
  std::vector<uint64_t> order;
  for (uint64_t b = 0; b < nblocks && b < d.blocks.size(); ++b) {
    if (d.blocks[b].kind != Block::Kind::kUnallocated) order.push_back(b);
  }
  if (d.shuffle_blocks) {
    std::mt19937_64 srng(d.seed + 99);
    for (size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[srng() % i]);
    }
  }
  L.block_offsets.assign(nblocks, kNoOffset);
  for (uint64_t b : order) {
    if (d.align_data_4k)
      pos = RoundUpTo(pos + L.bitmap_bytes, kPage) - L.bitmap_bytes;
    L.block_offsets[b] = pos;
    pos += L.bitmap_bytes + d.block_size;
  }
  if (d.bat_after_blocks) place_bat();
  uint64_t file_size = pos;
  switch (d.footer) {
    case FooterMode::kNormal:
    case FooterMode::kCorruptEof:
      L.footer_offset = pos;
      file_size += kFooterBytes;
      break;
    case FooterMode::kShort511:
      L.footer_offset = pos;
      file_size += kFooterBytes - 1;
      break;
    case FooterMode::kMissingEof:
      L.footer_offset = kNoOffset;
      break;
  }
  std::string& file = img.file;
  file.assign(file_size, '\0');

  // ---- expected raw: the parent's content, or zeros
  img.raw.assign(d.virtual_size, '\0');
  if (d.type == Type::kDifferencing) {
    std::memcpy(img.raw.data(), parent_raw.data(),
                std::min<uint64_t>(parent_raw.size(), d.virtual_size));
  }

  // ---- blocks: bitmap + data (generated in block order, so the content does
  // not depend on the placement)
  char sec[kSector];
  for (uint64_t b = 0; b < nblocks; ++b) {
    if (L.block_offsets[b] == kNoOffset) continue;
    const Block& blk = d.blocks[b];
    uint64_t bm_off = L.block_offsets[b];
    uint64_t data_off = bm_off + L.bitmap_bytes;
    std::string bitmap(L.bitmap_bytes, '\0');
    for (uint32_t s = 0; s < spb; ++s) {
      uint64_t vat = (b * spb + s) * kSector;
      if (SectorPresent(blk, s)) {
        bitmap[s / 8] = static_cast<char>(bitmap[s / 8] | (0x80 >> (s % 8)));
        SectorData(&rng, sec);
        PutBytes(&file, data_off + uint64_t{s} * kSector, sec, kSector);
        if (vat < d.virtual_size) {
          std::memcpy(&img.raw[vat], sec,
                      std::min<uint64_t>(kSector, d.virtual_size - vat));
        }
      } else if (blk.junk) {
        RandomFill(&rng, sec, kSector);
        PutBytes(&file, data_off + uint64_t{s} * kSector, sec, kSector);
      }
    }
    if (d.junk_bitmap_padding) {
      for (uint64_t bit = spb; bit < uint64_t{L.bitmap_bytes} * 8; ++bit) {
        if (rng() % 2) {
          bitmap[bit / 8] =
              static_cast<char>(bitmap[bit / 8] | (0x80 >> (bit % 8)));
        }
      }
    }
    PutBytes(&file, bm_off, bitmap.data(), bitmap.size());
  }

  // ---- BAT: big-endian sector offsets of the block bitmaps
  if (d.bat_pad_ff) {
    std::memset(&file[L.table_offset], 0xff, bat_bytes);
  }
  for (uint64_t i = 0; i < entries; ++i) {
    uint64_t off = i < nblocks ? L.block_offsets[i] : kNoOffset;
    PutBE32(
        &file, L.table_offset + i * 4,
        off == kNoOffset ? 0xffffffffu : static_cast<uint32_t>(off / kSector));
  }

  // ---- blktap batmap: header sector, then one bit per block (set = full)
  if (d.batmap) {
    uint64_t h = L.batmap_header_offset;
    uint64_t map = h + kSector;
    for (uint64_t b = 0; b < nblocks && b < d.blocks.size(); ++b) {
      if (d.blocks[b].kind == Block::Kind::kFull) {
        file[map + b / 8] =
            static_cast<char>(file[map + b / 8] | (0x80 >> (b % 8)));
      }
    }
    PutBytes(&file, h, "tdbatmap", 8);
    PutBE64(&file, h + 8, map);
    PutBE32(&file, h + 16, static_cast<uint32_t>(map_bytes / kSector));
    PutBE32(&file, h + 20, 0x00010002);
    PutBE32(&file, h + 24, Checksum(file, map, map_bytes, map_bytes));
  }

  // ---- locator payloads
  for (size_t i = 0; i < payloads.size(); ++i) {
    PutBytes(&file, L.locator_offsets[i], payloads[i].data(),
             payloads[i].size());
  }

  // ---- dynamic disk header ("Dynamic Disk Header Format" table)
  uint64_t ho = L.header_offset;
  PutBytes(&file, ho, "cxsparse", 8);            // Cookie
  PutBE64(&file, ho + 8, ~uint64_t{0});          // Data Offset (unused)
  PutBE64(&file, ho + 16, L.table_offset);       // Table Offset
  PutBE32(&file, ho + 24, 0x00010000);           // Header Version
  PutBE32(&file, ho + 28, L.max_table_entries);  // Max Table Entries
  PutBE32(&file, ho + 32, d.block_size);         // Block Size
  if (d.type == Type::kDifferencing) {
    PutBytes(&file, ho + 40, d.parent_uuid.data(), 16);  // Parent Unique ID
    PutBE32(&file, ho + 56, d.parent_timestamp);         // Parent Time Stamp
    std::string name = Utf16(d.parent_name, true);       // Parent Unicode Name
    if (name.size() > 512) throw std::invalid_argument("parent name too long");
    PutBytes(&file, ho + 64, name.data(), name.size());
    for (size_t i = 0; i < d.locators.size() && i < 8; ++i) {
      const Locator& l = d.locators[i];
      uint64_t e = ho + 576 + 24 * i;  // Parent Locator Entries
      PutBE32(&file, e, l.code);
      PutBE32(&file, e + 4,
              static_cast<uint32_t>(l.space_in_sectors ? spaces[i] / kSector
                                                       : spaces[i]));
      PutBE32(&file, e + 8, static_cast<uint32_t>(payloads[i].size()));
      PutBE32(&file, e + 12, 0);
      PutBE64(&file, e + 16, L.locator_offsets[i]);
    }
  }
  ResealHeader(&file, ho);

  // ---- footers
  std::string footer = MakeFooter(d, uuid, L.header_offset);
  PutBytes(&file, 0, footer.data(), kFooterBytes);
  switch (d.footer) {
    case FooterMode::kNormal:
      PutBytes(&file, L.footer_offset, footer.data(), kFooterBytes);
      break;
    case FooterMode::kShort511:
      PutBytes(&file, L.footer_offset, footer.data(), kFooterBytes - 1);
      break;
    case FooterMode::kCorruptEof:
      footer[67] = static_cast<char>(footer[67] ^ 0x5a);
      PutBytes(&file, L.footer_offset, footer.data(), kFooterBytes);
      break;
    case FooterMode::kMissingEof:
      break;
  }
  return img;
}

}  // namespace specvhd
