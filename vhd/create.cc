#include "vhd/create.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "vhd/chain.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"
#include "vhd/unicode.h"

namespace vhd {

namespace {

constexpr uint64_t kBlock = kDefaultBlockSize;
constexpr uint64_t kTableOffset = 3 * kSectorSize;
// 2 TiB: the largest -S preallocation (xapi's LVHD passes 2097152 MiB).
constexpr uint64_t kMaxPreallocSize = 2ull << 40;

}  // namespace

Footer NewFooter(DiskType type, uint64_t size, const Uuid& uuid) {
  Footer f;
  std::memcpy(f.cookie.data(), "conectix", 8);
  f.features = kFeatureReserved;
  f.version = kFormatVersion;
  f.data_offset = type == DiskType::kFixed ? kDataOffsetNone : kSectorSize;
  f.timestamp = VhdTimeNow();
  std::memcpy(f.creator_app.data(), kCreatorTap, 4);
  f.creator_version = kCreatorTapVersion;
  f.creator_os = kCreatorOsNone;
  f.orig_size = size;
  f.curr_size = size;
  f.geometry = ChsGeometry(size);
  f.type = static_cast<uint32_t>(type);
  f.uuid = uuid.IsNull() ? Uuid::Generate() : uuid;
  f.Seal();
  return f;
}

DynamicHeader NewDynamicHeader(uint64_t bat_entries) {
  DynamicHeader h;
  std::memcpy(h.cookie.data(), "cxsparse", 8);
  h.data_offset = kDataOffsetNone;
  h.table_offset = kTableOffset;
  h.version = kFormatVersion;
  h.max_table_entries = static_cast<uint32_t>(bat_entries);
  h.block_size = kBlock;
  return h;
}

SparseMetadata LayOutSparseMetadata(
    const Footer& footer, DynamicHeader header,
    const std::vector<LocatorPayload>& locators) {
  uint64_t entries = header.max_table_entries;
  SparseMetadata m;
  m.bat_offset = kTableOffset;
  m.bat_bytes = entries * 4;
  m.tail_offset = kTableOffset + RoundUp(m.bat_bytes, kSectorSize);
  uint64_t batmap_off = m.tail_offset + kSectorSize;
  uint64_t batmap_secs = std::max<uint64_t>(1, SectorsOf((entries + 7) / 8));
  uint64_t off = batmap_off + batmap_secs * kSectorSize;
  for (size_t i = 0; i < locators.size(); ++i) {
    ParentLocatorEntry& e = header.loc[i];
    e.code = static_cast<uint32_t>(locators[i].code);
    e.data_length = static_cast<uint32_t>(locators[i].bytes.size());
    e.data_space = static_cast<uint32_t>(
        std::max<uint64_t>(kSectorSize, RoundUp(e.data_length, kSectorSize)));
    e.data_offset = off;
    off += e.data_space;
  }
  header.Seal();

  m.head.assign(kTableOffset, 0);
  footer.Encode(&m.head[0]);
  header.Encode(&m.head[kSectorSize]);
  m.tail.assign(off - m.tail_offset, 0);
  BatmapHeader bh;
  std::memcpy(bh.cookie.data(), "tdbatmap", 8);
  bh.batmap_offset = batmap_off;
  bh.batmap_size = static_cast<uint32_t>(batmap_secs);
  bh.batmap_version = kBatmapVersion;
  bh.checksum = BatmapHeader::MapChecksum(nullptr, 0, kBatmapVersion);  // ~0
  bh.Encode(&m.tail[0]);
  for (size_t i = 0; i < locators.size(); ++i) {
    std::memcpy(&m.tail[header.loc[i].data_offset - m.tail_offset],
                locators[i].bytes.data(), locators[i].bytes.size());
  }
  return m;
}

std::vector<uint8_t> BuildSparseMetadata(
    const Footer& footer, DynamicHeader header,
    const std::vector<LocatorPayload>& locators) {
  SparseMetadata m = LayOutSparseMetadata(footer, header, locators);
  std::vector<uint8_t> buf(m.end(), 0);
  std::memcpy(&buf[0], m.head.data(), m.head.size());
  std::memset(&buf[m.bat_offset], 0xff, m.bat_bytes);
  std::memcpy(&buf[m.tail_offset], m.tail.data(), m.tail.size());
  return buf;
}

namespace {

// Writes n bytes of `byte` at `offset` from a small buffer, starting the
// write-back of each piece so that the disk works while the next is copied.
base::Status WriteFill(base::File* f, uint64_t offset, uint64_t n,
                       uint8_t byte) {
  std::vector<uint8_t> chunk(std::min<uint64_t>(n, 256 << 10), byte);
  while (n > 0) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, chunk.size()));
    RETURN_IF_ERROR(f->Write(offset, chunk.data(), k));
    f->StartWriteback(offset, k);
    offset += k;
    n -= k;
  }
  return base::Status::OK();
}

// Writes `meta` (none for a fixed disk) then a footer at `footer_at` into a
// new file under a temporary name, gets it to the disk as `durability` says,
// then links it to `path`.
base::Status WriteNewFile(base::Env* env, const std::string& path,
                          const SparseMetadata* meta, uint64_t footer_at,
                          const Footer& footer, NewFileDurability durability) {
  std::random_device rd;
  std::string tmp =
      base::JoinPath(base::DirName(path), "." + base::BaseName(path) + ".tmp-" +
                                              std::to_string(rd()));
  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(tmp, base::Env::OpenMode::kCreateExclusive, &f));
  const bool durable = durability == NewFileDurability::kDurable;
  base::Status s;
  if (meta != nullptr) {
    s = f->Write(0, meta->head.data(), meta->head.size());
    if (s.ok()) s = WriteFill(f.get(), meta->bat_offset, meta->bat_bytes, 0xff);
    if (s.ok()) {
      s = f->Write(meta->tail_offset, meta->tail.data(), meta->tail.size());
    }
  }
  if (s.ok()) s = WriteFooterAt(f.get(), footer, footer_at);
  if (s.ok()) s = durable ? f->Sync() : f->WriteBack(0, 0);
  f.reset();
  if (s.ok()) s = env->Link(tmp, path);
  env->Unlink(tmp);
  if (!s.ok() || !durable) return s;
  return env->SyncDir(base::DirName(path));
}

base::Status CheckSizes(uint64_t size, uint64_t max_size) {
  if (size == 0)
    return base::Status::InvalidArgument("size must be greater than 0");
  if (size > kMaxVirtualSize) {
    return base::Status::TooLarge("virtual size " + std::to_string(size) +
                                  " exceeds the VHD limit of 2040 GiB");
  }
  if (max_size != 0 && max_size < size) {
    return base::Status::InvalidArgument(
        "preallocation size must be at least the virtual size");
  }
  if (max_size > kMaxPreallocSize) {
    return base::Status::TooLarge("preallocation size exceeds 2 TiB");
  }
  return base::Status::OK();
}

}  // namespace

base::Status RelativePath(base::Env* env, const std::string& from_dir,
                          const std::string& to, std::string* rel) {
  namespace fs = std::filesystem;
  std::string target, base;
  RETURN_IF_ERROR(env->Realpath(to, &target));
  RETURN_IF_ERROR(env->Realpath(from_dir.empty() ? "." : from_dir, &base));
  fs::path r = fs::path(target).lexically_relative(base);
  if (r.empty())
    return base::Status::InvalidArgument("no relative path to " + to);
  std::string s = r.string();
  if (s.rfind("../", 0) != 0) s = "./" + s;
  *rel = s;
  return base::Status::OK();
}

base::Status ParentLocators(base::Env* env, const std::string& child,
                            const std::string& parent,
                            std::vector<LocatorPayload>* locators) {
  std::string rel;
  RETURN_IF_ERROR(RelativePath(env, base::DirName(child), parent, &rel));
  std::string macx = "file://" + rel;
  std::string win = rel;
  if (win.rfind("./", 0) == 0) win = win.substr(2);
  win = ".\\" + win;
  std::replace(win.begin(), win.end(), '/', '\\');
  locators->assign(3, LocatorPayload());
  (*locators)[0].code = PlatformCode::kMacX;
  (*locators)[0].bytes.assign(macx.begin(), macx.end());
  (*locators)[1].code = PlatformCode::kW2ku;
  if (!Utf8ToUtf16(win, Utf16Order::kLittle, &(*locators)[1].bytes)) {
    return base::Status::InvalidArgument("parent path is not valid UTF-8");
  }
  (*locators)[2].code = PlatformCode::kW2ru;
  (*locators)[2].bytes = (*locators)[1].bytes;
  return base::Status::OK();
}

base::Status CreateVhd(base::Env* env, const std::string& path,
                       const CreateParams& params) {
  RETURN_IF_ERROR(CheckSizes(params.size, params.max_size));
  uint64_t size = RoundUp(params.size, kBlock);
  if (params.fixed) {
    Footer f = NewFooter(DiskType::kFixed, size, params.uuid);
    // The data area is a hole: it reads as zeros, as vhd-util's zero fill.
    return WriteNewFile(env, path, nullptr, size, f, params.durability);
  }
  uint64_t entries = std::max(size, RoundUp(params.max_size, kBlock)) / kBlock;
  Footer f = NewFooter(DiskType::kDynamic, size, params.uuid);
  SparseMetadata meta = LayOutSparseMetadata(f, NewDynamicHeader(entries), {});
  return WriteNewFile(env, path, &meta, meta.end(), f, params.durability);
}

base::Status CreateDifferencing(base::Env* env, const std::string& child,
                                const std::string& parent,
                                const SnapshotParams& params) {
  base::FileInfo pinfo;
  RETURN_IF_ERROR(env->Stat(parent, &pinfo));
  if (!pinfo.is_regular) {
    return base::Status::InvalidArgument(parent + " is not a regular file");
  }
  uint64_t parent_size;
  Uuid parent_uuid;
  if (params.raw_parent) {
    parent_size = pinfo.size;
  } else {
    std::unique_ptr<Image> p;
    RETURN_IF_ERROR(OpenImage(env, parent, OpenOptions(), &p));
    parent_size = p->virtual_size();
    parent_uuid = p->footer()->uuid;
    if (parent_uuid.IsNull()) {
      return base::Status::Corruption(parent + " has a null uuid");
    }
  }
  uint64_t size = params.size == 0 ? parent_size : RoundUp(params.size, kBlock);
  RETURN_IF_ERROR(CheckSizes(size, params.max_size));
  if (size < parent_size) {
    return base::Status::InvalidArgument(
        "a child cannot be smaller than its parent");
  }

  std::vector<LocatorPayload> locs;
  RETURN_IF_ERROR(ParentLocators(env, child, parent, &locs));

  uint64_t entries =
      std::max(RoundUp(size, kBlock), RoundUp(params.max_size, kBlock)) /
      kBlock;
  DynamicHeader h = NewDynamicHeader(entries);
  h.parent_uuid = parent_uuid;
  h.parent_timestamp = VhdTimeFromUnix(pinfo.mtime);
  std::string canon;
  RETURN_IF_ERROR(env->Realpath(parent, &canon));
  RETURN_IF_ERROR(h.SetParentName(base::BaseName(canon)));
  Footer f = NewFooter(DiskType::kDifferencing, size, params.uuid);
  SparseMetadata meta = LayOutSparseMetadata(f, h, locs);
  return WriteNewFile(env, child, &meta, meta.end(), f, params.durability);
}

base::Status FindSnapshotTarget(base::Env* env, const std::string& parent,
                                std::string* target, bool* raw) {
  std::string path = parent;
  *raw = false;
  for (int depth = 0; depth < 256; ++depth) {
    std::unique_ptr<Image> img;
    RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
    auto* sparse = dynamic_cast<SparseImage*>(img.get());
    if (img->type() != DiskType::kDifferencing || sparse == nullptr) break;
    RETURN_IF_ERROR(sparse->LoadBat());
    if (sparse->allocated_blocks() != 0) break;
    std::string next;
    RETURN_IF_ERROR(FindParent(env, img.get(), &next, raw));
    path = next;
    if (*raw) break;
  }
  *target = path;
  return base::Status::OK();
}

}  // namespace vhd
