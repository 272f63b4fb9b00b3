// vhd-util read: header dump (-p), BAT (-b, -B), bitmaps (-m, -i),
// logical-to-physical translation (-t), batmap (-a), in vhd-util's formats.
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "vhd/chain.h"
#include "vhd/footer_io.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

std::string Conv(bool hex, uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), hex ? "%#" PRIx64 : "%" PRIu64, n);
  return buf;
}

void PrintFooter(const vhd::Footer& f, bool hex) {
  std::printf("VHD Footer Summary:\n-------------------\n");
  std::printf("Cookie              : %.8s\n", f.cookie.data());
  std::printf("Features            : (0x%08x) %s%s\n", f.features,
              (f.features & vhd::kFeatureTemporary) ? "<TEMP>" : "",
              (f.features & vhd::kFeatureReserved) ? "<RESV>" : "");
  std::printf("File format version : Major: %d, Minor: %d\n", f.version >> 16,
              f.version & 0xffff);
  std::printf("Data offset         : %s\n", Conv(hex, f.data_offset).c_str());
  std::printf("Timestamp           : %s\n",
              VhdTimeToString(f.timestamp).c_str());
  std::printf("Creator Application : '%.4s'\n", f.creator_app.data());
  std::printf("Creator version     : Major: %d, Minor: %d\n",
              f.creator_version >> 16, f.creator_version & 0xffff);
  std::printf("Creator OS          : %s\n",
              f.creator_os == 0x5769326B   ? "Windows"
              : f.creator_os == 0x4D616320 ? "Macintosh"
                                           : "Unknown!");
  std::printf("Original disk size  : %s MB ",
              Conv(hex, f.orig_size >> 20).c_str());
  std::printf("(%s Bytes)\n", Conv(hex, f.orig_size).c_str());
  std::printf("Current disk size   : %s MB ",
              Conv(hex, f.curr_size >> 20).c_str());
  std::printf("(%s Bytes)\n", Conv(hex, f.curr_size).c_str());
  uint64_t c = f.geometry >> 16, h = (f.geometry >> 8) & 0xff,
           s = f.geometry & 0xff;
  std::printf("Geometry            : Cyl: %s, ", Conv(hex, c).c_str());
  std::printf("Hds: %s, ", Conv(hex, h).c_str());
  std::printf("Sctrs: %s\n", Conv(hex, s).c_str());
  std::printf("                    : = %s MB ",
              Conv(hex, (c * h * s) >> 11).c_str());
  std::printf("(%s Bytes)\n", Conv(hex, c * h * s << 9).c_str());
  std::printf("Disk type           : %s\n", vhd::DiskTypeName(f.type));
  uint32_t sum = f.ComputeChecksum();
  std::printf("Checksum            : 0x%x|0x%x (%s)\n", f.checksum, sum,
              f.checksum == sum ? "Good!" : "Bad!");
  std::printf("UUID                : %s\n", f.uuid.ToString().c_str());
  std::printf("Saved state         : %s\n", f.saved_state == 0 ? "No" : "Yes");
  std::printf("Hidden              : %d\n", f.hidden);
  std::printf("\n");
}

void PrintHeader(const vhd::DynamicHeader& h, bool hex) {
  std::printf("VHD Header Summary:\n-------------------\n");
  std::printf("Cookie              : %.8s\n", h.cookie.data());
  std::printf("Data offset (unusd) : %s\n", Conv(hex, h.data_offset).c_str());
  std::printf("Table offset        : %s\n", Conv(hex, h.table_offset).c_str());
  std::printf("Header version      : 0x%08x\n", h.version);
  std::printf("Max BAT size        : %s\n",
              Conv(hex, h.max_table_entries).c_str());
  std::printf("Block size          : %s ", Conv(hex, h.block_size).c_str());
  std::printf("(%s MB)\n", Conv(hex, h.block_size >> 20).c_str());
  std::string name;
  bool ok = h.DecodeParentName(&name);
  std::printf("Parent name         : %s\n",
              ok ? VhdUtilParentName(name).c_str() : "failed to read name");
  std::printf("Parent UUID         : %s\n", h.parent_uuid.ToString().c_str());
  std::printf("Parent timestamp    : %s\n",
              VhdTimeToString(h.parent_timestamp).c_str());
  uint32_t sum = h.ComputeChecksum();
  std::printf("Checksum            : 0x%x|0x%x (%s)\n", h.checksum, sum,
              h.checksum == sum ? "Good!" : "Bad!");
  std::printf("\n");
}

const char* CodeName(uint32_t code) {
  switch (static_cast<vhd::PlatformCode>(code)) {
    case vhd::PlatformCode::kNone:
      return "PLAT_CODE_NONE";
    case vhd::PlatformCode::kWi2r:
      return "PLAT_CODE_WI2R";
    case vhd::PlatformCode::kWi2k:
      return "PLAT_CODE_WI2K";
    case vhd::PlatformCode::kW2ru:
      return "PLAT_CODE_W2RU";
    case vhd::PlatformCode::kW2ku:
      return "PLAT_CODE_W2KU";
    case vhd::PlatformCode::kMac:
      return "PLAT_CODE_MAC";
    case vhd::PlatformCode::kMacX:
      return "PLAT_CODE_MACX";
  }
  return "UNKOWN";
}

void PrintLocators(vhd::SparseImage* img, bool hex) {
  std::printf("VHD Parent Locators:\n--------------------\n");
  for (int i = 0; i < vhd::kParentLocatorCount; ++i) {
    const vhd::ParentLocatorEntry& e = img->header().loc[i];
    if (e.code == 0) continue;
    std::printf("locator:            : %d\n", i);
    std::printf("       code         : %s\n", CodeName(e.code));
    std::printf("       data_space   : %s\n", Conv(hex, e.data_space).c_str());
    std::printf("       data_length  : %s\n", Conv(hex, e.data_length).c_str());
    std::printf("       data_offset  : %s\n", Conv(hex, e.data_offset).c_str());
    std::string p;
    if (img->LocatorPath(i, &p).ok()) {
      std::printf("       decoded name : %s\n", p.c_str());
    } else {
      std::printf("failed to read parent name\n");
    }
    std::printf("\n");
  }
}

void PrintBatmap(vhd::SparseImage* img, bool hex) {
  if (!img->has_batmap()) {
    std::printf("failed to get batmap header\n");
    return;
  }
  const vhd::BatmapHeader& b = img->batmap_header();
  std::printf("VHD Batmap Summary:\n-------------------\n");
  std::printf("Batmap offset       : %s\n", Conv(hex, b.batmap_offset).c_str());
  std::printf("Batmap size (secs)  : %s\n", Conv(hex, b.batmap_size).c_str());
  std::printf("Batmap version      : 0x%08x\n", b.batmap_version);
  if (b.keyhash[0] == 1) {
    std::printf("Batmap keyhash nonce: ");
    for (int i = 0; i < 32; ++i) std::printf("%02x", b.keyhash[1 + i]);
    std::printf("\nBatmap keyhash hash : ");
    for (int i = 0; i < 32; ++i) std::printf("%02x", b.keyhash[33 + i]);
    std::printf("\n");
  }
  uint32_t sum = vhd::BatmapHeader::MapChecksum(
      img->batmap().data(), img->batmap_checksum_bytes(), b.batmap_version);
  std::printf("Checksum            : 0x%x|0x%x (%s)\n", b.checksum, sum,
              b.checksum == sum ? "Good!" : "Bad!");
  std::printf("\n");
}

// vhd-util's "appears invalid; dumping headers" path: whatever can be read.
void DumpRawHeaders(const std::string& name, bool hex) {
  std::printf("\n%s appears invalid; dumping headers\n\n", name.c_str());
  std::unique_ptr<base::File> file;
  if (!env()->Open(name, base::Env::OpenMode::kReadOnly, &file).ok()) return;
  vhd::FooterInfo info;
  vhd::Footer f;
  if (vhd::ReadFooter(file.get(), &info).ok()) {
    f = info.footer;
  } else {
    uint64_t size = 0;
    uint8_t buf[vhd::kFooterSize] = {};
    if (file->Size(&size).ok() && size >= vhd::kFooterSize) {
      file->Read(size - vhd::kFooterSize, vhd::kFooterSize, buf);
    }
    f = vhd::Footer::Decode(buf);
  }
  PrintFooter(f, hex);
  uint8_t hb[vhd::kHeaderSize] = {};
  file->Read(f.data_offset == vhd::kDataOffsetNone ? 512 : f.data_offset,
             vhd::kHeaderSize, hb);
  PrintHeader(vhd::DynamicHeader::Decode(hb), hex);
}

}  // namespace

std::string VhdUtilParentName(std::string name) {
  std::replace(name.begin(), name.end(), '\\', '/');
  if (name.size() >= 2 && (name[0] == 'C' || name[0] == 'c') && name[1] == ':')
    name.erase(0, 2);
  return name;
}

std::string VhdTimeToString(uint32_t vhd_time) {
  time_t t = static_cast<time_t>(vhd::UnixTimeFromVhd(vhd_time));
  char buf[32];
  if (ctime_r(&t, buf) == nullptr) return "";
  std::string s = buf;
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

namespace {

// Opens `name` as vhd-util read does; prints its failure lines.
int OpenForRead(const std::string& name, bool hex,
                std::unique_ptr<vhd::Image>* img, vhd::SparseImage** sparse) {
  base::Status s = vhd::OpenImage(env(), name, vhd::OpenOptions(), img);
  if (!s.ok()) {
    int code = VhdUtilOpenErrno(name, s);
    std::printf("Failed to open %s: %d\n", name.c_str(), code);
    DumpRawHeaders(name, hex);
    return code;
  }
  *sparse = dynamic_cast<vhd::SparseImage*>(img->get());
  if (*sparse == nullptr) {
    std::printf("Failed to get bat for %s: %d\n", name.c_str(), -EINVAL);
    return -EINVAL;
  }
  s = (*sparse)->LoadBat();
  if (!s.ok()) {
    std::printf("Failed to get bat for %s: %d\n", name.c_str(), s.ToErrno());
    return s.ToErrno();
  }
  return 0;
}

}  // namespace

int PrintHeaders(const std::string& name, bool hex) {
  std::unique_ptr<vhd::Image> img;
  vhd::SparseImage* sparse = nullptr;
  int err = OpenForRead(name, hex, &img, &sparse);
  if (err) return err;
  PrintFooter(*sparse->footer(), hex);
  PrintHeader(sparse->header(), hex);
  if (sparse->type() == vhd::DiskType::kDifferencing)
    PrintLocators(sparse, hex);
  if (sparse->expects_batmap()) PrintBatmap(sparse, hex);
  return 0;
}

namespace {

// Options of one `read` call; -1 (as vhd-util's (uint64_t)-1): not asked.
struct ReadArgs {
  const char* name = nullptr;
  bool headers = false;
  bool hex = false, bat_str = false, batmap = false;
  uint64_t count = 1;
  uint64_t lsec = kUnset, bat = kUnset, bitmap = kUnset, tbitmap = kUnset,
           ebitmap = kUnset, tbatmap = kUnset, data = kUnset, read = kUnset,
           bread = kUnset;
  static constexpr uint64_t kUnset = ~uint64_t{0};
};

// first + count > limit, without overflow.
bool PastEnd(uint64_t first, uint64_t count, uint64_t limit) {
  return first > limit || count > limit - first;
}

bool SectorsPastEnd(uint64_t sector, uint64_t count, uint64_t bytes) {
  return PastEnd(sector, count, bytes >> vhd::kSectorShift);
}

// Raw output bypasses stdio, unflushed, as vhd-util's write(2) calls do: to
// a pipe or file the printf lines come out after it, the same bytes.
int WriteOut(const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, b, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    b += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

// vhd-util's check_block_range: block + count may reach max_bat_size.
int CheckBlockRange(vhd::SparseImage* sp, uint64_t block, uint64_t count,
                    bool hex) {
  uint64_t max_bat = sp->header().max_table_entries;
  if (PastEnd(block, count, max_bat)) {
    std::fprintf(stderr, "block %s past end of file\n",
                 Conv(hex, block + count).c_str());
    return -ERANGE;
  }
  return 0;
}

class BatView {
 public:
  explicit BatView(vhd::SparseImage* sp) : b_(sp->bat()) {}
  uint32_t operator[](uint64_t i) const {
    return i < b_.size() ? b_[i] : vhd::kBatUnused;
  }

 private:
  const std::vector<uint32_t>& b_;
};

// Sector bits of logical sectors [first, first + count), read a block at a
// time; calls `fn(sector, block, sector_in_block, bit)`.
template <typename Fn>
int ForEachSectorBit(vhd::SparseImage* sp, uint64_t first, uint64_t count,
                     Fn fn) {
  BatView b(sp);
  uint32_t spb = sp->sectors_per_block();
  uint64_t cached = ~uint64_t{0};
  std::vector<uint8_t> bm;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t cur = first + i, blk = cur / spb;
    uint32_t sec = static_cast<uint32_t>(cur % spb);
    if (blk != cached) {
      cached = blk;
      bm.clear();
      if (b[blk] != vhd::kBatUnused) {
        base::Status s = sp->ReadBitmap(blk, &bm);
        if (!s.ok()) return s.ToErrno();
      }
    }
    bool bit = !bm.empty() && (sec >> 3) < bm.size() &&
               vhd::BitmapTest(bm.data(), sec);
    fn(cur, blk, sec, bit);
  }
  return 0;
}

int PrintLogicalToPhysical(vhd::SparseImage* sp, const ReadArgs& a) {
  if (SectorsPastEnd(a.lsec, a.count, sp->virtual_size())) {
    std::fprintf(stderr, "sector %s past end of file\n",
                 Conv(a.hex, a.lsec + a.count).c_str());
    return -ERANGE;
  }
  BatView b(sp);
  uint32_t spb = sp->sectors_per_block();
  for (uint64_t i = 0; i < a.count; ++i) {
    uint64_t cur = a.lsec + i, blk = cur / spb, sec = cur % spb;
    std::printf("logical sector %s: ", Conv(a.hex, cur).c_str());
    std::printf("block number: %s, ", Conv(a.hex, blk).c_str());
    std::printf("sector offset: %s, ", Conv(a.hex, sec).c_str());
    std::printf("file offset: %s\n",
                b[blk] == vhd::kBatUnused
                    ? "not allocated"
                    : Conv(a.hex, sp->DataOffset(blk, sec)).c_str());
  }
  return 0;
}

int PrintBat(vhd::SparseImage* sp, const ReadArgs& a) {
  if (int err = CheckBlockRange(sp, a.bat, a.count, a.hex)) return err;
  BatView b(sp);
  for (uint64_t i = 0; i < a.count && i < sp->bat().size(); ++i) {
    uint64_t cur = a.bat + i;
    std::printf("block: %s: ", Conv(a.hex, cur).c_str());
    std::printf(
        "offset: %s\n",
        b[cur] == vhd::kBatUnused
            ? "not allocated"
            : Conv(a.hex, uint64_t{b[cur]} << vhd::kSectorShift).c_str());
  }
  return 0;
}

int PrintBatString(vhd::SparseImage* sp) {
  BatView b(sp);
  uint64_t total = sp->virtual_size() / sp->block_size();
  std::vector<uint8_t> out((total + 7) / 8, 0);
  for (uint64_t i = 0; i < total; ++i) {
    if (b[i] != vhd::kBatUnused) vhd::BitmapSet(out.data(), i);
  }
  return WriteOut(out.data(), out.size());
}

int PrintBitmaps(vhd::SparseImage* sp, const ReadArgs& a) {
  if (int err = CheckBlockRange(sp, a.bitmap, a.count, a.hex)) return err;
  BatView b(sp);
  for (uint64_t i = 0; i < a.count; ++i) {
    uint64_t cur = a.bitmap + i;
    if (b[cur] == vhd::kBatUnused) {
      std::printf("block %s not allocated\n", Conv(a.hex, cur).c_str());
      continue;
    }
    std::vector<uint8_t> bm;
    base::Status s = sp->ReadBitmap(cur, &bm);
    if (!s.ok()) return s.ToErrno();
    if (int err = WriteOut(bm.data(), bm.size())) return err;
  }
  return 0;
}

int TestBitmap(vhd::SparseImage* sp, const ReadArgs& a) {
  if (SectorsPastEnd(a.tbitmap, a.count, sp->virtual_size())) {
    std::printf("sector %s past end of file\n", Conv(a.hex, a.tbitmap).c_str());
    return -ERANGE;
  }
  return ForEachSectorBit(sp, a.tbitmap, a.count,
                          [&](uint64_t, uint64_t blk, uint32_t sec, bool bit) {
                            std::printf("block %s: ", Conv(a.hex, blk).c_str());
                            std::printf("sec: %s: %d\n",
                                        Conv(a.hex, sec).c_str(), bit ? 1 : 0);
                          });
}

// -e: runs of allocated sectors, "START LENGTH" per line.
int PrintExtents(vhd::SparseImage* sp, const ReadArgs& a) {
  if (SectorsPastEnd(a.ebitmap, a.count, sp->virtual_size())) {
    std::printf("sector %s past end of file\n", Conv(a.hex, a.ebitmap).c_str());
    return -ERANGE;
  }
  uint64_t start = 0, run = 0;
  auto flush = [&]() {
    if (run == 0) return;
    std::printf("%s ", Conv(a.hex, start).c_str());
    std::printf("%s\n", Conv(a.hex, run).c_str());
    run = 0;
  };
  int err = ForEachSectorBit(sp, a.ebitmap, a.count,
                             [&](uint64_t cur, uint64_t, uint32_t, bool bit) {
                               if (!bit) return flush();
                               if (run++ == 0) start = cur;
                             });
  if (err) return err;
  flush();
  return 0;
}

int PrintBatmap(vhd::SparseImage* sp) {
  if (!sp->has_batmap()) {
    std::printf("failed to read batmap: %d\n", -EINVAL);
    return -EINVAL;
  }
  const std::vector<uint8_t>& m = sp->batmap();
  WriteOut(m.data(), m.size());  // vhd-util ignores a failed write here
  return 0;
}

// -j: one stderr line per block, as vhd-util.
int TestBatmap(vhd::SparseImage* sp, const ReadArgs& a) {
  if (int err = CheckBlockRange(sp, a.tbatmap, a.count, a.hex)) return err;
  if (!sp->has_batmap()) {
    std::fprintf(stderr, "failed to get batmap\n");
    return -EINVAL;
  }
  const std::vector<uint8_t>& m = sp->batmap();
  for (uint64_t i = 0; i < a.count; ++i) {
    uint64_t cur = a.tbatmap + i;
    bool bit = (cur >> 3) < m.size() && vhd::BitmapTest(m.data(), cur);
    std::fprintf(stderr, "batmap for block %s: %d\n", Conv(a.hex, cur).c_str(),
                 bit ? 1 : 0);
  }
  return 0;
}

// -d: the stored data of whole blocks (no bitmap), as in the file.
int PrintData(vhd::SparseImage* sp, const ReadArgs& a) {
  if (int err = CheckBlockRange(sp, a.data, a.count, a.hex)) return err;
  BatView b(sp);
  std::vector<uint8_t> buf;
  for (uint64_t i = 0; i < a.count; ++i) {
    uint64_t cur = a.data + i;
    if (b[cur] == vhd::kBatUnused) {
      std::printf("block %s not allocated\n", Conv(a.hex, cur).c_str());
      continue;
    }
    buf.resize(sp->block_size());
    base::Status s =
        sp->file()->Read(sp->DataOffset(cur, 0), buf.size(), buf.data());
    if (!s.ok()) return s.ToErrno();
    WriteOut(buf.data(), buf.size());  // vhd-util ignores a failed write
  }
  return 0;
}

// -r / -R: the disk's contents through its chain, a block at a time.
int ReadThroughChain(const std::string& name, uint64_t offset, uint64_t len) {
  std::unique_ptr<vhd::Chain> chain;
  base::Status s = vhd::Chain::Open(name, vhd::ChainOptions(), &chain);
  if (!s.ok()) return s.ToErrno();
  std::vector<uint8_t> buf(std::min<uint64_t>(len, vhd::kDefaultBlockSize));
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, buf.size()));
    s = chain->Read(offset, n, buf.data());
    if (!s.ok()) return s.ToErrno();
    if (int err = WriteOut(buf.data(), n)) return err;
    offset += n;
    len -= n;
  }
  return 0;
}

int Usage() {
  std::printf(
      "options:\n-h          help\n-n          name\n-p          print VHD "
      "headers\n-t sec      translate logical sector to VHD location\n-b "
      "blk      print bat entry\n-B          print entire bat as a "
      "bitmap\n-m blk      print bitmap\n-i sec      test bitmap for "
      "logical sector\n-e sec      output extent list of allocated logical "
      "sectors\n-a          print batmap\n-j blk      test batmap for "
      "block\n-d blk      print data\n-c num      num units\n-r sec      "
      "read num sectors at sec\n-R byte     read num bytes at byte\n-x       "
      "   print in hex\n");
  return EINVAL;  // positive, as vhd-util's read: exit status 22
}

// Parses the options; false when usage is to be printed.
bool ParseReadArgs(int argc, char** argv, ReadArgs* a) {
  int c;
  while ((c = getopt(argc, argv, "n:pt:b:Bm:i:e:aj:d:c:r:R:xCh")) != -1) {
    switch (c) {
      case 'n':
        a->name = optarg;
        break;
      case 'p':
        a->headers = true;
        break;
      case 'C':  // vhd-util: open cached; nothing to do here
        break;
      case 'B':
        a->bat_str = true;
        break;
      case 't':
        a->lsec = std::strtoul(optarg, nullptr, 10);
        break;
      case 'b':
        a->bat = std::strtoull(optarg, nullptr, 10);
        break;
      case 'm':
        a->bitmap = std::strtoull(optarg, nullptr, 10);
        break;
      case 'i':
        a->tbitmap = std::strtoul(optarg, nullptr, 10);
        break;
      case 'e':
        a->ebitmap = std::strtoul(optarg, nullptr, 10);
        break;
      case 'a':
        a->batmap = true;
        break;
      case 'j':
        a->tbatmap = std::strtoull(optarg, nullptr, 10);
        break;
      case 'd':
        a->data = std::strtoull(optarg, nullptr, 10);
        break;
      case 'r':
        a->read = std::strtoull(optarg, nullptr, 10);
        break;
      case 'R':
        a->bread = std::strtoull(optarg, nullptr, 10);
        break;
      case 'c':
        a->count = std::strtoul(optarg, nullptr, 10);
        break;
      case 'x':
        a->hex = true;
        break;
      case 'h':
      default:
        return false;
    }
  }
  return a->name != nullptr && optind == argc;
}

// The requests, in vhd-util's order; the first failure ends them.
int RunReads(vhd::SparseImage* sp, const ReadArgs& a) {
  if (a.headers) {
    PrintFooter(*sp->footer(), a.hex);
    PrintHeader(sp->header(), a.hex);
    if (sp->type() == vhd::DiskType::kDifferencing) PrintLocators(sp, a.hex);
    if (sp->expects_batmap()) PrintBatmap(sp, a.hex);
  }
  constexpr uint64_t kUnset = ReadArgs::kUnset;
  int err = 0;
  if (a.lsec != kUnset && (err = PrintLogicalToPhysical(sp, a))) return err;
  if (a.bat != kUnset && (err = PrintBat(sp, a))) return err;
  if (a.bat_str && (err = PrintBatString(sp))) return err;
  if (a.bitmap != kUnset && (err = PrintBitmaps(sp, a))) return err;
  if (a.tbitmap != kUnset && (err = TestBitmap(sp, a))) return err;
  if (a.ebitmap != kUnset && (err = PrintExtents(sp, a))) return err;
  if (a.batmap && (err = PrintBatmap(sp))) return err;
  if (a.tbatmap != kUnset && (err = TestBatmap(sp, a))) return err;
  if (a.data != kUnset && (err = PrintData(sp, a))) return err;
  if (a.read != kUnset) {
    // vhd-util fails a range past the end silently.
    if (SectorsPastEnd(a.read, a.count, sp->virtual_size())) return -ERANGE;
    err = ReadThroughChain(a.name, a.read << vhd::kSectorShift,
                           a.count << vhd::kSectorShift);
    if (err) return err;
  }
  if (a.bread != kUnset) {
    if (PastEnd(a.bread, a.count, sp->virtual_size())) return -ERANGE;
    err = ReadThroughChain(a.name, a.bread, a.count);
    if (err) return err;
  }
  return 0;
}

}  // namespace

int CmdRead(int argc, char** argv) {
  ReadArgs a;
  if (!ParseReadArgs(argc, argv, &a)) return Usage();
  std::unique_ptr<vhd::Image> img;
  vhd::SparseImage* sp = nullptr;
  int err = OpenForRead(a.name, a.hex, &img, &sp);
  if (err) return err;
  return RunReads(sp, a);
}

}  // namespace vhdutil
