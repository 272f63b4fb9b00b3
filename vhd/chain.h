// Chain: a leaf image and its ancestors, read and written as one disk.
//
// Reading a sector asks each image from the leaf down for the first whose
// bitmap holds it; a sector no image holds reads as zero. Writes go to the
// leaf only: a differencing leaf stores just the written sectors (the parent
// keeps serving the rest of the block); writing zeros still allocates when an
// ancestor has data there.
//
// Parents are found by FindParent, under the Env's policy:
//   - an Env that follows locators (the POSIX one: vhd-util's semantics, the
//     operator's own tool) finds them as blktap does: each parent locator in
//     turn (MacX, W2ku, W2ru; relative paths against the child's directory),
//     then the header's parent name next to the child; a null parent uuid
//     marks a raw parent;
//   - an Env confined to a directory (ConfinedEnv: an SR) only takes the
//     header's parent name, a plain name next to the child; a null parent
//     uuid is kCorruption there, a symlink or non-file kUnsafePath.
// Either way the parent's footer uuid must equal the child's recorded parent
// uuid (kParentMismatch). Loops and chains deeper than Options::max_depth
// fail with kChainTooLong.
#ifndef VHDSM_VHD_CHAIN_H_
#define VHDSM_VHD_CHAIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/image.h"

namespace vhd {

struct ChainOptions {
  base::Env* env = nullptr;  // nullptr: Env::Default()
  bool writable = false;     // the leaf; ancestors are always read-only
  bool durable = true;
  int max_depth = 256;
};

// A contiguous piece of the virtual disk and where its bytes come from.
struct Extent {
  uint64_t sector = 0;     // virtual
  uint64_t count = 0;      // sectors
  Image* image = nullptr;  // nullptr: zeros
  uint64_t file_offset = 0;
};

class Chain {
 public:
  static base::Status Open(const std::string& leaf_path,
                           const ChainOptions& options,
                           std::unique_ptr<Chain>* chain);

  uint64_t virtual_size() const { return layers_[0]->virtual_size(); }
  size_t depth() const { return layers_.size(); }
  Image* layer(size_t i) { return layers_[i].get(); }  // 0 = leaf
  Image* leaf() { return layers_[0].get(); }

  // Byte-granular read of [offset, offset + len) of the virtual disk.
  base::Status Read(uint64_t offset, size_t len, void* buf);
  // Byte-granular write to the leaf.
  base::Status Write(uint64_t offset, size_t len, const void* buf);
  base::Status Flush();

  // Where sectors [sector, sector + count) come from, in order.
  base::Status Map(uint64_t sector, uint64_t count,
                   std::vector<Extent>* extents);
  // True if no image of the chain holds any sector of the range.
  base::Status IsHole(uint64_t sector, uint64_t count, bool* hole);
  // Holds the space that Write(offset, len, buf) will need (Image::
  // ReserveBlocks): kNoSpace before anything changes if it is not there.
  base::Status ReserveForWrite(uint64_t offset, size_t len, const void* buf);

  // Writes the whole virtual disk to `out` as a sparse raw file (holes where
  // no image holds data). `progress(done, total)` is called per chunk.
  base::Status ExportRaw(
      base::File* out,
      const std::function<void(uint64_t, uint64_t)>& progress = {});

 private:
  explicit Chain(std::vector<std::unique_ptr<Image>> layers)
      : layers_(std::move(layers)) {}
  base::Status MapLayer(size_t layer, uint64_t sector, uint64_t count,
                        std::vector<Extent>* out);
  base::Status ReadSectors(uint64_t sector, uint64_t count, uint8_t* buf);
  base::Status WriteSectors(uint64_t sector, uint64_t count,
                            const uint8_t* buf);

  std::vector<std::unique_ptr<Image>> layers_;
};

// Resolves the parent of a differencing image (see above); the one place
// where parents are looked up. *raw is set when the child records a raw
// parent (null parent uuid; never with a confined Env).
base::Status FindParent(base::Env* env, Image* child, std::string* parent_path,
                        bool* raw);

}  // namespace vhd

#endif  // VHDSM_VHD_CHAIN_H_
