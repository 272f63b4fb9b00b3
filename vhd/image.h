// Image: one file of a chain, behind one table of operations per format
// (fixed VHD, dynamic/differencing VHD, raw), as QEMU's block drivers do.
//
// An Image is divided into blocks of block_size() bytes. For each block it
// answers which of its sectors it holds (BlockState), where in the file they
// live (DataOffset) and, when writable, stores sectors (WriteSectors). It
// knows nothing of parents: Chain (chain.h) combines Images.
//
// Crash safety of WriteSectors: a crash (power cut) at any point leaves a file
// that opens and reads as before or after the write, provided the image was
// opened with durable = true (a data sync separates data from metadata).
// Metadata updates are batched per call of CommitMetadata(), which Chain calls
// at the end of every write; Flush() commits and syncs.
#ifndef VHDSM_VHD_IMAGE_H_
#define VHDSM_VHD_IMAGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "vhd/format.h"

namespace vhd {

enum class BlockKind {
  kUnallocated,  // no sector of the block is in this file
  kFull,         // every sector is in this file
  kPartial,      // the bitmap says which sectors are in this file
};

struct BlockState {
  BlockKind kind = BlockKind::kUnallocated;
  // For kPartial: the sector bitmap (MSB first), valid until the next call
  // on the same Image.
  const uint8_t* bitmap = nullptr;
};

struct OpenOptions {
  bool writable = false;
  // Sync data before the metadata that makes it visible (crash safety).
  bool durable = true;
  // Every sector written is shadowed by a child that holds it (coalesce into
  // a parent): what the parent shows in between is invisible through the
  // chain, so dynamic disks may also write data before bits, in batches.
  bool shadowed = false;
};

// Where the bytes of a write come from: memory, or a range of another file
// (then copied in the kernel where the file system allows).
struct SectorSource {
  const uint8_t* data = nullptr;
  base::File* file = nullptr;
  uint64_t file_offset = 0;

  static SectorSource Memory(const uint8_t* p) { return {p, nullptr, 0}; }
  static SectorSource FromFile(base::File* f, uint64_t off) {
    return {nullptr, f, off};
  }
  SectorSource Skip(uint64_t bytes) const {
    return data ? SectorSource{data + bytes, nullptr, 0}
                : SectorSource{nullptr, file, file_offset + bytes};
  }
  // Writes `len` bytes of this source at `offset` of `dst`.
  base::Status WriteTo(base::File* dst, uint64_t offset, uint64_t len) const {
    if (data != nullptr) return dst->Write(offset, data, len);
    return file->CopyTo(dst, file_offset, offset, len);
  }
};

class Image {
 public:
  virtual ~Image() = default;

  virtual const std::string& path() const = 0;
  virtual DiskType type() const = 0;  // kNone for raw
  virtual uint64_t virtual_size() const = 0;
  virtual uint32_t block_size() const = 0;
  virtual bool writable() const = 0;
  virtual base::File* file() = 0;
  // The footer in use (nullptr for raw images).
  virtual const Footer* footer() const = 0;

  uint32_t sectors_per_block() const { return block_size() >> kSectorShift; }
  uint64_t block_count() const {
    return (virtual_size() + block_size() - 1) / block_size();
  }

  virtual base::Status GetBlockState(uint64_t block, BlockState* state) = 0;
  // File offset of sector `sector` of `block`; the block must be allocated.
  virtual uint64_t DataOffset(uint64_t block, uint32_t sector) const = 0;
  // Stores `n` sectors at sector `sector` of `block` and marks them present.
  virtual base::Status WriteSectors(uint64_t block, uint32_t sector, uint32_t n,
                                    const SectorSource& src) = 0;
  base::Status WriteSectors(uint64_t block, uint32_t sector, uint32_t n,
                            const uint8_t* data) {
    return WriteSectors(block, sector, n, SectorSource::Memory(data));
  }
  // Makes sure that WriteSectors calls storing data into `blocks` cannot
  // fail for lack of space (kNoSpace if they could, having changed
  // nothing), so that a write on a full filesystem fails before it starts.
  // CommitMetadata gives back what was held and not used.
  virtual base::Status ReserveBlocks(const std::vector<uint64_t>& blocks) {
    (void)blocks;
    return base::Status::OK();
  }
  // Makes the effect of WriteSectors calls since the last commit visible on
  // disk in crash-safe order.
  virtual base::Status CommitMetadata() = 0;
  // CommitMetadata + sync.
  virtual base::Status Flush() = 0;
};

// Opens a VHD of any type, or (raw = true) a plain file, as an Image.
base::Status OpenImage(base::Env* env, const std::string& path,
                       const OpenOptions& options,
                       std::unique_ptr<Image>* image);
base::Status OpenRawImage(base::Env* env, const std::string& path,
                          const OpenOptions& options,
                          std::unique_ptr<Image>* image);

// Bit helpers for sector bitmaps (MSB first).
inline bool BitmapTest(const uint8_t* map, uint32_t bit) {
  return (map[bit >> 3] << (bit & 7)) & 0x80;
}
inline void BitmapSet(uint8_t* map, uint32_t bit) {
  map[bit >> 3] |= 0x80 >> (bit & 7);
}
// Sets bits [first, first + n).
void BitmapSetRange(uint8_t* map, uint32_t first, uint32_t n);
// True if bits [first, first + n) are all set.
bool BitmapAllSet(const uint8_t* map, uint32_t first, uint32_t n);
// Number of set bits among the first `n`.
uint32_t BitmapCount(const uint8_t* map, uint32_t n);
// Length of the run of bits equal to bit `first`, starting at `first`,
// looking at most `limit` bits.
uint32_t BitmapRun(const uint8_t* map, uint32_t first, uint32_t limit);

}  // namespace vhd

#endif  // VHDSM_VHD_IMAGE_H_
