#include "vhd/check.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "vhd/chain.h"
#include "vhd/endian.h"
#include "vhd/footer_io.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

namespace vhd {

namespace {

constexpr int64_t kFutureSlack = 1800;  // seconds, as vhd-util

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

bool AllZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

const char* FooterProblem(const Footer& f, bool ignore_timestamps) {
  if (!f.CookieOk()) return "invalid cookie";
  bool legacy = false;
  if (!FooterChecksumAcceptable(f, &legacy)) return "invalid checksum";
  if (!(f.features & kFeatureReserved)) return "invalid 'reserved' feature";
  if (f.features & ~uint32_t{0x3}) return "invalid extra features";
  if (f.version != kFormatVersion) return "invalid file format version";
  if (!f.IsDynamicOrDiff() && f.data_offset != kDataOffsetNone) {
    return "invalid data offset";
  }
  if (!ignore_timestamps && f.timestamp > VhdTimeNow() + kFutureSlack) {
    return "creation time in future";
  }
  if (f.CreatorIsTap() && f.creator_version > kCreatorTapVersion) {
    return "unsupported tap creator version";
  }
  if (ChsGeometry(f.curr_size) < f.geometry) return "geometry too large";
  if (f.type != 2 && f.type != 3 && f.type != 4) return "invalid type";
  if (f.saved_state > 1) return "invalid 'saved' state";
  if (f.hidden > 1) return "invalid 'hidden' state";
  if (!AllZero(f.reserved.data(), f.reserved.size())) {
    return "invalid 'reserved' bits";
  }
  if (f.uuid.IsNull()) return "invalid (NULL) uuid";
  return nullptr;
}

class Checker {
 public:
  Checker(base::Env* env, const CheckOptions& o, CheckReport* r)
      : env_(env), opts_(o), report_(r) {}

  // Checks one file; *parent receives the resolved parent path ("" if none
  // or raw). Returns OK when valid.
  base::Status CheckFile(const std::string& path, std::string* parent);

 private:
  base::Status Fail(const std::string& line) {
    report_->lines.push_back(line);
    std::string m = line;
    if (!m.empty() && m.back() == '\n') m.pop_back();
    return base::Status::Corruption(m);
  }
  // Steps of CheckFile. CheckFooters sets *done when the disk is fixed (or
  // its footers say nothing more is to be checked).
  base::Status OpenChecked(const std::string& path);
  base::Status CheckFooters(bool* done);
  base::Status CheckBackupFooter(const Footer& primary, bool primary_missing);
  base::Status CheckHeader();
  base::Status CheckDiffFields();
  base::Status CheckBat(const std::string& path);
  base::Status CheckBatEntry(uint64_t i, uint32_t off, uint64_t eoh_secs,
                             uint64_t spb, uint64_t limit);
  base::Status CheckBatmap();
  base::Status CheckLocators(const std::string& path, std::string* parent);
  // This file as a SparseImage (on the footer found), to decode locators.
  base::Status OpenAsSparse(const std::string& path,
                            std::unique_ptr<SparseImage>* img);
  // The parent a locator names: opens, its uuid the header's.
  base::Status CheckParent(const std::string& resolved, std::string* parent);
  base::Status CheckData();

  base::Env* env_;
  CheckOptions opts_;
  CheckReport* report_;

  std::unique_ptr<base::File> file_;
  uint64_t size_ = 0;
  uint64_t eof_ = 0;  // offset of the footer in use
  Footer footer_;
  DynamicHeader header_;
  // Allocated BAT entries, (block, offset in sectors), in block order.
  std::vector<std::pair<uint32_t, uint32_t>> alloc_;
  // First unallocated block the batmap calls full, or -1.
  int64_t batmap_full_unallocated_ = -1;
  uint64_t end_of_headers_ = 0;
  bool has_batmap_ = false;
  BatmapHeader batmap_hdr_;
  std::vector<uint8_t> batmap_;
  uint32_t bm_secs_ = 1;
};

base::Status Checker::CheckFile(const std::string& path, std::string* parent) {
  parent->clear();
  RETURN_IF_ERROR(OpenChecked(path));
  bool done = false;
  RETURN_IF_ERROR(CheckFooters(&done));
  if (done) return base::Status::OK();
  RETURN_IF_ERROR(CheckHeader());
  RETURN_IF_ERROR(CheckDiffFields());
  RETURN_IF_ERROR(CheckBatmap());
  RETURN_IF_ERROR(CheckBat(path));
  if (has_batmap_ && batmap_full_unallocated_ >= 0) {
    return Fail(Format("batmap shows unallocated block %d full\n",
                       static_cast<int>(batmap_full_unallocated_)));
  }
  if (footer_.type == 4) {
    RETURN_IF_ERROR(CheckLocators(path, parent));
  }
  if (opts_.check_data) RETURN_IF_ERROR(CheckData());
  report_->lines.push_back(Format("%s is valid\n", path.c_str()));
  return base::Status::OK();
}

base::Status Checker::OpenChecked(const std::string& path) {
  base::FileInfo st;
  base::Status ss = env_->Stat(path, &st);
  if (!ss.ok()) {
    return Fail(Format("cannot stat %s: %d\n", path.c_str(), -ss.ToErrno()));
  }
  if (!st.is_regular) {
    return Fail(
        Format("%s is not a regular file or block device\n", path.c_str()));
  }
  base::Status s = env_->Open(path, base::Env::OpenMode::kReadOnly, &file_);
  if (!s.ok()) return Fail(Format("error opening %s\n", path.c_str()));
  RETURN_IF_ERROR(file_->Size(&size_));
  if (size_ < kFooterSize) {
    return Fail("primary footer invalid: invalid cookie\n");
  }
  return base::Status::OK();
}

base::Status Checker::CheckFooters(bool* done) {
  uint8_t buf[kFooterSize];
  uint32_t plen =
      (size_ % kSectorSize == kSectorSize - 1) ? kFooterSize - 1 : kFooterSize;
  std::memset(buf, 0, sizeof(buf));
  RETURN_IF_ERROR(file_->Read(size_ - plen, plen, buf));
  Footer primary = Footer::Decode(buf);
  eof_ = size_ - plen;
  bool primary_missing = false;
  if (const char* p = FooterProblem(primary, opts_.ignore_timestamps)) {
    if (!opts_.ignore_primary_footer) {
      return Fail(Format("primary footer invalid: %s\n", p));
    }
    primary_missing = true;
  }
  footer_ = primary;
  if (!primary_missing && footer_.type == 2) {
    if (footer_.curr_size > eof_) {
      return Fail("primary footer invalid: disk size beyond end of file\n");
    }
    *done = true;
    return base::Status::OK();
  }
  RETURN_IF_ERROR(CheckBackupFooter(primary, primary_missing));
  *done = !footer_.IsDynamicOrDiff();
  return base::Status::OK();
}

// The copy at 0: valid, and the primary's twin (or standing in for it).
base::Status Checker::CheckBackupFooter(const Footer& primary,
                                        bool primary_missing) {
  uint8_t buf[kFooterSize];
  RETURN_IF_ERROR(file_->Read(0, kFooterSize, buf));
  Footer backup = Footer::Decode(buf);
  if (const char* p = FooterProblem(backup, opts_.ignore_timestamps)) {
    return Fail(Format("backup footer invalid: %s\n", p));
  }
  if (primary_missing) {
    footer_ = backup;
    return base::Status::OK();
  }
  uint8_t a[kFooterSize];
  primary.Encode(a);
  if (std::memcmp(a, buf, kFooterSize) == 0) return base::Status::OK();
  // Old blktap (tap 0.1/1.1) set hidden only in the copy at 0.
  Footer b2 = backup;
  b2.hidden = 0;
  b2.checksum = primary.checksum;
  uint8_t x[kFooterSize];
  b2.Encode(x);
  bool tolerated = backup.hidden && backup.CreatorIsTap() &&
                   (backup.creator_version == 0x00000001 ||
                    backup.creator_version == 0x00010001) &&
                   std::memcmp(a, x, kFooterSize) == 0;
  if (!tolerated) return Fail("primary and backup footers do not match\n");
  return base::Status::OK();
}

base::Status Checker::CheckHeader() {
  if (!RangeWithin(footer_.data_offset, kHeaderSize, size_)) {
    return Fail("header is invalid: invalid data offset\n");
  }
  uint8_t hb[kHeaderSize];
  RETURN_IF_ERROR(file_->Read(footer_.data_offset, kHeaderSize, hb));
  header_ = DynamicHeader::Decode(hb);
  const char* hp = nullptr;
  uint64_t entries = header_.max_table_entries;
  if (!header_.CookieOk()) {
    hp = "invalid cookie";
  } else if (!header_.ChecksumOk()) {
    hp = "invalid checksum";
  } else if (header_.version != kFormatVersion) {
    hp = "invalid header version";
  } else if (header_.data_offset != kDataOffsetNone) {
    hp = "invalid data offset";
  } else if (header_.table_offset == 0 || header_.table_offset % kSectorSize ||
             !RangeWithin(header_.table_offset, entries * 4, eof_)) {
    hp = "invalid table offset";
  } else if (!IsPowerOfTwo(header_.block_size) ||
             header_.block_size < kSectorSize ||
             header_.block_size > kMaxBlockSize) {
    hp = "invalid block size";
  } else if (header_.reserved1 != 0 ||
             !AllZero(header_.reserved2.data(), header_.reserved2.size())) {
    hp = "invalid reserved bits";
  }
  if (hp) return Fail(Format("header is invalid: %s\n", hp));
  if (entries > kMaxBatEntries) {
    return Fail(Format("header is invalid: %s\n", "invalid table offset"));
  }
  bm_secs_ = static_cast<uint32_t>(
      SectorsOf(((header_.block_size >> kSectorShift) + 7) / 8));
  return base::Status::OK();
}

// A differencing disk's parent fields are sane; any other's are empty.
base::Status Checker::CheckDiffFields() {
  const char* dp = nullptr;
  if (footer_.type == 4) {
    std::string name;
    if (!opts_.ignore_timestamps &&
        header_.parent_timestamp > VhdTimeNow() + kFutureSlack) {
      dp = "parent creation time in future";
    } else if (!header_.DecodeParentName(&name)) {
      dp = "invalid parent name";
    }
  } else {
    bool locs = false;
    for (const ParentLocatorEntry& e : header_.loc) {
      locs |= e.code || e.data_space || e.data_length || e.reserved ||
              e.data_offset;
    }
    if (!AllZero(header_.parent_name.data(), header_.parent_name.size())) {
      dp = "invalid non-null parent name";
    } else if (locs) {
      dp = "invalid non-null parent locators";
    } else if (!header_.parent_uuid.IsNull()) {
      dp = "invalid non-null parent uuid";
    } else if (header_.parent_timestamp != 0) {
      dp = "invalid non-zero parent timestamp";
    }
  }
  if (dp) return Fail(Format("differencing header is invalid: %s\n", dp));
  return base::Status::OK();
}

base::Status Checker::CheckBatmap() {
  uint64_t entries = header_.max_table_entries;
  end_of_headers_ =
      std::max(footer_.data_offset + kHeaderSize,
               header_.table_offset + RoundUp(entries * 4, kSectorSize));
  has_batmap_ = footer_.CreatorIsTap() && footer_.creator_version >= 0x00010002;
  if (!has_batmap_) return base::Status::OK();
  uint64_t hoff = header_.table_offset + RoundUp(entries * 4, kSectorSize);
  if (hoff + kSectorSize > eof_) {
    return Fail("batmap is invalid: invalid batmap offset\n");
  }
  uint8_t b[kSectorSize];
  RETURN_IF_ERROR(file_->Read(hoff, kSectorSize, b));
  batmap_hdr_ = BatmapHeader::Decode(b);
  const BatmapHeader& h = batmap_hdr_;
  const char* p = nullptr;
  if (!h.CookieOk()) {
    p = "invalid cookie";
  } else if (h.batmap_version > kBatmapVersion) {
    p = "unsupported batmap version";
  } else if (h.batmap_size == 0) {
    p = "invalid size zero";
  } else if (uint64_t{h.batmap_size} * 4096 < entries) {
    p = "batmap-BAT size mismatch";
  } else if (h.batmap_offset % kSectorSize ||
             h.batmap_offset < hoff + kSectorSize || h.batmap_offset > eof_) {
    p = "invalid batmap offset";
  } else if (h.batmap_offset + uint64_t{h.batmap_size} * kSectorSize > eof_) {
    p = "invalid batmap size";
  }
  if (p) return Fail(Format("batmap is invalid: %s\n", p));
  batmap_.resize(uint64_t{h.batmap_size} * kSectorSize);
  RETURN_IF_ERROR(file_->Read(h.batmap_offset, batmap_.size(), batmap_.data()));
  uint64_t sum_bytes = std::min<uint64_t>(
      RoundUp(std::max<uint64_t>(1, footer_.curr_size >> 24), kSectorSize),
      batmap_.size());
  if (BatmapHeader::MapChecksum(batmap_.data(), sum_bytes, h.batmap_version) !=
      h.checksum) {
    return Fail("batmap is invalid: invalid checksum\n");
  }
  end_of_headers_ = std::max(
      {end_of_headers_, hoff + kSectorSize, h.batmap_offset + batmap_.size()});
  return base::Status::OK();
}

base::Status Checker::CheckBatEntry(uint64_t i, uint32_t off, uint64_t eoh_secs,
                                    uint64_t spb, uint64_t limit) {
  if (off == kBatUnused) {
    if (has_batmap_ && batmap_full_unallocated_ < 0 &&
        BitmapTest(batmap_.data(), static_cast<uint32_t>(i))) {
      batmap_full_unallocated_ = static_cast<int64_t>(i);
    }
    return base::Status::OK();
  }
  if (off < eoh_secs) {
    return Fail(Format("block %d (offset 0x%x) clobbers headers\n",
                       static_cast<int>(i), off));
  }
  if (uint64_t{off} + spb + bm_secs_ > limit) {
    return Fail(Format("block %d (offset 0x%x) clobbers footer\n",
                       static_cast<int>(i), off));
  }
  alloc_.emplace_back(static_cast<uint32_t>(i), off);
  return base::Status::OK();
}

base::Status Checker::CheckBat(const std::string& path) {
  if (size_ % kSectorSize != 0 && size_ % kSectorSize != kSectorSize - 1) {
    return Fail(Format("invalid file size: 0x%" PRIx64 "\n", size_));
  }
  uint64_t entries = header_.max_table_entries;
  if (!RangeWithin(header_.table_offset, entries * 4, size_)) {
    return base::Status::IOError(path + ": short read of the BAT");
  }
  uint64_t vhd_blocks = footer_.curr_size / header_.block_size;
  if (vhd_blocks > entries) {
    return Fail(Format("VHD size (%" PRIu64 " blocks) exceeds BAT size (%u)\n",
                       vhd_blocks, header_.max_table_entries));
  }
  if (footer_.type == 4) {
    for (const ParentLocatorEntry& e : header_.loc) {
      if (e.code == 0) continue;
      if (RangeWithin(e.data_offset, e.SpaceBytes(), eof_)) {
        end_of_headers_ =
            std::max(end_of_headers_, e.data_offset + e.SpaceBytes());
      }
    }
  }
  uint64_t eoh_secs = SectorsOf(end_of_headers_);
  uint64_t spb = header_.block_size >> kSectorShift;
  uint64_t limit = eof_ >> kSectorShift;
  // The BAT is read a chunk at a time and not kept: only the allocated
  // entries are (a 2 TiB disk's 4 MiB BAT is mostly empty, and its pages
  // cost more than the checks).
  alloc_.clear();
  batmap_full_unallocated_ = -1;
  uint8_t buf[64 << 10];
  for (uint64_t done = 0; done < entries;) {
    size_t want = std::min<uint64_t>(sizeof(buf), (entries - done) * 4);
    RETURN_IF_ERROR(file_->Read(header_.table_offset + done * 4, want, buf));
    for (size_t k = 0; k < want; k += 4, ++done) {
      RETURN_IF_ERROR(
          CheckBatEntry(done, LoadBE32(buf + k), eoh_secs, spb, limit));
    }
  }
  if (!opts_.skip_bat_overlap) {
    std::vector<std::pair<uint32_t, uint32_t>> used;  // (offset, block)
    used.reserve(alloc_.size());
    for (const auto& [block, off] : alloc_) used.emplace_back(off, block);
    std::sort(used.begin(), used.end());
    for (size_t k = 1; k < used.size(); ++k) {
      if (uint64_t{used[k - 1].first} + spb + bm_secs_ > used[k].first) {
        return Fail(
            Format("block %d (offset 0x%x) clobbers block %d (offset "
                   "0x%x)\n",
                   static_cast<int>(used[k].second), used[k].first,
                   static_cast<int>(used[k - 1].second), used[k - 1].first));
      }
    }
  }
  return base::Status::OK();
}

// Why locator entry `e` (in use) is invalid, or nullptr.
const char* LocatorProblem(const ParentLocatorEntry& e, uint64_t eof) {
  auto code = static_cast<PlatformCode>(e.code);
  if (code != PlatformCode::kWi2r && code != PlatformCode::kWi2k &&
      code != PlatformCode::kW2ru && code != PlatformCode::kW2ku &&
      code != PlatformCode::kMac && code != PlatformCode::kMacX) {
    return "invalid platform code";
  } else if (e.data_offset % kSectorSize || e.data_offset < kHeaderSize) {
    return "invalid data offset";
  } else if (e.SpaceBytes() == 0) {
    return "invalid data space";
  } else if (e.data_length == 0 || e.data_length > e.SpaceBytes()) {
    return "invalid data length";
  } else if (!RangeWithin(e.data_offset, e.SpaceBytes(), eof)) {
    return "invalid size";
  } else if (e.reserved != 0) {
    return "invalid reserved bits";
  }
  return nullptr;
}

// Whether blktap resolves locators of this platform code as paths.
bool IsPathLocator(uint32_t code) {
  auto c = static_cast<PlatformCode>(code);
  return c == PlatformCode::kMacX || c == PlatformCode::kW2ku ||
         c == PlatformCode::kW2ru;
}

base::Status Checker::OpenAsSparse(const std::string& path,
                                   std::unique_ptr<SparseImage>* img) {
  std::unique_ptr<base::File> f2;
  RETURN_IF_ERROR(env_->Open(path, base::Env::OpenMode::kReadOnly, &f2));
  FooterInfo info;
  info.footer = footer_;
  info.file_size = size_;
  info.offset = eof_;
  return SparseImage::Open(std::move(f2), info, OpenOptions(), img);
}

base::Status Checker::CheckParent(const std::string& resolved,
                                  std::string* parent) {
  std::string canon;
  if (!env_->Realpath(resolved, &canon).ok()) canon = resolved;
  if (!header_.parent_uuid.IsNull() && !opts_.ignore_parent_uuid) {
    std::unique_ptr<Image> pimg;
    base::Status ps = OpenImage(env_, canon, OpenOptions(), &pimg);
    if (!ps.ok()) {
      return Fail(Format("invalid parent %s: %s\n", canon.c_str(),
                         "error opening parent"));
    }
    if (pimg->footer()->uuid != header_.parent_uuid) {
      return Fail(Format("invalid parent %s: %s\n", canon.c_str(),
                         "invalid parent uuid"));
    }
  }
  if (!header_.parent_uuid.IsNull()) *parent = canon;
  return base::Status::OK();
}

base::Status Checker::CheckLocators(const std::string& path,
                                    std::string* parent) {
  std::string hname;
  header_.DecodeParentName(&hname);
  std::string dir = base::DirName(path);
  uint32_t seen_codes[kParentLocatorCount] = {};
  int nseen = 0;
  bool found = false;
  // Payloads are decoded by SparseImage, the one definition of their format.
  std::unique_ptr<SparseImage> img;
  RETURN_IF_ERROR(OpenAsSparse(path, &img));
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocatorEntry& e = header_.loc[i];
    if (e.code == 0) {
      if (e.data_space || e.data_length || e.reserved || e.data_offset) {
        return Fail(
            Format("invalid parent locator %d: %s\n", i, "non-zero locator"));
      }
      continue;
    }
    if (const char* p = LocatorProblem(e, eof_)) {
      return Fail(Format("invalid parent locator %d: %s\n", i, p));
    }
    if (std::find(seen_codes, seen_codes + nseen, e.code) !=
        seen_codes + nseen) {
      return Fail(
          Format("duplicate platform code in locator %d: 0x%x\n", i, e.code));
    }
    seen_codes[nseen++] = e.code;
    if (!IsPathLocator(e.code)) continue;
    std::string rel;
    base::Status s = img->LocatorPath(i, &rel);
    if (!s.ok()) {
      return Fail(
          Format("error reading parent locator %d: %d\n", i, s.ToErrno()));
    }
    if (base::BaseName(rel) != hname) {
      return Fail(Format(
          "parent locator %d name (%s) does not match header name (%s)\n", i,
          base::BaseName(rel).c_str(), hname.c_str()));
    }
    std::string resolved = base::JoinPath(dir, rel);
    base::FileInfo fi;
    base::Status st = env_->Stat(resolved, &fi);
    if (!st.ok()) {
      // blktap resolves every locator it can decode, and a parent that is
      // not there fails the check with its errno (ENOENT: exit status 2).
      Fail(Format("error resolving %s: %d\n", rel.c_str(), st.ToErrno()));
      return st;
    }
    if (found) continue;
    found = true;
    RETURN_IF_ERROR(CheckParent(resolved, parent));
  }
  if (!found) return Fail(Format("could not find parent %s\n", hname.c_str()));
  return base::Status::OK();
}

base::Status Checker::CheckData() {
  uint64_t spb = header_.block_size >> kSectorShift;
  std::vector<uint8_t> bm(uint64_t{bm_secs_} << kSectorShift);
  std::vector<uint8_t> data(header_.block_size);
  for (const auto& [i, entry] : alloc_) {
    uint64_t off = uint64_t{entry} << kSectorShift;
    base::Status s = file_->Read(off, bm.size(), bm.data());
    if (!s.ok()) return Fail(Format("error reading bitmap 0x%x\n", entry));
    s = file_->Read(off + bm.size(), data.size(), data.data());
    if (!s.ok()) return Fail(Format("error reading data block 0x%x\n", entry));
    bool full = BitmapAllSet(bm.data(), 0, static_cast<uint32_t>(spb));
    if (has_batmap_ && BitmapTest(batmap_.data(), i) && !full) {
      return Fail(Format("batmap shows block %d full but its bitmap is not\n",
                         static_cast<int>(i)));
    }
    for (uint64_t sec = 0; sec < spb; ++sec) {
      if (BitmapTest(bm.data(), static_cast<uint32_t>(sec))) continue;
      if (!AllZero(&data[sec << kSectorShift], kSectorSize)) {
        return Fail(
            Format("sector 0x%x of block 0x%x has data where bitmap "
                   "is clear\n",
                   static_cast<unsigned>(sec), static_cast<unsigned>(i)));
      }
    }
  }
  return base::Status::OK();
}

}  // namespace

base::Status CheckVhd(base::Env* env, const std::string& path,
                      const CheckOptions& options, CheckReport* report) {
  std::string current = path;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (int depth = 0; depth < 256; ++depth) {
    base::FileInfo fi;
    if (env->Stat(current, &fi).ok() && !seen.insert({fi.dev, fi.ino}).second) {
      std::string line = "parent loop at " + current + "\n";
      report->lines.push_back(line);
      report->files.emplace_back(current, false);
      return base::Status::ChainTooLong(path + ": parent loop at " + current);
    }
    Checker checker(env, options, report);
    std::string parent;
    base::Status s = checker.CheckFile(current, &parent);
    report->files.emplace_back(current, s.ok());
    if (!s.ok()) return s;
    if (!options.check_parents || parent.empty()) return base::Status::OK();
    current = parent;
  }
  report->lines.push_back("chain deeper than 256 at " + current + "\n");
  return base::Status::ChainTooLong(path + ": chain too deep to check");
}

}  // namespace vhd
