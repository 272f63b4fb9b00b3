// Creating VHD files: fixed, dynamic and differencing, laid out exactly as
// blktap's vhd-util lays them out (creator "tap" 1.3, header at 512, BAT at
// 1536 with zero padding, batmap header and map, then for a differencing
// disk MacX, W2ku and W2ru locators holding the relative path to the parent,
// each in its own sector-padded slot, then the footer).
//
// Creation is atomic: the file is built under a temporary name, written to
// the disk, and linked into place, failing with kExists rather than
// replacing a file. A crash, a power cut included, leaves either no file or
// the whole file under the name (see NewFileDurability for when it is
// durable).
#ifndef VHDSM_VHD_CREATE_H_
#define VHDSM_VHD_CREATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/format.h"
#include "vhd/uuid.h"

namespace vhd {

// When a new file is durable. Both ways write its bytes to the device before
// the link that names it, so a power cut never leaves the name without them.
enum class NewFileDurability {
  // Synced (fdatasync) before the link and the directory synced after: the
  // file survives a power cut once the call returns.
  kDurable,
  // No cache flush: the file survives a power cut once the filesystem
  // commits the link (ext4: within its 5 s commit interval, or at any fsync
  // on it). vhd-util's guarantee (O_DIRECT writes, no fsync), for the
  // vhd-util command line: the flushes cost more than the rest of a 2 TiB
  // disk's snapshot (its BAT is 4 MiB).
  kOrdered,
};

struct CreateParams {
  uint64_t size = 0;      // virtual bytes; rounded up to 2 MiB as vhd-util does
  uint64_t max_size = 0;  // BAT/batmap preallocated for growth to this size
  bool fixed = false;
  Uuid uuid;  // null: generate
  NewFileDurability durability = NewFileDurability::kDurable;
};

// Creates a dynamic (or fixed) VHD at `path`.
base::Status CreateVhd(base::Env* env, const std::string& path,
                       const CreateParams& params);

struct SnapshotParams {
  uint64_t size = 0;  // 0: the parent's exact size; else rounded up to 2 MiB
  uint64_t max_size = 0;
  bool raw_parent = false;  // the parent is a raw file, not a VHD
  Uuid uuid;
  NewFileDurability durability = NewFileDurability::kDurable;
};

// Creates `child`, a differencing VHD whose parent is `parent`.
base::Status CreateDifferencing(base::Env* env, const std::string& child,
                                const std::string& parent,
                                const SnapshotParams& params);

// The parent a new snapshot should link to: starting at `parent`, skip
// differencing disks that hold no blocks (vhd-util snapshot without -e).
// *raw is set when the chain reaches a raw parent.
base::Status FindSnapshotTarget(base::Env* env, const std::string& parent,
                                std::string* target, bool* raw);

// The parent locators blktap writes for `child` -> `parent`: MacX
// ("file://./p.vhd", UTF-8), W2ku and W2ru (".\p.vhd", UTF-16LE), all with
// the relative path, in that order.
struct LocatorPayload {
  PlatformCode code;
  std::vector<uint8_t> bytes;
};
base::Status ParentLocators(base::Env* env, const std::string& child,
                            const std::string& parent,
                            std::vector<LocatorPayload>* locators);

// The pieces CreateVhd assembles, for writers of whole VHD streams
// (vhd_stream.h): a fresh footer (creator tap 1.3, a new uuid unless given)
// and dynamic header, and the metadata of a dynamic/differencing disk up to
// its first block (footer copy, header, BAT all unused, batmap, locators).
Footer NewFooter(DiskType type, uint64_t size, const Uuid& uuid);
DynamicHeader NewDynamicHeader(uint64_t bat_entries);
std::vector<uint8_t> BuildSparseMetadata(
    const Footer& footer, DynamicHeader header,
    const std::vector<LocatorPayload>& locators);

// The same metadata with the BAT left out of memory (a 2 TiB disk's is
// 4 MiB of 0xFF): `head` at 0, then `bat_bytes` of 0xFF at `bat_offset` and
// zeros up to `tail_offset`, then `tail`.
struct SparseMetadata {
  std::vector<uint8_t> head;  // footer copy, header
  uint64_t bat_offset = 0;
  uint64_t bat_bytes = 0;
  uint64_t tail_offset = 0;
  std::vector<uint8_t> tail;  // batmap header, batmap, locators
  uint64_t end() const { return tail_offset + tail.size(); }
};
SparseMetadata LayOutSparseMetadata(
    const Footer& footer, DynamicHeader header,
    const std::vector<LocatorPayload>& locators);

// Relative path from directory `from_dir` to file `to`, "./x" style, after
// resolving symlinks (as blktap's relative_path_to).
base::Status RelativePath(base::Env* env, const std::string& from_dir,
                          const std::string& to, std::string* rel);

}  // namespace vhd

#endif  // VHDSM_VHD_CREATE_H_
