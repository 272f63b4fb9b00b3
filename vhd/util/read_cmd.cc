// vhd-util read: header dump (-p), BAT (-b, -B), bitmaps (-m, -i),
// logical-to-physical translation (-t), batmap (-a), in vhd-util's formats.
#include <getopt.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

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
              ok ? name.c_str() : "failed to read name");
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
  std::unique_ptr<vhd::File> file;
  if (!env()->Open(name, vhd::Env::OpenMode::kReadOnly, &file).ok()) return;
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
  vhd::Status s = vhd::OpenImage(env(), name, vhd::OpenOptions(), img);
  if (!s.ok()) {
    std::printf("Failed to open %s: %d\n", name.c_str(), s.ToErrno());
    DumpRawHeaders(name, hex);
    return s.ToErrno();
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

int CmdRead(int argc, char** argv) {
  const char* name = nullptr;
  bool headers = false, hex = false, bat_bitmap = false, batmap = false;
  int64_t lsec = -1, bat = -1, bitmap = -1, tbitmap = -1;
  uint64_t count = 1;
  int c;
  while ((c = getopt(argc, argv, "n:pt:b:Bm:i:aj:c:xCh")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'p':
        headers = true;
        break;
      case 't':
        lsec = std::strtoul(optarg, nullptr, 10);
        break;
      case 'b':
        bat = std::strtoull(optarg, nullptr, 10);
        break;
      case 'B':
        bat_bitmap = true;
        break;
      case 'm':
        bitmap = std::strtoull(optarg, nullptr, 10);
        break;
      case 'i':
        tbitmap = std::strtoul(optarg, nullptr, 10);
        break;
      case 'a':
        batmap = true;
        break;
      case 'c':
        count = std::strtoul(optarg, nullptr, 10);
        break;
      case 'x':
        hex = true;
        break;
      case 'C':
        break;
      case 'h':
      default:
        name = nullptr;
        optind = argc + 1;
        break;
    }
  }
  if (name == nullptr || optind != argc) {
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
    return EINVAL;
  }
  std::unique_ptr<vhd::Image> img;
  vhd::SparseImage* sp = nullptr;
  int err = OpenForRead(name, hex, &img, &sp);
  if (err) return err;
  if (headers) {
    PrintFooter(*sp->footer(), hex);
    PrintHeader(sp->header(), hex);
    if (sp->type() == vhd::DiskType::kDifferencing) PrintLocators(sp, hex);
    if (sp->expects_batmap()) PrintBatmap(sp, hex);
  }
  const std::vector<uint32_t>& b = sp->bat();
  uint32_t spb = sp->sectors_per_block();
  uint64_t max_bat = sp->header().max_table_entries;
  if (lsec >= 0) {
    if ((lsec + count) * vhd::kSectorSize > sp->virtual_size()) {
      std::fprintf(stderr, "sector %s past end of file\n",
                   Conv(hex, lsec + count).c_str());
      return -ERANGE;
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t cur = lsec + i, blk = cur / spb, sec = cur % spb;
      std::printf("logical sector %s: ", Conv(hex, cur).c_str());
      std::printf("block number: %s, ", Conv(hex, blk).c_str());
      std::printf("sector offset: %s, ", Conv(hex, sec).c_str());
      std::printf("file offset: %s\n",
                  b[blk] == vhd::kBatUnused
                      ? "not allocated"
                      : Conv(hex, sp->DataOffset(blk, sec)).c_str());
    }
  }
  if (bat >= 0) {
    if (bat + count > max_bat) {
      std::fprintf(stderr, "block %s past end of file\n",
                   Conv(hex, bat + count).c_str());
      return -ERANGE;
    }
    for (uint64_t i = 0; i < count && bat + i < b.size(); ++i) {
      uint64_t cur = bat + i;
      std::printf("block: %s: ", Conv(hex, cur).c_str());
      std::printf(
          "offset: %s\n",
          b[cur] == vhd::kBatUnused
              ? "not allocated"
              : Conv(hex, uint64_t{b[cur]} << vhd::kSectorShift).c_str());
    }
  }
  if (bat_bitmap) {
    uint64_t total = sp->virtual_size() / sp->block_size();
    std::vector<uint8_t> out((total + 7) / 8, 0);
    for (uint64_t i = 0; i < total; ++i) {
      if (b[i] != vhd::kBatUnused) vhd::BitmapSet(out.data(), i);
    }
    std::fflush(stdout);
    if (!out.empty() && ::write(STDOUT_FILENO, out.data(), out.size()) < 0) {
      return -errno;
    }
  }
  if (bitmap >= 0) {
    if (bitmap + count > max_bat) {
      std::fprintf(stderr, "block %s past end of file\n",
                   Conv(hex, bitmap + count).c_str());
      return -ERANGE;
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t cur = bitmap + i;
      if (b[cur] == vhd::kBatUnused) {
        std::printf("block %s not allocated\n", Conv(hex, cur).c_str());
        continue;
      }
      std::vector<uint8_t> bm;
      vhd::Status s = sp->ReadBitmap(cur, &bm);
      if (!s.ok()) return s.ToErrno();
      std::fflush(stdout);
      if (::write(STDOUT_FILENO, bm.data(), bm.size()) < 0) return -errno;
    }
  }
  if (tbitmap >= 0) {
    if ((tbitmap + count) * vhd::kSectorSize > sp->virtual_size()) {
      std::printf("sector %s past end of file\n", Conv(hex, tbitmap).c_str());
      return -ERANGE;
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t cur = tbitmap + i, blk = cur / spb, sec = cur % spb;
      int bit = 0;
      if (b[blk] != vhd::kBatUnused) {
        std::vector<uint8_t> bm;
        vhd::Status s = sp->ReadBitmap(blk, &bm);
        if (!s.ok()) return s.ToErrno();
        bit = vhd::BitmapTest(bm.data(), sec) ? 1 : 0;
      }
      std::printf("block %s: ", Conv(hex, blk).c_str());
      std::printf("sec: %s: %d\n", Conv(hex, sec).c_str(), bit);
    }
  }
  if (batmap) {
    if (!sp->has_batmap()) {
      std::printf("failed to read batmap: %d\n", -EINVAL);
      return -EINVAL;
    }
    std::fflush(stdout);
    const std::vector<uint8_t>& m = sp->batmap();
    if (::write(STDOUT_FILENO, m.data(), m.size()) < 0) return -errno;
  }
  return 0;
}

}  // namespace vhdutil
