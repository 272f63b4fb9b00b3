// specvhd: an independent VHD fixture generator for tests, written straight
// from the Microsoft "Virtual Hard Disk Image Format Specification" (v1.0)
// with its own byte packing. It deliberately includes nothing from vhd/: it
// is the oracle the library is tested against.
//
// A test describes a disk (fixed, dynamic or differencing; any power-of-two
// block size; creator; per-block content: unallocated, full, or partial with
// an explicit sector bitmap, optionally with junk under clear bits; parent
// uuid, name and locators; footer variants; block placement) and gets back
// the file bytes, the layout (for hostile patching) and the raw image a
// correct reader must return:
//   - a sector whose bitmap bit is set comes from this file;
//   - a clear bit (or an unallocated block) reads as zero in a dynamic disk
//     and comes from the parent in a differencing disk (zero past the end of
//     the parent's raw image).
#ifndef VHDSM_TESTS_UTIL_SPEC_VHD_H_
#define VHDSM_TESTS_UTIL_SPEC_VHD_H_

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace specvhd {

inline constexpr uint64_t kSector = 512;
inline constexpr uint64_t kNoOffset = ~uint64_t{0};

// Footer "Disk Type" values.
enum class Type : uint32_t { kFixed = 2, kDynamic = 3, kDifferencing = 4 };

// Parent locator platform codes (big-endian four-character codes).
inline constexpr uint32_t kMacX = 0x4D616358;  // "MacX"
inline constexpr uint32_t kW2ku = 0x57326B75;  // "W2ku"
inline constexpr uint32_t kW2ru = 0x57327275;  // "W2ru"

using Uuid = std::array<uint8_t, 16>;

struct Block {
  enum class Kind { kUnallocated, kFull, kPartial };
  Kind kind = Kind::kUnallocated;
  // kPartial: one flag per sector of the block (true = bit set).
  std::vector<bool> present;
  // Non-zero garbage in the data area under clear bits.
  bool junk = false;
};

struct Locator {
  uint32_t code = kMacX;
  // The payload text (UTF-8): "file://./p.vhd" for MacX, ".\p.vhd" for
  // W2ku/W2ru. Encoded as UTF-8 (MacX) or UTF-16LE (W2ku, W2ru).
  std::string text;
  // Write data_space in sectors (as the spec says) instead of bytes (as
  // Microsoft and blktap do).
  bool space_in_sectors = false;
  // When non-empty: the payload bytes verbatim (hostile tests).
  std::string raw_payload;
  // Extra room reserved after the payload, in sectors.
  uint32_t extra_sectors = 0;
};

enum class FooterMode {
  kNormal,      // 512-byte footer at EOF
  kShort511,    // 511-byte footer at EOF (old Virtual PC)
  kCorruptEof,  // EOF footer has a bad checksum; the copy at 0 is good
  kMissingEof,  // the file ends after the last block: no EOF footer
};

struct Disk {
  Type type = Type::kDynamic;
  uint64_t virtual_size = 0;
  uint32_t block_size = 2u << 20;
  std::array<char, 4> creator = {'v', 'p', 'c', ' '};
  uint32_t creator_version = 0x00050003;
  uint32_t creator_os = 0x5769326B;  // "Wi2k"
  uint32_t timestamp = 0x20000000;
  uint8_t hidden = 0;  // blktap: footer byte 85
  Uuid uuid{};         // all zero: derived from `seed`

  // Dynamic / differencing layout.
  std::vector<Block> blocks;       // indexed by block; missing = unallocated
  bool align_data_4k = true;       // data of each block on a 4 KiB boundary
  bool shuffle_blocks = false;     // blocks stored in the file in random order
  bool bat_after_blocks = false;   // BAT placed after the last block
  uint32_t extra_bat_entries = 0;  // max_table_entries beyond the need
  bool bat_pad_ff = false;         // BAT sector padding 0xFF (else zeros)
  bool junk_bitmap_padding = false;  // random bits past sectors_per_block
  bool batmap = false;  // blktap batmap after the BAT (with creator "tap")
  // Free sectors between the footer copy and the dynamic header (the
  // footer's data_offset says where the header is; 512 is only customary).
  uint32_t header_gap_sectors = 0;

  // Differencing.
  Uuid parent_uuid{};
  uint32_t parent_timestamp = 0;
  std::string parent_name;  // UTF-8, stored UTF-16BE
  std::vector<Locator> locators;

  FooterMode footer = FooterMode::kNormal;
  uint64_t seed = 1;  // data, junk and uuid
};

struct Layout {
  uint64_t header_offset = kNoOffset;
  uint64_t table_offset = kNoOffset;
  uint32_t max_table_entries = 0;
  uint32_t bitmap_bytes = 0;
  uint64_t batmap_header_offset = kNoOffset;
  uint64_t footer_offset = kNoOffset;   // EOF footer (kNoOffset if missing)
  std::vector<uint64_t> block_offsets;  // bitmap byte offset or kNoOffset
  std::vector<uint64_t> locator_offsets;
};

struct Image {
  std::string file;  // the bytes of the VHD file
  std::string raw;   // the virtual disk a correct reader returns
  Uuid uuid{};
  Layout layout;
};

// Builds `disk`. For a differencing disk `parent_raw` is the parent chain's
// raw image (it may be shorter or longer than this disk).
Image Build(const Disk& disk, const std::string& parent_raw = "");

// ---- content helpers --------------------------------------------------------

// Number of blocks covering `disk.virtual_size`.
uint64_t BlockCount(const Disk& disk);

// A block whose bitmap has `runs` of set sectors ([first, first + n)).
Block PartialBlock(uint32_t sectors_per_block,
                   const std::vector<std::pair<uint32_t, uint32_t>>& runs,
                   bool junk);

// Random blocks: a mix of unallocated, full and partial (runs of random
// length, single sectors, sub-4 KiB runs). With `aligned_4k`, every run
// starts and ends on an 8-sector boundary (for libvhdi, which rounds).
std::vector<Block> RandomBlocks(uint64_t count, uint32_t sectors_per_block,
                                std::mt19937_64* rng, bool junk,
                                bool aligned_4k = false);

// ---- byte helpers (for tests that patch files) ------------------------------

void PutBE16(std::string* s, uint64_t off, uint16_t v);
void PutBE32(std::string* s, uint64_t off, uint32_t v);
void PutBE64(std::string* s, uint64_t off, uint64_t v);
uint32_t GetBE32(const std::string& s, uint64_t off);
uint64_t GetBE64(const std::string& s, uint64_t off);

// One's complement of the byte sum of [off, off + n), skipping the four
// checksum bytes at `off + checksum_at`.
uint32_t Checksum(const std::string& s, uint64_t off, uint64_t n,
                  uint64_t checksum_at);
// Recomputes and stores the checksum of the footer at `off` (512 bytes).
void ResealFooter(std::string* file, uint64_t off);
// Recomputes and stores the checksum of the dynamic header at `off`.
void ResealHeader(std::string* file, uint64_t off);
// Applies `edit` to both footers (copy at 0 and EOF) and reseals them.
template <typename F>
void EditFooters(std::string* file, const Layout& layout, F edit) {
  edit(file, uint64_t{0});
  ResealFooter(file, 0);
  if (layout.footer_offset != kNoOffset && layout.footer_offset != 0) {
    edit(file, layout.footer_offset);
    ResealFooter(file, layout.footer_offset);
  }
}

// UTF-8 (ASCII and BMP) to UTF-16 bytes.
std::string Utf16(const std::string& utf8, bool big_endian);
// The spec's CHS geometry (cylinders << 16 | heads << 8 | sectors/track).
uint32_t Chs(uint64_t size);
Uuid RandomUuid(uint64_t seed);

}  // namespace specvhd

#endif  // VHDSM_TESTS_UTIL_SPEC_VHD_H_
