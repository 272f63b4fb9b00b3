// VhdStream: a chain's guest view as one standalone dynamic VHD, produced
// front to back as a byte stream (no temporary file): what an image upload
// sends, and what `vhdsm-util export -f vhd` writes.
//
// The image has blktap's layout (creator "tap" 1.3, batmap, 4 KiB-aligned
// data) with one full 2 MiB block for every block of the virtual disk that
// any file of the chain holds data for, in disk order; blocks no file holds
// are left unallocated, so unallocated space costs nothing. Its size is
// known before the first byte (Size()), which tar headers and progress need.
// Reading the chain happens block by block as the stream is consumed.
#ifndef VHDSM_VHD_VHD_STREAM_H_
#define VHDSM_VHD_VHD_STREAM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "vhd/chain.h"
#include "vhd/uuid.h"

namespace vhd {

class VhdStream {
 public:
  // `chain` must outlive the stream. `uuid`: the image's (null: a new one);
  // `timestamp`: its footer's (VHD epoch; 0: now). The same chain, uuid and
  // timestamp give the same bytes, so an interrupted upload can resume.
  static base::Status Open(Chain* chain, const Uuid& uuid, uint32_t timestamp,
                           std::unique_ptr<VhdStream>* stream);

  // Fills up to n bytes; *got == 0 only at the end.
  base::Status Read(uint8_t* buf, size_t n, size_t* got);
  uint64_t Size() const { return size_; }
  uint64_t position() const { return pos_; }
  uint64_t allocated_blocks() const { return blocks_.size(); }

 private:
  VhdStream() = default;
  base::Status FillBlock(size_t index);

  Chain* chain_ = nullptr;
  std::vector<uint8_t> head_;      // metadata up to the first block
  std::vector<uint8_t> footer_;    // 512 bytes at the end
  std::vector<uint64_t> blocks_;   // virtual block numbers, in file order
  std::vector<uint64_t> offsets_;  // file offset of each block's bitmap
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  uint64_t virtual_size_ = 0;
  // The block being streamed: bitmap sector + data.
  size_t cached_ = SIZE_MAX;
  std::vector<uint8_t> block_;
};

}  // namespace vhd

#endif  // VHDSM_VHD_VHD_STREAM_H_
