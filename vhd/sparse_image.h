// SparseImage: a dynamic or differencing VHD (the table of operations for
// types 3 and 4; they differ only in having a parent).
//
// Layout written by blktap and by us: footer copy at 0, dynamic header,
// BAT (u32 sector offsets, padded to a sector), blktap's batmap header and
// map (creator "tap" >= 1.2), parent locator payloads (differencing), then
// blocks (sector bitmap + data, data 4 KiB-aligned), then the footer at EOF.
//
// Opening reads footer and header only; the BAT is loaded and validated
// (range, overlap with metadata and with other blocks, O(n log n)) on first
// use, so that snapshotting a 2 TiB disk does not read 4 MiB of BAT.
//
// Write order (crash safety, see image.h): new block = footer moved past the
// block's end, bitmap, data; [sync]; existing differencing blocks' bitmaps,
// BAT sectors; [sync]; batmap bits of blocks that became full. Dynamic disks
// set bitmap bits before writing the data, so that sectors whose bit is clear
// are always zero on disk (qemu ignores bitmaps) and a crash never exposes
// anything but zeros or the new data. The footer copy at 0 never changes when
// blocks are allocated, so it stays byte-identical to the EOF footer.
#ifndef VHDSM_VHD_SPARSE_IMAGE_H_
#define VHDSM_VHD_SPARSE_IMAGE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "vhd/footer_io.h"
#include "vhd/image.h"

namespace vhd {

// Limits that keep hostile headers from costing unbounded memory or time.
inline constexpr uint32_t kMaxBlockSize = 256u << 20;
inline constexpr uint32_t kMaxBatEntries = 1u << 24;
inline constexpr uint64_t kMaxReadableVirtualSize = 2ull << 40;  // 2 TiB
// A locator's space: blktap reads data_space as sectors below 512, else as
// bytes (a multiple of 512), with no upper bound; it writes at most a padded
// PATH_MAX path in UTF-16 (8 KiB). We take 8 times that.
inline constexpr uint32_t kMaxLocatorBytes = 64 << 10;

// Reads `n` big-endian BAT entries at `offset` of `f` into `out`, and sets
// *got to how many the file holds. `out` is filled as it is read, not zeroed
// first: a 2 TiB disk's BAT is 4 MiB, and page faults, not copies, are what
// reading it costs.
base::Status ReadBatEntries(base::File* f, uint64_t offset, uint32_t n,
                            std::vector<uint32_t>* out, uint32_t* got);

class SparseImage : public Image {
 public:
  static base::Status Open(std::unique_ptr<base::File> file,
                           const FooterInfo& info, const OpenOptions& options,
                           std::unique_ptr<SparseImage>* image);

  // Image
  const std::string& path() const override { return file_->path(); }
  DiskType type() const override { return footer_.disk_type(); }
  uint64_t virtual_size() const override { return footer_.curr_size; }
  uint32_t block_size() const override { return header_.block_size; }
  bool writable() const override { return options_.writable; }
  base::File* file() override { return file_.get(); }
  const Footer* footer() const override { return &footer_; }
  base::Status GetBlockState(uint64_t block, BlockState* state) override;
  uint64_t DataOffset(uint64_t block, uint32_t sector) const override;
  using Image::WriteSectors;
  base::Status WriteSectors(uint64_t block, uint32_t sector, uint32_t n,
                            const SectorSource& src) override;
  base::Status ReserveBlocks(const std::vector<uint64_t>& blocks) override;
  base::Status CommitMetadata() override;
  base::Status Flush() override;

  ~SparseImage() override;

  const FooterInfo& footer_info() const { return info_; }
  const DynamicHeader& header() const { return header_; }
  uint64_t footer_offset() const { return footer_off_; }
  uint32_t bitmap_bytes() const { return bitmap_bytes_; }

  // Loads and validates the BAT (and batmap) if not yet done.
  base::Status LoadBat();
  // What `query -s -a` needs, without loading the BAT: the allocated blocks
  // among the disk's blocks, and end_of_data() (the batmap counted when its
  // header is sound, its checksum not read). Reads the BAT a chunk at a time
  // into one small buffer; checks only that each block lies inside the
  // file (not overlaps: LoadBat does). Equal to LoadBat's figures for any
  // file LoadBat accepts.
  base::Status SummarizeBat(uint64_t* allocated, uint64_t* end_of_data);
  const std::vector<uint32_t>& bat() const { return bat_; }
  uint64_t allocated_blocks() const;
  // First byte after all metadata and blocks (valid after LoadBat).
  uint64_t end_of_data() const { return eod_; }
  // Reads the stored bitmap of an allocated block.
  base::Status ReadBitmap(uint64_t block, std::vector<uint8_t>* bitmap);

  // blktap batmap: present and valid.
  bool has_batmap() const { return batmap_valid_; }
  // Creator says there should be one (tap >= 1.2).
  bool expects_batmap() const;
  const BatmapHeader& batmap_header() const { return batmap_hdr_; }
  const std::vector<uint8_t>& batmap() const { return batmap_; }
  const std::string& batmap_problem() const { return batmap_problem_; }
  uint64_t batmap_header_offset() const;
  // Bytes of the map that blktap's checksum covers: a sector-rounded map for
  // the current size (curr_size >> 24 bytes, at least one sector).
  uint64_t batmap_checksum_bytes() const;

  // Decoded locator payload (UTF-8, as stored: "file://./p.vhd", ".\p.vhd").
  base::Status ReadLocator(int index, std::string* payload);
  // The path a MacX, W2ku or W2ru locator names, as blktap decodes it:
  // "file://" stripped, backslashes turned to slashes, a "C:" dropped
  // ("./parent.vhd"). InvalidArgument for other codes.
  base::Status LocatorPath(int index, std::string* path);
  // Locator paths joined to this file's directory (unless absolute), in
  // locator order, then the header's parent name next to this file.
  base::Status ParentCandidates(std::vector<std::string>* paths);

  // Rewrites the footer at EOF and its copy at 0 with `footer` (sealed here).
  base::Status WriteFooters(Footer footer);
  // Rewrites the dynamic header (sealed here).
  base::Status WriteHeader(DynamicHeader header);

 private:
  SparseImage(std::unique_ptr<base::File> file, const FooterInfo& info,
              const DynamicHeader& header, const OpenOptions& options);
  base::Status CheckWritable() const;
  // LoadBat's step for blktap's batmap: sets batmap_valid_ (and
  // batmap_problem_ when it is bad, which is tolerated).
  base::Status LoadBatmap();
  base::Status CachedBitmap(uint64_t block, std::vector<uint8_t>** bitmap);
  base::Status AllocateBlock(uint64_t block, uint32_t sector, uint32_t n,
                             const SectorSource& src);
  void MarkBatmapIfFull(uint64_t block, const std::vector<uint8_t>& bitmap,
                        bool bitmap_durable);
  base::Status WriteBatSectors();
  base::Status WriteBatmap();

  std::unique_ptr<base::File> file_;
  FooterInfo info_;
  Footer footer_;
  DynamicHeader header_;
  OpenOptions options_;
  uint64_t footer_off_;
  uint32_t bitmap_bytes_;

  bool bat_loaded_ = false;
  std::vector<uint32_t> bat_;
  std::vector<uint8_t> bat_pad_;  // bytes after the last entry in its sector
  uint64_t eod_ = 0;
  // End of the space ReserveBlocks holds (0: none held past EOF).
  uint64_t reserved_end_ = 0;

  bool batmap_valid_ = false;
  std::string batmap_problem_;
  BatmapHeader batmap_hdr_;
  std::vector<uint8_t> batmap_;

  struct Bitmap {
    std::vector<uint8_t> bits;
    bool dirty = false;  // to be written at commit
  };
  std::unordered_map<uint64_t, Bitmap> bitmaps_;
  std::vector<uint8_t> full_bitmap_;  // all ones, for kFull answers

  // Pending metadata (see the write order above).
  std::set<uint64_t> dirty_bat_sectors_;
  std::set<uint64_t> batmap_now_;    // bits whose bitmap is already durable
  std::set<uint64_t> batmap_later_;  // bits that need one more sync first
  bool data_written_ = false;
};

}  // namespace vhd

#endif  // VHDSM_VHD_SPARSE_IMAGE_H_
