// The VHD on-disk structures (Microsoft VHD spec v1.0 plus blktap's
// extensions) and their exact big-endian encodings.
//
// Decode* never trusts its input: it only parses bytes; validation of the
// values (Validate*) is separate so that `check` can report every problem and
// readers can be tolerant where the peers are (511-byte footers, data_space in
// sectors or bytes, hidden-flag legacy checksums).
//
// Reserved areas are carried through decode/encode unchanged, so rewriting a
// footer that we did not create keeps it byte-identical apart from the fields
// we change.
#ifndef VHDSM_VHD_FORMAT_H_
#define VHDSM_VHD_FORMAT_H_

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "vhd/uuid.h"

namespace vhd {

inline constexpr uint32_t kSectorSize = 512;
inline constexpr uint32_t kSectorShift = 9;
inline constexpr uint32_t kFooterSize = 512;
inline constexpr uint32_t kHeaderSize = 1024;
inline constexpr uint32_t kDefaultBlockSize = 2u << 20;
inline constexpr uint32_t kPageSize = 4096;
inline constexpr uint32_t kBatUnused = 0xffffffffu;
inline constexpr uint64_t kDataOffsetNone = ~uint64_t{0};
// 2040 GiB: qemu's VHD_MAX_SECTORS, xapi's MAX_VHD_SIZE.
inline constexpr uint64_t kMaxVirtualSize = 2040ull << 30;
// Seconds between the Unix epoch and the VHD epoch (2000-01-01 00:00 UTC).
inline constexpr int64_t kVhdEpoch = 946684800;
inline constexpr uint32_t kFormatVersion = 0x00010000;
inline constexpr uint32_t kFeatureTemporary = 0x1;
inline constexpr uint32_t kFeatureReserved = 0x2;
// blktap's creator, version 1.3: XenServer's tools expect a batmap in it.
inline constexpr char kCreatorTap[4] = {'t', 'a', 'p', '\0'};
inline constexpr uint32_t kCreatorTapVersion = 0x00010003;
inline constexpr uint32_t kCreatorOsNone = 0;
inline constexpr uint32_t kBatmapVersion = 0x00010002;
inline constexpr int kParentLocatorCount = 8;
inline constexpr int kParentNameBytes = 512;

enum class DiskType : uint32_t {
  kNone = 0,
  kFixed = 2,
  kDynamic = 3,
  kDifferencing = 4,
};
const char* DiskTypeName(uint32_t type);  // blktap's HD_TYPE_STR

// Parent locator platform codes.
enum class PlatformCode : uint32_t {
  kNone = 0,
  kWi2r = 0x57693272,  // "Wi2r" (deprecated)
  kWi2k = 0x5769326B,  // "Wi2k" (deprecated)
  kW2ru = 0x57327275,  // "W2ru": relative Windows path, UTF-16LE
  kW2ku = 0x57326B75,  // "W2ku": absolute Windows path, UTF-16LE
  kMac = 0x4D616320,   // "Mac " (alias)
  kMacX = 0x4D616358,  // "MacX": file:// URL, UTF-8
};

// One's complement of the byte sum, with the 4 checksum bytes at
// `checksum_at` counted as zero.
uint32_t VhdChecksum(const uint8_t* data, size_t n, size_t checksum_at);

struct Footer {
  std::array<char, 8> cookie{};
  uint32_t features = 0;
  uint32_t version = 0;
  uint64_t data_offset = 0;
  uint32_t timestamp = 0;
  std::array<char, 4> creator_app{};
  uint32_t creator_version = 0;
  uint32_t creator_os = 0;
  uint64_t orig_size = 0;
  uint64_t curr_size = 0;
  uint32_t geometry = 0;  // cylinders << 16 | heads << 8 | sectors
  uint32_t type = 0;
  uint32_t checksum = 0;
  Uuid uuid;
  uint8_t saved_state = 0;
  uint8_t hidden = 0;                   // blktap: byte 85
  std::array<uint8_t, 426> reserved{};  // bytes 86..511

  // Parses 512 bytes (a 511-byte short footer is passed zero-padded).
  static Footer Decode(const uint8_t* p);
  // Encodes with the checksum field as stored in `checksum`.
  void Encode(uint8_t* p) const;
  uint32_t ComputeChecksum() const;
  // Sets `checksum` from the other fields.
  void Seal() { checksum = ComputeChecksum(); }
  bool CookieOk() const;
  bool ChecksumOk() const { return checksum == ComputeChecksum(); }
  DiskType disk_type() const { return static_cast<DiskType>(type); }
  bool IsDynamicOrDiff() const {
    return type == static_cast<uint32_t>(DiskType::kDynamic) ||
           type == static_cast<uint32_t>(DiskType::kDifferencing);
  }
  bool CreatorIsTap() const;
};

struct ParentLocatorEntry {
  uint32_t code = 0;
  uint32_t data_space = 0;  // sectors per spec; bytes as Microsoft/blktap write
  uint32_t data_length = 0;
  uint32_t reserved = 0;
  uint64_t data_offset = 0;

  // Room in bytes: data_space as sectors if < 512, else bytes (as blktap's
  // vhd_parent_locator_size reads it).
  uint64_t SpaceBytes() const;
};

struct DynamicHeader {
  std::array<char, 8> cookie{};
  uint64_t data_offset = 0;
  uint64_t table_offset = 0;
  uint32_t version = 0;
  uint32_t max_table_entries = 0;
  uint32_t block_size = 0;
  uint32_t checksum = 0;
  Uuid parent_uuid;
  uint32_t parent_timestamp = 0;
  uint32_t reserved1 = 0;
  std::array<uint8_t, kParentNameBytes> parent_name{};  // UTF-16BE
  std::array<ParentLocatorEntry, kParentLocatorCount> loc{};
  std::array<uint8_t, 256> reserved2{};

  static DynamicHeader Decode(const uint8_t* p);  // 1024 bytes
  void Encode(uint8_t* p) const;
  uint32_t ComputeChecksum() const;
  void Seal() { checksum = ComputeChecksum(); }
  bool CookieOk() const;
  bool ChecksumOk() const { return checksum == ComputeChecksum(); }

  // parent_name as UTF-8; false if it is not valid UTF-16BE.
  bool DecodeParentName(std::string* name) const;
  // Stores `name` (UTF-8) as UTF-16BE; InvalidArgument if too long.
  base::Status SetParentName(const std::string& name);
};

// blktap's batmap header: one sector at table_offset + BAT bytes (rounded to a
// sector), followed by the map (one bit per block, set <=> block bitmap full).
struct BatmapHeader {
  std::array<char, 8> cookie{};  // "tdbatmap"
  uint64_t batmap_offset = 0;    // bytes
  uint32_t batmap_size = 0;      // sectors
  uint32_t batmap_version = 0;
  uint32_t checksum = 0;  // ~ sum of map bytes
  uint8_t marker = 0;
  std::array<uint8_t, 65> keyhash{};  // cookie u8, nonce[32], sha256[32]
  std::array<uint8_t, 418> reserved{};

  static BatmapHeader Decode(const uint8_t* p);  // 512 bytes
  void Encode(uint8_t* p) const;
  bool CookieOk() const;
  // Checksum of a map of `n` bytes: v1.2 sums unsigned bytes, older versions
  // summed signed chars.
  static uint32_t MapChecksum(const uint8_t* map, size_t n, uint32_t version);
};

// CHS geometry for a disk of `size` bytes, per the spec's appendix.
uint32_t ChsGeometry(uint64_t size);
inline uint64_t GeometrySectors(uint32_t g) {
  return uint64_t{g >> 16} * ((g >> 8) & 0xff) * (g & 0xff);
}

// VHD timestamps: seconds since 2000-01-01 UTC.
uint32_t VhdTimeFromUnix(int64_t unix_seconds);
uint32_t VhdTimeNow();
int64_t UnixTimeFromVhd(uint32_t vhd_time);

inline uint64_t RoundUp(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}
inline uint64_t SectorsOf(uint64_t bytes) {
  return (bytes + kSectorSize - 1) >> kSectorShift;
}
inline bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
// True if [off, off + len) lies within [0, limit), without overflow: hostile
// offsets near 2^64 must not wrap around.
inline bool RangeWithin(uint64_t off, uint64_t len, uint64_t limit) {
  return off <= limit && len <= limit - off;
}

}  // namespace vhd

#endif  // VHDSM_VHD_FORMAT_H_
