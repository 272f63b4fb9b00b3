#include "vhd/chain.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "vhd/sparse_image.h"

namespace vhd {

namespace {

bool AllZero(const uint8_t* p, size_t n) {
  // Word-at-a-time scan; buffers here are sector multiples.
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

void Push(std::vector<Extent>* out, const Extent& e) {
  if (!out->empty()) {
    Extent& last = out->back();
    if (last.image == e.image && last.sector + last.count == e.sector &&
        (e.image == nullptr ||
         last.file_offset + (last.count << kSectorShift) == e.file_offset)) {
      last.count += e.count;
      return;
    }
  }
  out->push_back(e);
}

// Confined resolution: the header's parent name, a plain name next to the
// child, holding a VHD whose uuid is the recorded one. Locators are not read.
base::Status FindParentByName(base::Env* env, SparseImage* child,
                              std::string* parent_path) {
  const Uuid& want = child->header().parent_uuid;
  if (want.IsNull()) {
    return base::Status::Corruption(
        child->path() +
        " records a raw parent (null parent uuid), which is refused here");
  }
  std::string name;
  bool plain = child->header().DecodeParentName(&name) && !name.empty() &&
               name != "." && name != ".." &&
               name.find_first_of("/\\") == std::string::npos;
  // The name reaches messages, logs and terminals: no control bytes.
  std::string shown;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      shown += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
      plain = false;
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (!plain) {
    return base::Status::Corruption(child->path() + "'s parent name '" + shown +
                                    "' is not a file name next to it");
  }
  std::string path = base::JoinPath(base::DirName(child->path()), name);
  base::FileInfo fi;
  base::Status s = env->Stat(path, &fi);
  if (!s.ok()) {
    if (s.code() != base::Code::kNotFound) return s;
    return base::Status::ParentMissing("parent " + name + " of " +
                                       child->path() + " not found");
  }
  if (!fi.is_regular) {
    return base::Status::UnsafePath("parent " + path + " of " + child->path() +
                                    " is not a regular file" +
                                    (fi.is_symlink ? " (a symlink)" : ""));
  }
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  if (img->footer()->uuid != want) {
    return base::Status::ParentMismatch(
        child->path() + " expects parent " + want.ToString() + " but " + path +
        " is " + img->footer()->uuid.ToString());
  }
  *parent_path = path;
  return base::Status::OK();
}

}  // namespace

base::Status FindParent(base::Env* env, Image* child, std::string* parent_path,
                        bool* raw) {
  auto* sparse = dynamic_cast<SparseImage*>(child);
  if (sparse == nullptr || child->type() != DiskType::kDifferencing) {
    return base::Status::InvalidArgument(child->path() +
                                         " is not a differencing disk");
  }
  *raw = sparse->header().parent_uuid.IsNull();
  if (!env->follows_locators())
    return FindParentByName(env, sparse, parent_path);
  std::vector<std::string> candidates;
  RETURN_IF_ERROR(sparse->ParentCandidates(&candidates));
  // The first candidate that is the recorded parent wins: after an
  // interrupted relink, locators and header name may disagree.
  std::string mismatch;
  for (const std::string& c : candidates) {
    base::FileInfo fi;
    if (!env->Stat(c, &fi).ok() || !fi.is_regular) continue;
    if (*raw) {
      *parent_path = c;
      return base::Status::OK();
    }
    std::unique_ptr<Image> img;
    if (OpenImage(env, c, OpenOptions(), &img).ok() &&
        img->footer()->uuid == sparse->header().parent_uuid) {
      *parent_path = c;
      return base::Status::OK();
    }
    if (mismatch.empty()) mismatch = c;
  }
  if (!mismatch.empty()) {
    return base::Status::ParentMismatch(
        child->path() + " expects parent " +
        sparse->header().parent_uuid.ToString() + " but " + mismatch +
        " is another disk");
  }
  std::string tried;
  for (const std::string& c : candidates)
    tried += (tried.empty() ? "" : ", ") + c;
  return base::Status::ParentMissing(
      "parent of " + child->path() + " not found" +
      (tried.empty() ? std::string(" (no locators)")
                     : " (tried " + tried + ")"));
}

base::Status Chain::Open(const std::string& leaf_path,
                         const ChainOptions& options,
                         std::unique_ptr<Chain>* chain) {
  base::Env* env = options.env != nullptr ? options.env : base::Env::Default();
  std::vector<std::unique_ptr<Image>> layers;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  std::string path = leaf_path;
  bool raw = false;
  for (;;) {
    if (static_cast<int>(layers.size()) >= options.max_depth) {
      return base::Status::ChainTooLong(leaf_path + ": chain deeper than " +
                                        std::to_string(options.max_depth));
    }
    base::FileInfo fi;
    RETURN_IF_ERROR(env->Stat(path, &fi));
    if (!seen.insert({fi.dev, fi.ino}).second) {
      return base::Status::ChainTooLong(leaf_path + ": parent loop at " + path);
    }
    OpenOptions o;
    o.writable = layers.empty() && options.writable;
    o.durable = options.durable;
    std::unique_ptr<Image> image;
    base::Status s = raw ? OpenRawImage(env, path, o, &image)
                         : OpenImage(env, path, o, &image);
    if (!s.ok()) {
      if (!layers.empty() && s.code() == base::Code::kNotFound) {
        return base::Status::ParentMissing(s.message());
      }
      return s;
    }
    if (!layers.empty() && !raw) {
      const auto* child = static_cast<SparseImage*>(layers.back().get());
      if (image->footer()->uuid != child->header().parent_uuid) {
        return base::Status::ParentMismatch(
            child->path() + " expects parent " +
            child->header().parent_uuid.ToString() + " but " + path + " is " +
            image->footer()->uuid.ToString());
      }
    }
    layers.push_back(std::move(image));
    Image* top = layers.back().get();
    if (top->type() != DiskType::kDifferencing) break;
    RETURN_IF_ERROR(FindParent(env, top, &path, &raw));
  }
  chain->reset(new Chain(std::move(layers)));
  return base::Status::OK();
}

base::Status Chain::MapLayer(size_t i, uint64_t sector, uint64_t count,
                             std::vector<Extent>* out) {
  if (count == 0) return base::Status::OK();
  if (i == layers_.size()) {
    Push(out, Extent{sector, count, nullptr, 0});
    return base::Status::OK();
  }
  Image* img = layers_[i].get();
  uint64_t vsec = SectorsOf(img->virtual_size());
  if (sector >= vsec) return MapLayer(i + 1, sector, count, out);
  if (sector + count > vsec) {
    RETURN_IF_ERROR(MapLayer(i, sector, vsec - sector, out));
    return MapLayer(i + 1, vsec, sector + count - vsec, out);
  }
  uint32_t spb = img->sectors_per_block();
  while (count > 0) {
    uint64_t b = sector / spb;
    uint32_t s = static_cast<uint32_t>(sector % spb);
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(count, spb - s));
    BlockState st;
    RETURN_IF_ERROR(img->GetBlockState(b, &st));
    switch (st.kind) {
      case BlockKind::kUnallocated:
        RETURN_IF_ERROR(MapLayer(i + 1, sector, n, out));
        break;
      case BlockKind::kFull:
        Push(out, Extent{sector, n, img, img->DataOffset(b, s)});
        break;
      case BlockKind::kPartial: {
        // The bitmap stays valid: recursion only calls deeper layers.
        const uint8_t* bm = st.bitmap;
        uint32_t k = 0;
        while (k < n) {
          uint32_t run = BitmapRun(bm, s + k, n - k);
          if (BitmapTest(bm, s + k)) {
            Push(out, Extent{sector + k, run, img, img->DataOffset(b, s + k)});
          } else {
            RETURN_IF_ERROR(MapLayer(i + 1, sector + k, run, out));
          }
          k += run;
        }
        break;
      }
    }
    sector += n;
    count -= n;
  }
  return base::Status::OK();
}

base::Status Chain::Map(uint64_t sector, uint64_t count,
                        std::vector<Extent>* extents) {
  extents->clear();
  return MapLayer(0, sector, count, extents);
}

base::Status Chain::IsHole(uint64_t sector, uint64_t count, bool* hole) {
  std::vector<Extent> ext;
  RETURN_IF_ERROR(Map(sector, count, &ext));
  *hole = std::all_of(ext.begin(), ext.end(),
                      [](const Extent& e) { return e.image == nullptr; });
  return base::Status::OK();
}

base::Status Chain::ReadSectors(uint64_t sector, uint64_t count, uint8_t* buf) {
  std::vector<Extent> ext;
  RETURN_IF_ERROR(Map(sector, count, &ext));
  for (const Extent& e : ext) {
    uint8_t* dst = buf + ((e.sector - sector) << kSectorShift);
    size_t len = e.count << kSectorShift;
    if (e.image == nullptr) {
      std::memset(dst, 0, len);
    } else {
      RETURN_IF_ERROR(e.image->file()->Read(e.file_offset, len, dst));
    }
  }
  return base::Status::OK();
}

base::Status Chain::Read(uint64_t offset, size_t len, void* buf) {
  if (offset > virtual_size() || len > virtual_size() - offset) {
    return base::Status::InvalidArgument("read of " + std::to_string(len) +
                                         " bytes at " + std::to_string(offset) +
                                         " is beyond the end of the disk");
  }
  auto* out = static_cast<uint8_t*>(buf);
  uint8_t sec[kSectorSize];
  while (len > 0) {
    uint64_t first = offset >> kSectorShift;
    uint32_t head = offset & (kSectorSize - 1);
    if (head != 0 || len < kSectorSize) {
      size_t n = std::min<size_t>(len, kSectorSize - head);
      RETURN_IF_ERROR(ReadSectors(first, 1, sec));
      std::memcpy(out, sec + head, n);
      out += n;
      offset += n;
      len -= n;
      continue;
    }
    uint64_t count = len >> kSectorShift;
    RETURN_IF_ERROR(ReadSectors(first, count, out));
    out += count << kSectorShift;
    offset += count << kSectorShift;
    len -= count << kSectorShift;
  }
  return base::Status::OK();
}

base::Status Chain::WriteSectors(uint64_t sector, uint64_t count,
                                 const uint8_t* buf) {
  Image* leaf = layers_[0].get();
  uint32_t spb = leaf->sectors_per_block();
  while (count > 0) {
    uint64_t b = sector / spb;
    uint32_t s = static_cast<uint32_t>(sector % spb);
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(count, spb - s));
    bool skip = false;
    if (leaf->type() != DiskType::kFixed &&
        AllZero(buf, size_t{n} << kSectorShift)) {
      // Zeros over a hole need no storage; over an ancestor's data they do.
      RETURN_IF_ERROR(IsHole(sector, n, &skip));
    }
    if (!skip) RETURN_IF_ERROR(leaf->WriteSectors(b, s, n, buf));
    buf += size_t{n} << kSectorShift;
    sector += n;
    count -= n;
  }
  return base::Status::OK();
}

base::Status Chain::ReserveForWrite(uint64_t offset, size_t len,
                                    const void* buf) {
  Image* leaf = layers_[0].get();
  if (leaf->type() == DiskType::kFixed || len == 0) return base::Status::OK();
  // The blocks that WriteSectors will store into (zeros over a hole are
  // skipped there, so they need no space here either).
  const auto* in = static_cast<const uint8_t*>(buf);
  const uint64_t bs = leaf->block_size();
  std::vector<uint64_t> blocks;
  for (uint64_t at = offset, end = offset + len; at < end;) {
    uint64_t b = at / bs;
    uint64_t to = std::min(end, (b + 1) * bs);
    bool skip = AllZero(in + (at - offset), to - at);
    if (skip) {
      uint64_t first = at >> kSectorShift;
      uint64_t last = (to - 1) >> kSectorShift;
      RETURN_IF_ERROR(IsHole(first, last - first + 1, &skip));
    }
    if (!skip) blocks.push_back(b);
    at = to;
  }
  return leaf->ReserveBlocks(blocks);
}

base::Status Chain::Write(uint64_t offset, size_t len, const void* buf) {
  if (offset > virtual_size() || len > virtual_size() - offset) {
    return base::Status::InvalidArgument("write of " + std::to_string(len) +
                                         " bytes at " + std::to_string(offset) +
                                         " is beyond the end of the disk");
  }
  if (!leaf()->writable()) {
    return base::Status::ReadOnly(leaf()->path() + " is open read-only");
  }
  RETURN_IF_ERROR(ReserveForWrite(offset, len, buf));
  const auto* in = static_cast<const uint8_t*>(buf);
  uint8_t sec[kSectorSize];
  base::Status s;
  while (len > 0 && s.ok()) {
    uint64_t first = offset >> kSectorShift;
    uint32_t head = offset & (kSectorSize - 1);
    if (head != 0 || len < kSectorSize) {
      // Partial sector: read it through the chain, patch, write it back.
      size_t n = std::min<size_t>(len, kSectorSize - head);
      s = ReadSectors(first, 1, sec);
      if (!s.ok()) break;
      std::memcpy(sec + head, in, n);
      s = WriteSectors(first, 1, sec);
      in += n;
      offset += n;
      len -= n;
      continue;
    }
    uint64_t count = len >> kSectorShift;
    s = WriteSectors(first, count, in);
    in += count << kSectorShift;
    offset += count << kSectorShift;
    len -= count << kSectorShift;
  }
  base::Status c = leaf()->CommitMetadata();
  return s.ok() ? c : s;
}

base::Status Chain::Flush() { return leaf()->Flush(); }

base::Status Chain::ExportRaw(
    base::File* out, const std::function<void(uint64_t, uint64_t)>& progress) {
  uint64_t size = virtual_size();
  // Holes must read as zeros: drop old contents, but do not truncate an
  // empty file (ext4 then flushes the whole new file on close).
  uint64_t old_size = 0;
  RETURN_IF_ERROR(out->Size(&old_size));
  if (old_size != 0) RETURN_IF_ERROR(out->Truncate(0));
  RETURN_IF_ERROR(out->Truncate(size));
  uint64_t total = SectorsOf(size);
  constexpr uint64_t kChunk = 64ull << (20 - kSectorShift);  // 64 MiB
  std::vector<Extent> ext;
  for (uint64_t sector = 0; sector < total;) {
    uint64_t n = std::min(kChunk, total - sector);
    RETURN_IF_ERROR(Map(sector, n, &ext));
    for (const Extent& e : ext) {
      if (e.image == nullptr) continue;  // a hole in the output
      uint64_t dst = e.sector << kSectorShift;
      uint64_t len = std::min<uint64_t>(e.count << kSectorShift, size - dst);
      RETURN_IF_ERROR(e.image->file()->CopyTo(out, e.file_offset, dst, len));
    }
    // Overlap the disk's writeback with copying the next chunk.
    out->StartWriteback(sector << kSectorShift, n << kSectorShift);
    sector += n;
    if (progress) progress(std::min(sector << kSectorShift, size), size);
  }
  return base::Status::OK();
}

}  // namespace vhd
