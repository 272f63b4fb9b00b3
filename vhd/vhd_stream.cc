#include "vhd/vhd_stream.h"

#include <algorithm>
#include <cstring>

#include "vhd/create.h"
#include "vhd/endian.h"
#include "vhd/format.h"

namespace vhd {

namespace {
constexpr uint64_t kBlock = kDefaultBlockSize;
constexpr uint64_t kBitmapBytes = kSectorSize;  // for 2 MiB blocks
}  // namespace

base::Status VhdStream::Open(Chain* chain, const Uuid& uuid, uint32_t timestamp,
                             std::unique_ptr<VhdStream>* out) {
  std::unique_ptr<VhdStream> s(new VhdStream());
  s->chain_ = chain;
  s->virtual_size_ = chain->virtual_size();
  uint64_t entries = (s->virtual_size_ + kBlock - 1) / kBlock;
  if (s->virtual_size_ == 0 || s->virtual_size_ > kMaxVirtualSize) {
    return base::Status::TooLarge("a VHD image holds 1 byte to 2040 GiB");
  }
  for (uint64_t b = 0; b < entries; ++b) {
    uint64_t sector = b * (kBlock >> kSectorShift);
    uint64_t count = std::min<uint64_t>(kBlock, s->virtual_size_ - b * kBlock);
    bool hole = false;
    RETURN_IF_ERROR(chain->IsHole(sector, SectorsOf(count), &hole));
    if (!hole) s->blocks_.push_back(b);
  }
  Footer f = NewFooter(DiskType::kDynamic, s->virtual_size_, uuid);
  if (timestamp != 0) {
    f.timestamp = timestamp;
    f.Seal();
  }
  DynamicHeader h = NewDynamicHeader(entries);
  s->head_ = BuildSparseMetadata(f, h, {});
  // Place the blocks as blktap would (data 4 KiB-aligned) and point the BAT
  // and the batmap (every block full) at them.
  uint64_t end = s->head_.size();
  uint64_t bat = 3 * kSectorSize;
  BatmapHeader bh =
      BatmapHeader::Decode(&s->head_[bat + RoundUp(entries * 4, kSectorSize)]);
  uint8_t* map = &s->head_[bh.batmap_offset];
  for (uint64_t b : s->blocks_) {
    uint64_t off = RoundUp(end + kBitmapBytes, kPageSize) - kBitmapBytes;
    s->offsets_.push_back(off);
    StoreBE32(&s->head_[bat + b * 4],
              static_cast<uint32_t>(off >> kSectorShift));
    map[b >> 3] |= 0x80 >> (b & 7);
    end = off + kBitmapBytes + kBlock;
  }
  uint64_t sum_bytes = std::min<uint64_t>(
      RoundUp(std::max<uint64_t>(1, s->virtual_size_ >> 24), kSectorSize),
      uint64_t{bh.batmap_size} * kSectorSize);
  bh.checksum = BatmapHeader::MapChecksum(map, sum_bytes, bh.batmap_version);
  bh.Encode(&s->head_[bat + RoundUp(entries * 4, kSectorSize)]);
  s->footer_.resize(kFooterSize);
  f.Encode(s->footer_.data());
  s->size_ = end + kFooterSize;
  *out = std::move(s);
  return base::Status::OK();
}

base::Status VhdStream::FillBlock(size_t i) {
  if (cached_ == i) return base::Status::OK();
  block_.assign(kBitmapBytes + kBlock, 0);
  std::memset(block_.data(), 0xff, kBitmapBytes);
  uint64_t voff = blocks_[i] * kBlock;
  uint64_t len = std::min<uint64_t>(kBlock, virtual_size_ - voff);
  RETURN_IF_ERROR(chain_->Read(voff, len, block_.data() + kBitmapBytes));
  cached_ = i;
  return base::Status::OK();
}

base::Status VhdStream::Read(uint8_t* buf, size_t n, size_t* got) {
  *got = 0;
  while (n > 0 && pos_ < size_) {
    size_t k = 0;
    if (pos_ < head_.size()) {
      k = std::min<uint64_t>(n, head_.size() - pos_);
      std::memcpy(buf, &head_[pos_], k);
    } else if (pos_ >= size_ - kFooterSize) {
      uint64_t at = pos_ - (size_ - kFooterSize);
      k = std::min<uint64_t>(n, kFooterSize - at);
      std::memcpy(buf, &footer_[at], k);
    } else {
      // The last block starting at or before pos_.
      size_t i = std::upper_bound(offsets_.begin(), offsets_.end(), pos_) -
                 offsets_.begin();
      if (i == 0 || pos_ >= offsets_[i - 1] + kBitmapBytes + kBlock) {
        // Alignment gap before the next block (or before the footer).
        uint64_t next = i < offsets_.size() ? offsets_[i] : size_ - kFooterSize;
        k = std::min<uint64_t>(n, next - pos_);
        std::memset(buf, 0, k);
      } else {
        --i;
        RETURN_IF_ERROR(FillBlock(i));
        uint64_t at = pos_ - offsets_[i];
        k = std::min<uint64_t>(n, block_.size() - at);
        std::memcpy(buf, &block_[at], k);
      }
    }
    buf += k;
    n -= k;
    pos_ += k;
    *got += k;
  }
  return base::Status::OK();
}

}  // namespace vhd
