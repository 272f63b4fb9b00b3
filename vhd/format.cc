#include "vhd/format.h"

#include <cstring>
#include <ctime>
#include <vector>

#include "vhd/endian.h"
#include "vhd/unicode.h"

namespace vhd {

const char* DiskTypeName(uint32_t type) {
  switch (type) {
    case 0:
      return "None";
    case 1:
      return "Reserved (deprecated)";
    case 2:
      return "Fixed hard disk";
    case 3:
      return "Dynamic hard disk";
    case 4:
      return "Differencing hard disk";
    case 5:
      return "Reserved (deprecated)";
    case 6:
      return "Reserved (deprecated)";
    default:
      return "Unknown type!\n";
  }
}

uint32_t VhdChecksum(const uint8_t* data, size_t n, size_t checksum_at) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i >= checksum_at && i < checksum_at + 4) continue;
    sum += data[i];
  }
  return ~sum;
}

// ---- footer -----------------------------------------------------------------

Footer Footer::Decode(const uint8_t* p) {
  Footer f;
  std::memcpy(f.cookie.data(), p, 8);
  f.features = LoadBE32(p + 8);
  f.version = LoadBE32(p + 12);
  f.data_offset = LoadBE64(p + 16);
  f.timestamp = LoadBE32(p + 24);
  std::memcpy(f.creator_app.data(), p + 28, 4);
  f.creator_version = LoadBE32(p + 32);
  f.creator_os = LoadBE32(p + 36);
  f.orig_size = LoadBE64(p + 40);
  f.curr_size = LoadBE64(p + 48);
  f.geometry = LoadBE32(p + 56);
  f.type = LoadBE32(p + 60);
  f.checksum = LoadBE32(p + 64);
  std::memcpy(f.uuid.bytes.data(), p + 68, 16);
  f.saved_state = p[84];
  f.hidden = p[85];
  std::memcpy(f.reserved.data(), p + 86, f.reserved.size());
  return f;
}

void Footer::Encode(uint8_t* p) const {
  std::memcpy(p, cookie.data(), 8);
  StoreBE32(p + 8, features);
  StoreBE32(p + 12, version);
  StoreBE64(p + 16, data_offset);
  StoreBE32(p + 24, timestamp);
  std::memcpy(p + 28, creator_app.data(), 4);
  StoreBE32(p + 32, creator_version);
  StoreBE32(p + 36, creator_os);
  StoreBE64(p + 40, orig_size);
  StoreBE64(p + 48, curr_size);
  StoreBE32(p + 56, geometry);
  StoreBE32(p + 60, type);
  StoreBE32(p + 64, checksum);
  std::memcpy(p + 68, uuid.bytes.data(), 16);
  p[84] = saved_state;
  p[85] = hidden;
  std::memcpy(p + 86, reserved.data(), reserved.size());
}

uint32_t Footer::ComputeChecksum() const {
  uint8_t buf[kFooterSize];
  Encode(buf);
  return VhdChecksum(buf, kFooterSize, 64);
}

bool Footer::CookieOk() const {
  return std::memcmp(cookie.data(), "conectix", 8) == 0;
}

bool Footer::CreatorIsTap() const {
  return std::memcmp(creator_app.data(), kCreatorTap, 4) == 0;
}

// ---- dynamic header ---------------------------------------------------------

uint64_t ParentLocatorEntry::SpaceBytes() const {
  if (data_space < kSectorSize) return uint64_t{data_space} << kSectorShift;
  return data_space;
}

DynamicHeader DynamicHeader::Decode(const uint8_t* p) {
  DynamicHeader h;
  std::memcpy(h.cookie.data(), p, 8);
  h.data_offset = LoadBE64(p + 8);
  h.table_offset = LoadBE64(p + 16);
  h.version = LoadBE32(p + 24);
  h.max_table_entries = LoadBE32(p + 28);
  h.block_size = LoadBE32(p + 32);
  h.checksum = LoadBE32(p + 36);
  std::memcpy(h.parent_uuid.bytes.data(), p + 40, 16);
  h.parent_timestamp = LoadBE32(p + 56);
  h.reserved1 = LoadBE32(p + 60);
  std::memcpy(h.parent_name.data(), p + 64, kParentNameBytes);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const uint8_t* l = p + 576 + 24 * i;
    ParentLocatorEntry& e = h.loc[i];
    e.code = LoadBE32(l);
    e.data_space = LoadBE32(l + 4);
    e.data_length = LoadBE32(l + 8);
    e.reserved = LoadBE32(l + 12);
    e.data_offset = LoadBE64(l + 16);
  }
  std::memcpy(h.reserved2.data(), p + 768, h.reserved2.size());
  return h;
}

void DynamicHeader::Encode(uint8_t* p) const {
  std::memcpy(p, cookie.data(), 8);
  StoreBE64(p + 8, data_offset);
  StoreBE64(p + 16, table_offset);
  StoreBE32(p + 24, version);
  StoreBE32(p + 28, max_table_entries);
  StoreBE32(p + 32, block_size);
  StoreBE32(p + 36, checksum);
  std::memcpy(p + 40, parent_uuid.bytes.data(), 16);
  StoreBE32(p + 56, parent_timestamp);
  StoreBE32(p + 60, reserved1);
  std::memcpy(p + 64, parent_name.data(), kParentNameBytes);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    uint8_t* l = p + 576 + 24 * i;
    const ParentLocatorEntry& e = loc[i];
    StoreBE32(l, e.code);
    StoreBE32(l + 4, e.data_space);
    StoreBE32(l + 8, e.data_length);
    StoreBE32(l + 12, e.reserved);
    StoreBE64(l + 16, e.data_offset);
  }
  std::memcpy(p + 768, reserved2.data(), reserved2.size());
}

uint32_t DynamicHeader::ComputeChecksum() const {
  uint8_t buf[kHeaderSize];
  Encode(buf);
  return VhdChecksum(buf, kHeaderSize, 36);
}

bool DynamicHeader::CookieOk() const {
  return std::memcmp(cookie.data(), "cxsparse", 8) == 0;
}

bool DynamicHeader::DecodeParentName(std::string* name) const {
  return Utf16ToUtf8(parent_name.data(), parent_name.size(), Utf16Order::kBig,
                     name);
}

base::Status DynamicHeader::SetParentName(const std::string& name) {
  std::vector<uint8_t> u16;
  if (!Utf8ToUtf16(name, Utf16Order::kBig, &u16)) {
    return base::Status::InvalidArgument("parent name is not valid UTF-8");
  }
  if (u16.size() > parent_name.size()) {
    return base::Status::InvalidArgument(
        "parent name longer than 256 UTF-16 units");
  }
  parent_name.fill(0);
  std::memcpy(parent_name.data(), u16.data(), u16.size());
  return base::Status::OK();
}

// ---- batmap -----------------------------------------------------------------

BatmapHeader BatmapHeader::Decode(const uint8_t* p) {
  BatmapHeader b;
  std::memcpy(b.cookie.data(), p, 8);
  b.batmap_offset = LoadBE64(p + 8);
  b.batmap_size = LoadBE32(p + 16);
  b.batmap_version = LoadBE32(p + 20);
  b.checksum = LoadBE32(p + 24);
  b.marker = p[28];
  std::memcpy(b.keyhash.data(), p + 29, b.keyhash.size());
  std::memcpy(b.reserved.data(), p + 94, b.reserved.size());
  return b;
}

void BatmapHeader::Encode(uint8_t* p) const {
  std::memcpy(p, cookie.data(), 8);
  StoreBE64(p + 8, batmap_offset);
  StoreBE32(p + 16, batmap_size);
  StoreBE32(p + 20, batmap_version);
  StoreBE32(p + 24, checksum);
  p[28] = marker;
  std::memcpy(p + 29, keyhash.data(), keyhash.size());
  std::memcpy(p + 94, reserved.data(), reserved.size());
}

bool BatmapHeader::CookieOk() const {
  return std::memcmp(cookie.data(), "tdbatmap", 8) == 0;
}

uint32_t BatmapHeader::MapChecksum(const uint8_t* map, size_t n,
                                   uint32_t version) {
  uint32_t sum = 0;
  if (version >= kBatmapVersion) {
    for (size_t i = 0; i < n; ++i) sum += map[i];
  } else {
    for (size_t i = 0; i < n; ++i) {
      sum += static_cast<uint32_t>(
          static_cast<int32_t>(static_cast<signed char>(map[i])));
    }
  }
  return ~sum;
}

// ---- geometry and time ------------------------------------------------------

uint32_t ChsGeometry(uint64_t size) {
  uint64_t total = size >> kSectorShift;
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

uint32_t VhdTimeFromUnix(int64_t unix_seconds) {
  int64_t t = unix_seconds - kVhdEpoch;
  if (t < 0) return 0;
  if (t > 0xffffffffll) return 0xffffffffu;
  return static_cast<uint32_t>(t);
}

uint32_t VhdTimeNow() { return VhdTimeFromUnix(std::time(nullptr)); }

int64_t UnixTimeFromVhd(uint32_t vhd_time) {
  return int64_t{vhd_time} + kVhdEpoch;
}

}  // namespace vhd
