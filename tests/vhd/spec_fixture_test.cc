// Spec fixtures: VHD files written by the independent generator
// (tests/util/spec_vhd.h, straight from the Microsoft spec) are opened with
// vhd::Chain and must read back exactly the raw image the generator says a
// correct reader returns: whole disk, random unaligned ranges, ExportRaw.
//
// Covered: dynamic disks with block sizes 512 B .. 32 MiB (a bitmap larger
// than a page), the header away from offset 512, blocks with and
// without 4 KiB data alignment, shuffled block order, BAT after the blocks,
// 0xFF BAT padding, junk under clear bitmap bits and in bitmap padding,
// creators "vpc ", "win ", "qemu", "tap" with and without a batmap; 511-byte
// footers; a bad EOF footer with a good copy at 0; fixed disks; differencing
// chains of depth 2..4 with mixed block sizes and sizes, each locator kind
// (MacX / W2ku / W2ru, data_space in bytes or in sectors), parent found by
// header name only, parent in another directory, a raw parent. Writes
// through a writable chain at random unaligned offsets are checked against a
// model, before and after re-opening. All randomness is seeded.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/env.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/inspect.h"
#include "vhd/sparse_image.h"

namespace {

using specvhd::Block;
using specvhd::Disk;
using specvhd::FooterMode;
using specvhd::Locator;
using specvhd::Type;

constexpr uint32_t KiB = 1024;
constexpr uint32_t MiB = 1024 * 1024;

// Offset of the first byte where a and b differ (or of the shorter end), -1
// when equal: keeps failure output short for multi-MiB buffers.
int64_t FirstDiff(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<int64_t>(n);
}

std::string ReadAll(vhd::Chain* chain, base::Status* st) {
  std::string out(chain->virtual_size(), '\0');
  *st = chain->Read(0, out.size(), out.data());
  return out;
}

std::string Export(vhd::Chain* chain, const std::string& path,
                   base::Status* st) {
  std::unique_ptr<base::File> f;
  *st = base::Env::Default()->Open(path, base::Env::OpenMode::kCreateTruncate,
                                   &f);
  if (!st->ok()) return "";
  *st = chain->ExportRaw(f.get());
  f.reset();
  return testutil::ReadFile(path);
}

// Opens `leaf` read-only and checks every way of reading it against
// `expected`: the whole disk, `ranges` random unaligned ranges, ExportRaw.
void ExpectChainReads(const std::string& leaf, const std::string& expected,
                      size_t depth, uint64_t seed, int ranges = 60) {
  SCOPED_TRACE("leaf " + leaf);
  std::unique_ptr<vhd::Chain> chain;
  base::Status s = vhd::Chain::Open(leaf, vhd::ChainOptions(), &chain);
  ASSERT_OK(s);
  EXPECT_EQ(chain->depth(), depth);
  ASSERT_EQ(chain->virtual_size(), expected.size());

  std::string all = ReadAll(chain.get(), &s);
  ASSERT_OK(s);
  EXPECT_EQ(FirstDiff(all, expected), -1) << "whole-disk read differs";

  std::mt19937_64 rng(seed);
  const uint64_t size = expected.size();
  for (int i = 0; i < ranges; ++i) {
    uint64_t off = rng() % size;
    uint64_t max = size - off;
    uint64_t len;
    switch (rng() % 4) {
      case 0:
        len = 1 + rng() % 7;
        break;
      case 1:
        len = 1 + rng() % 1500;
        break;
      case 2:
        len = 1 + rng() % (64 * KiB);
        break;
      default:
        len = 1 + rng() % (5 * MiB);
        break;
    }
    len = std::min(len, max);
    std::string buf(len, '\x77');
    s = chain->Read(off, len, buf.data());
    ASSERT_OK(s) << s.ToString() << " at " << off << "+" << len;
    ASSERT_EQ(FirstDiff(buf, expected.substr(off, len)), -1)
        << "range " << off << "+" << len;
  }
  // Edge ranges: the last byte, and the last sector straddle.
  {
    char c = 0;
    s = chain->Read(size - 1, 1, &c);
    ASSERT_OK(s);
    EXPECT_EQ(c, expected[size - 1]);
  }
  // One past the end is refused.
  {
    char c[2];
    EXPECT_EQ(chain->Read(size - 1, 2, c).code(), base::Code::kInvalidArgument);
  }

  testutil::TempDir tmp;
  std::string exported = Export(chain.get(), tmp.Join("export.raw"), &s);
  ASSERT_OK(s);
  EXPECT_EQ(FirstDiff(exported, expected), -1) << "ExportRaw differs";
}

struct Written {
  std::string path;
  std::string raw;
};

Written WriteImage(const testutil::TempDir& dir, const std::string& name,
                   const specvhd::Image& img) {
  std::string p = dir.Join(name);
  testutil::WriteFile(p, img.file);
  return {p, img.raw};
}

Disk BaseDisk(Type type, uint64_t size, uint32_t block, uint64_t seed,
              bool junk) {
  Disk d;
  d.type = type;
  d.virtual_size = size;
  d.block_size = block;
  d.seed = seed;
  std::mt19937_64 rng(seed);
  d.blocks =
      specvhd::RandomBlocks(specvhd::BlockCount(d), block / 512, &rng, junk);
  return d;
}

// ---- dynamic disks ----------------------------------------------------------

struct DynCase {
  const char* name;
  uint32_t block_size;
  uint64_t size;
  std::array<char, 4> creator;
  uint32_t creator_version;
  bool align;
  bool shuffle;
  bool junk;
  bool bat_after;
  bool pad_ff;
  bool junk_pad;
  bool batmap;
  FooterMode footer;
  uint32_t header_gap = 0;  // sectors between the footer copy and header
};

const DynCase kDynCases[] = {
    {"b4k_vpc_unaligned_junk",
     4 * KiB,
     8 * MiB,
     {'v', 'p', 'c', ' '},
     0x00050003,
     false,
     true,
     true,
     false,
     false,
     true,
     false,
     FooterMode::kNormal},
    {"b512k_win_lastpartial",
     512 * KiB,
     20 * MiB + 1536,
     {'w', 'i', 'n', ' '},
     0x00060001,
     true,
     false,
     true,
     false,
     true,
     false,
     false,
     FooterMode::kNormal},
    {"b2m_qemu_unaligned",
     2 * MiB,
     24 * MiB,
     {'q', 'e', 'm', 'u'},
     0x00050003,
     false,
     false,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kNormal},
    {"b8m_vpc_shuffled_lastpartial",
     8 * MiB,
     36 * MiB,
     {'v', 'p', 'c', ' '},
     0x00050003,
     true,
     true,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kNormal},
    {"b2m_tap_batmap",
     2 * MiB,
     16 * MiB,
     {'t', 'a', 'p', '\0'},
     0x00010003,
     true,
     false,
     true,
     false,
     false,
     false,
     true,
     FooterMode::kNormal},
    {"b64k_tap11_bat_after_blocks",
     64 * KiB,
     12 * MiB,
     {'t', 'a', 'p', '\0'},
     0x00010001,
     false,
     true,
     true,
     true,
     true,
     true,
     false,
     FooterMode::kNormal},
    {"b1m_short_footer",
     1 * MiB,
     10 * MiB,
     {'v', 'p', 'c', ' '},
     0x00050003,
     true,
     false,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kShort511},
    {"b512_min_block",
     512,
     1 * MiB,
     {'v', 's', '2', '0'},
     0x00010000,
     false,
     true,
     true,
     false,
     false,
     true,
     false,
     FooterMode::kNormal},
    {"b16m_big_bitmap",
     16 * MiB,
     32 * MiB,
     {'w', 'i', 'n', ' '},
     0x00060001,
     false,
     false,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kNormal},
    {"b32m_bitmap_over_a_page",
     32 * MiB,
     64 * MiB,
     {'v', 'p', 'c', ' '},
     0x00050003,
     true,
     false,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kNormal},
    {"b256k_header_not_at_512",
     256 * KiB,
     9 * MiB,
     {'v', 'p', 'c', ' '},
     0x00050003,
     false,
     true,
     true,
     false,
     false,
     false,
     false,
     FooterMode::kNormal,
     7},
    {"b128k_tap_no_batmap_short",
     128 * KiB,
     6 * MiB + 512,
     {'t', 'a', 'p', '\0'},
     0x00010003,
     true,
     true,
     false,
     false,
     false,
     false,
     false,
     FooterMode::kShort511},
};

class SpecDynamic : public ::testing::TestWithParam<DynCase> {};

Disk DiskFor(const DynCase& c, uint64_t seed) {
  Disk d = BaseDisk(Type::kDynamic, c.size, c.block_size, seed, c.junk);
  d.creator = c.creator;
  d.creator_version = c.creator_version;
  d.align_data_4k = c.align;
  d.shuffle_blocks = c.shuffle;
  d.bat_after_blocks = c.bat_after;
  d.bat_pad_ff = c.pad_ff;
  d.junk_bitmap_padding = c.junk_pad;
  d.batmap = c.batmap;
  d.footer = c.footer;
  d.header_gap_sectors = c.header_gap;
  return d;
}

TEST_P(SpecDynamic, ReadsExactly) {
  const DynCase& c = GetParam();
  testutil::TempDir dir;
  for (uint64_t seed : {11u, 12u}) {
    specvhd::Image img = specvhd::Build(DiskFor(c, seed));
    Written w = WriteImage(dir, "d" + std::to_string(seed) + ".vhd", img);
    ExpectChainReads(w.path, w.raw, 1, seed * 31);
  }
}

// Applies random writes (small unaligned, multi-block, all-zero) to both the
// chain and `model`; checks reads after each batch, then after re-opening.
void RandomWrites(const std::string& leaf, std::string* model, uint64_t seed,
                  int count, uint32_t block_size) {
  std::mt19937_64 rng(seed);
  {
    vhd::ChainOptions o;
    o.writable = true;
    o.durable = false;
    std::unique_ptr<vhd::Chain> chain;
    base::Status s = vhd::Chain::Open(leaf, o, &chain);
    ASSERT_OK(s);
    const uint64_t size = model->size();
    for (int i = 0; i < count; ++i) {
      uint64_t off = rng() % size;
      uint64_t len;
      switch (rng() % 5) {
        case 0:
          len = 1 + rng() % 9;
          break;
        case 1:
          len = 1 + rng() % 2000;
          break;
        case 2:
          len = 1 + rng() % (3 * uint64_t{block_size});
          break;
        case 3:
          len = 1 + rng() % (3 * MiB);
          break;
        default:
          len = 1 + rng() % (200 * KiB);
          break;
      }
      len = std::min(len, size - off);
      std::string data = rng() % 4 == 0 ? std::string(len, '\0')
                                        : testutil::RandomBytes(len, rng());
      s = chain->Write(off, len, data.data());
      ASSERT_OK(s) << s.ToString() << " writing " << off << "+" << len;
      model->replace(off, len, data);
      // Read back a window around the write (unaligned edges included).
      uint64_t a = off > 700 ? off - 700 : 0;
      uint64_t b = std::min(size, off + len + 700);
      std::string back(b - a, '\0');
      s = chain->Read(a, back.size(), back.data());
      ASSERT_OK(s);
      ASSERT_EQ(FirstDiff(back, model->substr(a, b - a)), -1)
          << "after write " << i << " at " << off << "+" << len;
    }
    std::string all = ReadAll(chain.get(), &s);
    ASSERT_OK(s);
    ASSERT_EQ(FirstDiff(all, *model), -1) << "whole disk after writes";
    s = chain->Flush();
    ASSERT_OK(s);
  }
}

TEST_P(SpecDynamic, WritesMatchModel) {
  const DynCase& c = GetParam();
  testutil::TempDir dir;
  specvhd::Image img = specvhd::Build(DiskFor(c, 21));
  Written w = WriteImage(dir, "w.vhd", img);
  if (c.footer != FooterMode::kNormal) {
    // A damaged or short EOF footer must be repaired before writing.
    vhd::ChainOptions o;
    o.writable = true;
    std::unique_ptr<vhd::Chain> chain;
    EXPECT_EQ(vhd::Chain::Open(w.path, o, &chain).code(),
              base::Code::kCorruption);
    return;
  }
  vhd::CheckReport before;
  bool valid_before =
      vhd::CheckVhd(base::Env::Default(), w.path, vhd::CheckOptions(), &before)
          .ok();
  std::string model = w.raw;
  RandomWrites(w.path, &model, 77, 40, c.block_size);
  if (HasFatalFailure()) return;
  ExpectChainReads(w.path, model, 1, 78, 30);
  if (valid_before) {
    vhd::CheckReport after;
    base::Status s = vhd::CheckVhd(base::Env::Default(), w.path,
                                   vhd::CheckOptions(), &after);
    EXPECT_OK(s);
  }
}

INSTANTIATE_TEST_SUITE_P(Spec, SpecDynamic, ::testing::ValuesIn(kDynCases),
                         [](const auto& info) {
                           return std::string(info.param.name);
                         });

// ExportRaw over an existing, longer file full of junk: holes must read as
// zeros and the file must end up exactly the disk's size.
TEST(SpecExport, OverExistingFile) {
  testutil::TempDir dir;
  Disk d = BaseDisk(Type::kDynamic, 12 * MiB, 512 * KiB, 90, true);
  specvhd::Image img = specvhd::Build(d);
  Written w = WriteImage(dir, "e.vhd", img);
  std::unique_ptr<vhd::Chain> chain;
  base::Status s = vhd::Chain::Open(w.path, vhd::ChainOptions(), &chain);
  ASSERT_OK(s);
  std::string junk_path = dir.Join("junk.raw");
  testutil::WriteFile(junk_path, std::string(w.raw.size() + 4096, '\xee'));
  std::unique_ptr<base::File> out;
  s = base::Env::Default()->Open(junk_path, base::Env::OpenMode::kReadWrite,
                                 &out);
  ASSERT_OK(s);
  s = chain->ExportRaw(out.get());
  ASSERT_OK(s);
  out.reset();
  EXPECT_EQ(FirstDiff(testutil::ReadFile(junk_path), w.raw), -1);
}

// ---- footers ----------------------------------------------------------------

// The EOF footer is damaged but the copy at 0 is good: the disk opens from
// the copy (FooterInfo::from_backup) and reads right, allocated blocks too.
TEST(SpecFooter, BadEofFooterUsesCopyAtZero) {
  testutil::TempDir dir;
  for (uint32_t block : {2 * MiB, 64 * KiB}) {
    Disk d = BaseDisk(Type::kDynamic, 16 * MiB, block, 5 + block, true);
    d.footer = FooterMode::kCorruptEof;
    specvhd::Image img = specvhd::Build(d);
    Written w = WriteImage(dir, "bad" + std::to_string(block) + ".vhd", img);
    SCOPED_TRACE(w.path);

    std::unique_ptr<vhd::Image> image;
    base::Status s = vhd::OpenImage(base::Env::Default(), w.path,
                                    vhd::OpenOptions(), &image);
    ASSERT_OK(s);
    auto* sparse = dynamic_cast<vhd::SparseImage*>(image.get());
    ASSERT_NE(sparse, nullptr);
    EXPECT_TRUE(sparse->footer_info().from_backup);
    EXPECT_EQ(sparse->footer_info().offset, 0u);
    image.reset();
    // Blocks must be bounded by the file size here, not by the offset (0) of
    // the footer in use.
    ExpectChainReads(w.path, w.raw, 1, 6);
  }
}

// The file ends right after the last block (EOF footer cut off): the copy at
// 0 is used and every block is still readable.
TEST(SpecFooter, MissingEofFooterUsesCopyAtZero) {
  testutil::TempDir dir;
  Disk d = BaseDisk(Type::kDynamic, 8 * MiB, 512 * KiB, 9, true);
  d.footer = FooterMode::kMissingEof;
  specvhd::Image img = specvhd::Build(d);
  Written w = WriteImage(dir, "cut.vhd", img);
  ExpectChainReads(w.path, w.raw, 1, 10);
}

TEST(SpecFooter, ShortFootersEverywhere) {
  testutil::TempDir dir;
  // Fixed disk with a 511-byte footer.
  Disk fx = BaseDisk(Type::kFixed, 3 * MiB, 64 * KiB, 31, false);
  fx.footer = FooterMode::kShort511;
  specvhd::Image fimg = specvhd::Build(fx);
  ASSERT_EQ(fimg.file.size() % 512, 511u);
  Written f = WriteImage(dir, "fixed511.vhd", fimg);
  ExpectChainReads(f.path, f.raw, 1, 32);

  // A dynamic parent and a differencing child, both with 511-byte footers.
  Disk p = BaseDisk(Type::kDynamic, 8 * MiB, 256 * KiB, 33, true);
  p.footer = FooterMode::kShort511;
  specvhd::Image pimg = specvhd::Build(p);
  Written pw = WriteImage(dir, "p.vhd", pimg);
  Disk c = BaseDisk(Type::kDifferencing, 8 * MiB, 1 * MiB, 34, true);
  c.footer = FooterMode::kShort511;
  c.parent_uuid = pimg.uuid;
  c.parent_name = "p.vhd";
  c.locators = {Locator{specvhd::kMacX, "file://./p.vhd", false, "", 0}};
  specvhd::Image cimg = specvhd::Build(c, pimg.raw);
  Written cw = WriteImage(dir, "c.vhd", cimg);
  ExpectChainReads(cw.path, cw.raw, 2, 35);
}

// Setting the hidden flag of a fixed disk with a 511-byte footer keeps the
// disk readable and its data intact.
TEST(SpecFooter, SetHiddenOnShortFooterFixedDisk) {
  testutil::TempDir dir;
  Disk fx = BaseDisk(Type::kFixed, 2 * MiB, 64 * KiB, 36, false);
  fx.blocks.back().kind = Block::Kind::kFull;  // data up to the last byte
  fx.footer = FooterMode::kShort511;
  specvhd::Image img = specvhd::Build(fx);
  Written w = WriteImage(dir, "f511.vhd", img);
  base::Status s = vhd::SetHidden(base::Env::Default(), w.path, true);
  ASSERT_OK(s);
  vhd::VhdInfo info;
  s = vhd::InspectVhd(base::Env::Default(), w.path, false, &info);
  // BUG: SetHidden writes a 512-byte footer at size - 512 for fixed disks,
  // i.e. over the last data byte when the footer is 511 bytes long: the file
  // then has a footer at EOF-512 whose disk no longer fits before it.
  ASSERT_OK(s);
  EXPECT_TRUE(info.hidden);
  ExpectChainReads(w.path, w.raw, 1, 37, 10);
}

// The EOF footer is the one in use; a stale copy at 0 (another size, another
// uuid, valid checksum) does not change what is read, and check reports the
// mismatch.
TEST(SpecFooter, EofFooterWinsOverStaleCopy) {
  testutil::TempDir dir;
  Disk d = BaseDisk(Type::kDynamic, 8 * MiB, 1 * MiB, 38, true);
  specvhd::Image img = specvhd::Build(d);
  specvhd::PutBE64(&img.file, 48, 4 * MiB);  // copy at 0: current size,
  specvhd::PutBE32(&img.file, 56, specvhd::Chs(4 * MiB));  // its geometry
  img.file[70] ^= 0x11;                                    // and uuid
  specvhd::ResealFooter(&img.file, 0);
  Written w = WriteImage(dir, "stale.vhd", img);
  ExpectChainReads(w.path, w.raw, 1, 39, 10);
  vhd::CheckReport rep;
  base::Status s =
      vhd::CheckVhd(base::Env::Default(), w.path, vhd::CheckOptions(), &rep);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  ASSERT_FALSE(rep.lines.empty());
  EXPECT_EQ(rep.lines.back(), "primary and backup footers do not match\n");
}

// blktap 0.1/1.1 computed the footer checksum before setting the hidden
// flag: such a "tap" footer is accepted; any other creator's is corrupt.
TEST(SpecFooter, LegacyHiddenChecksumOnlyForTap) {
  testutil::TempDir dir;
  for (bool tap : {true, false}) {
    Disk d = BaseDisk(Type::kDynamic, 4 * MiB, 512 * KiB, 40, true);
    if (tap) {
      d.creator = {'t', 'a', 'p', '\0'};
      d.creator_version = 0x00010001;  // no batmap expected
    }
    specvhd::Image img = specvhd::Build(d);
    img.file[85] = 1;  // hidden, checksum left as computed with hidden = 0
    img.file[img.layout.footer_offset + 85] = 1;
    Written w = WriteImage(dir, tap ? "tap.vhd" : "vpc.vhd", img);
    if (tap) {
      ExpectChainReads(w.path, w.raw, 1, 41, 10);
      vhd::VhdInfo info;
      ASSERT_OK(vhd::InspectVhd(base::Env::Default(), w.path, false, &info));
      EXPECT_TRUE(info.hidden);
    } else {
      std::unique_ptr<vhd::Chain> chain;
      EXPECT_EQ(vhd::Chain::Open(w.path, vhd::ChainOptions(), &chain).code(),
                base::Code::kCorruption);
    }
  }
}

// ---- fixed disks ------------------------------------------------------------

TEST(SpecFixed, ReadsAndWrites) {
  testutil::TempDir dir;
  Disk d = BaseDisk(Type::kFixed, 12 * MiB + 4096, 256 * KiB, 41, false);
  d.creator = {'w', 'i', 'n', ' '};
  specvhd::Image img = specvhd::Build(d);
  ASSERT_EQ(img.file.size(), d.virtual_size + 512);
  Written w = WriteImage(dir, "fixed.vhd", img);
  ExpectChainReads(w.path, w.raw, 1, 42);
  std::string model = w.raw;
  RandomWrites(w.path, &model, 43, 30, 2 * MiB);
  if (HasFatalFailure()) return;
  ExpectChainReads(w.path, model, 1, 44, 20);
  // The footer is untouched by data writes.
  std::string after = testutil::ReadFile(w.path);
  EXPECT_EQ(after.substr(after.size() - 512),
            img.file.substr(img.file.size() - 512));
}

// A virtual size that is not a multiple of 512 (the spec does not forbid
// it): reads stop at the last byte, writes to the last partial sector keep
// the bytes past the end (a fixed disk's footer) intact.
TEST(SpecOddSize, FixedAndDynamic) {
  for (Type type : {Type::kFixed, Type::kDynamic}) {
    SCOPED_TRACE(type == Type::kFixed ? "fixed" : "dynamic");
    testutil::TempDir dir;
    Disk d = BaseDisk(type, 1 * MiB + 100, 64 * KiB, 95, true);
    d.blocks.back().kind = Block::Kind::kFull;
    specvhd::Image img = specvhd::Build(d);
    Written w = WriteImage(dir, "odd.vhd", img);
    ExpectChainReads(w.path, w.raw, 1, 96, 20);
    std::string model = w.raw;
    {
      vhd::ChainOptions o;
      o.writable = true;
      std::unique_ptr<vhd::Chain> chain;
      base::Status s = vhd::Chain::Open(w.path, o, &chain);
      ASSERT_OK(s);
      std::string tail = testutil::RandomBytes(60, 97);
      s = chain->Write(model.size() - 60, tail.size(), tail.data());
      ASSERT_OK(s);
      model.replace(model.size() - 60, 60, tail);
      char c = 'x';
      EXPECT_EQ(chain->Write(model.size(), 1, &c).code(),
                base::Code::kInvalidArgument);
    }
    ExpectChainReads(w.path, model, 1, 98, 10);
    if (type == Type::kFixed) {
      std::string f = testutil::ReadFile(w.path);
      ASSERT_EQ(f.size(), img.file.size());
      EXPECT_EQ(f.substr(f.size() - 512), img.file.substr(f.size() - 512));
    }
  }
}

// ---- differencing chains ----------------------------------------------------

enum class LocKind {
  kMacX,          // MacX only, data_space in bytes
  kW2kuSectors,   // W2ku only, data_space in sectors
  kW2ruSectors,   // W2ru only, data_space in sectors
  kAllThree,      // MacX + W2ku + W2ru (blktap's set)
  kNameOnly,      // no locator; the header's parent name
  kFirstMissing,  // MacX names a missing file, W2ru the right one
};

std::vector<Locator> LocatorsFor(LocKind k, const std::string& name) {
  Locator macx{specvhd::kMacX, "file://./" + name, false, "", 0};
  Locator w2ku{specvhd::kW2ku, ".\\" + name, false, "", 0};
  Locator w2ru{specvhd::kW2ru, ".\\" + name, false, "", 0};
  switch (k) {
    case LocKind::kMacX:
      return {macx};
    case LocKind::kW2kuSectors:
      w2ku.space_in_sectors = true;
      w2ku.extra_sectors = 1;
      return {w2ku};
    case LocKind::kW2ruSectors:
      w2ru.space_in_sectors = true;
      return {w2ru};
    case LocKind::kAllThree:
      return {macx, w2ku, w2ru};
    case LocKind::kNameOnly:
      return {};
    case LocKind::kFirstMissing:
      return {Locator{specvhd::kMacX, "file://./missing-" + name, false, "", 0},
              w2ru};
  }
  return {};
}

struct Layer {
  Type type;
  uint64_t size;
  uint32_t block;
  LocKind loc;
  FooterMode footer = FooterMode::kNormal;
  bool align = true;
};

// Builds base + children; returns the leaf's path and expected raw.
Written BuildChain(const testutil::TempDir& dir, const std::vector<Layer>& ls,
                   uint64_t seed, bool junk) {
  std::string parent_raw;
  specvhd::Uuid parent_uuid{};
  std::string parent_name;
  Written last;
  for (size_t i = 0; i < ls.size(); ++i) {
    Disk d = BaseDisk(ls[i].type, ls[i].size, ls[i].block, seed * 10 + i, junk);
    d.footer = ls[i].footer;
    d.align_data_4k = ls[i].align;
    d.shuffle_blocks = (i % 2) == 1;
    if (i > 0) {
      d.parent_uuid = parent_uuid;
      d.parent_name = parent_name;
      d.parent_timestamp = 0x1234;
      d.locators = LocatorsFor(ls[i].loc, parent_name);
    }
    specvhd::Image img = specvhd::Build(d, parent_raw);
    std::string name = "layer" + std::to_string(i) + ".vhd";
    last = WriteImage(dir, name, img);
    parent_raw = img.raw;
    parent_uuid = img.uuid;
    parent_name = name;
  }
  return last;
}

TEST(SpecChain, DepthTwoToFour) {
  const std::vector<std::vector<Layer>> chains = {
      {{Type::kDynamic, 16 * MiB, 2 * MiB, LocKind::kMacX},
       {Type::kDifferencing, 16 * MiB, 2 * MiB, LocKind::kAllThree}},
      {{Type::kDynamic, 8 * MiB, 64 * KiB, LocKind::kMacX},
       {Type::kDifferencing, 12 * MiB, 512 * KiB, LocKind::kW2kuSectors},
       {Type::kDifferencing, 12 * MiB, 4 * KiB, LocKind::kW2ruSectors}},
      {{Type::kFixed, 6 * MiB, 1 * MiB, LocKind::kMacX},
       {Type::kDifferencing, 6 * MiB, 8 * MiB, LocKind::kNameOnly},
       {Type::kDifferencing, 10 * MiB, 2 * MiB, LocKind::kFirstMissing,
        FooterMode::kNormal, false},
       {Type::kDifferencing, 10 * MiB, 128 * KiB, LocKind::kAllThree}},
      {{Type::kDynamic, 20 * MiB, 8 * MiB, LocKind::kMacX},
       {Type::kDifferencing, 20 * MiB, 1 * MiB, LocKind::kMacX,
        FooterMode::kShort511},
       {Type::kDifferencing, 20 * MiB, 32 * KiB, LocKind::kW2ruSectors,
        FooterMode::kNormal, false}},
  };
  uint64_t seed = 100;
  for (const auto& layers : chains) {
    // Junk under clear bits in every other chain.
    const bool junk = seed % 2 == 0;
    testutil::TempDir dir;
    Written leaf = BuildChain(dir, layers, ++seed, junk);
    SCOPED_TRACE("chain seed " + std::to_string(seed));
    ExpectChainReads(leaf.path, leaf.raw, layers.size(), seed);
  }
}

// A middle layer whose EOF footer is damaged: it is read through its copy at
// 0 like any other member of the chain.
TEST(SpecChain, MiddleLayerWithBadEofFooter) {
  testutil::TempDir dir;
  Written leaf =
      BuildChain(dir,
                 {{Type::kDynamic, 8 * MiB, 2 * MiB, LocKind::kMacX},
                  {Type::kDifferencing, 8 * MiB, 2 * MiB, LocKind::kMacX,
                   FooterMode::kCorruptEof},
                  {Type::kDifferencing, 8 * MiB, 2 * MiB, LocKind::kMacX}},
                 300, true);
  ExpectChainReads(leaf.path, leaf.raw, 3, 301);
}

TEST(SpecChain, ParentInAnotherDirectory) {
  testutil::TempDir dir;
  std::string sub = dir.Join("base");
  std::string leafdir = dir.Join("leaf");
  ASSERT_EQ(testutil::Run({"mkdir", "-p", sub, leafdir}).exit_code, 0);
  Disk p = BaseDisk(Type::kDynamic, 8 * MiB, 512 * KiB, 51, true);
  specvhd::Image pimg = specvhd::Build(p);
  testutil::WriteFile(sub + "/parent.vhd", pimg.file);
  // A decoy next to the child with the header's name but another uuid: the
  // locator must win over the header name.
  Disk decoy = BaseDisk(Type::kDynamic, 8 * MiB, 512 * KiB, 52, true);
  testutil::WriteFile(leafdir + "/parent.vhd", specvhd::Build(decoy).file);

  Disk c = BaseDisk(Type::kDifferencing, 8 * MiB, 2 * MiB, 53, true);
  c.parent_uuid = pimg.uuid;
  c.parent_name = "parent.vhd";
  c.locators = {
      Locator{specvhd::kMacX, "file://../base/parent.vhd", false, "", 0},
      Locator{specvhd::kW2ru, ".\\..\\base\\parent.vhd", true, "", 0}};
  specvhd::Image cimg = specvhd::Build(c, pimg.raw);
  testutil::WriteFile(leafdir + "/child.vhd", cimg.file);
  ExpectChainReads(leafdir + "/child.vhd", cimg.raw, 2, 54);
}

// A W2ku locator holding an absolute Windows path ("C:\dir\p.vhd"): blktap
// drops the drive letter and turns backslashes into slashes.
TEST(SpecChain, AbsoluteW2kuLocator) {
  testutil::TempDir dir;
  Disk p = BaseDisk(Type::kDynamic, 4 * MiB, 1 * MiB, 55, true);
  specvhd::Image pimg = specvhd::Build(p);
  std::string ppath = dir.Join("abs-parent.vhd");
  testutil::WriteFile(ppath, pimg.file);
  std::string win = "C:" + ppath;
  std::replace(win.begin(), win.end(), '/', '\\');
  Disk c = BaseDisk(Type::kDifferencing, 4 * MiB, 512 * KiB, 56, true);
  c.parent_uuid = pimg.uuid;
  c.parent_name = "no-such-name.vhd";  // only the locator can find it
  c.locators = {
      Locator{specvhd::kW2ku, "C:\\nowhere\\abs-parent.vhd", false, "", 0},
      Locator{specvhd::kW2ku, win, false, "", 0}};
  specvhd::Image cimg = specvhd::Build(c, pimg.raw);
  Written w = WriteImage(dir, "child.vhd", cimg);
  ExpectChainReads(w.path, w.raw, 2, 57, 10);
}

// Non-ASCII parent names: UTF-16BE in the header (with a surrogate pair),
// UTF-16LE in W2ru, UTF-8 in MacX.
TEST(SpecChain, UnicodeParentName) {
  const std::string name = "p\xc3\xa8re-\xf0\x9f\x98\x80.vhd";  // "père-😀.vhd"
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    testutil::TempDir dir;
    Disk p = BaseDisk(Type::kDynamic, 4 * MiB, 1 * MiB, 58, true);
    specvhd::Image pimg = specvhd::Build(p);
    testutil::WriteFile(dir.Join(name), pimg.file);
    Disk c = BaseDisk(Type::kDifferencing, 4 * MiB, 1 * MiB, 59, true);
    c.parent_uuid = pimg.uuid;
    c.parent_name = name;
    if (variant == 0) {
      c.locators = {Locator{specvhd::kW2ru, ".\\" + name, false, "", 0}};
    } else if (variant == 1) {
      c.locators = {Locator{specvhd::kMacX, "file://./" + name, false, "", 0}};
    }  // variant 2: header name only
    specvhd::Image cimg = specvhd::Build(c, pimg.raw);
    Written w = WriteImage(dir, "child.vhd", cimg);
    ExpectChainReads(w.path, w.raw, 2, 60, 10);
    vhd::VhdInfo info;
    ASSERT_OK(vhd::InspectVhd(base::Env::Default(), w.path, false, &info));
    EXPECT_EQ(info.parent_name, name);
  }
}

// A differencing disk with a null parent uuid names a raw parent file.
TEST(SpecChain, RawParent) {
  testutil::TempDir dir;
  std::string raw = testutil::RandomBytes(6 * MiB, 61);
  // Holes in the raw parent read as zeros, like any data.
  std::fill(raw.begin() + MiB, raw.begin() + 2 * MiB, '\0');
  testutil::WriteFile(dir.Join("base.raw"), raw);
  Disk c = BaseDisk(Type::kDifferencing, 6 * MiB, 256 * KiB, 62, true);
  c.parent_name = "base.raw";
  c.locators = {Locator{specvhd::kMacX, "file://./base.raw", false, "", 0}};
  specvhd::Image cimg = specvhd::Build(c, raw);
  Written w = WriteImage(dir, "child.vhd", cimg);
  ExpectChainReads(w.path, w.raw, 2, 63);
}

// Writes into the leaf of a depth-3 chain with partial blocks and junk under
// clear bits: the model is the expected raw with the writes applied; the
// parents must not change.
TEST(SpecChain, WritesThroughChainMatchModel) {
  for (uint64_t seed : {400u, 401u}) {
    testutil::TempDir dir;
    std::vector<Layer> layers = {
        {Type::kDynamic, 16 * MiB, 1 * MiB, LocKind::kMacX},
        {Type::kDifferencing, 16 * MiB, 64 * KiB, LocKind::kW2kuSectors},
        {Type::kDifferencing, 16 * MiB, seed == 400 ? 2 * MiB : 4 * KiB,
         LocKind::kAllThree, FooterMode::kNormal, seed == 400}};
    Written leaf = BuildChain(dir, layers, seed, true);
    std::string p0 = testutil::ReadFile(dir.Join("layer0.vhd"));
    std::string p1 = testutil::ReadFile(dir.Join("layer1.vhd"));
    std::string model = leaf.raw;
    RandomWrites(leaf.path, &model, seed + 1, 40, layers.back().block);
    if (HasFatalFailure()) return;
    ExpectChainReads(leaf.path, model, 3, seed + 2, 30);
    EXPECT_EQ(testutil::ReadFile(dir.Join("layer0.vhd")), p0);
    EXPECT_EQ(testutil::ReadFile(dir.Join("layer1.vhd")), p1);
  }
}

// A dynamic disk whose every block is partial with junk under every clear
// bit: a write of zeros over a clear sector stores nothing new and the sector
// keeps reading as zero; a write of one byte into a clear sector makes the
// rest of that sector zero, not junk.
TEST(SpecDynamicSemantics, JunkUnderClearBitsNeverLeaks) {
  testutil::TempDir dir;
  Disk d;
  d.type = Type::kDynamic;
  d.virtual_size = 4 * MiB;
  d.block_size = 1 * MiB;
  d.seed = 71;
  const uint32_t spb = d.block_size / 512;
  for (int b = 0; b < 4; ++b) {
    d.blocks.push_back(
        specvhd::PartialBlock(spb, {{0, 1}, {9, 3}, {100, 50}}, true));
  }
  specvhd::Image img = specvhd::Build(d);
  Written w = WriteImage(dir, "junk.vhd", img);
  std::string model = w.raw;
  {
    vhd::ChainOptions o;
    o.writable = true;
    std::unique_ptr<vhd::Chain> chain;
    ASSERT_OK(vhd::Chain::Open(w.path, o, &chain));
    char one = 'X';
    uint64_t off = 5 * 512 + 17;  // sector 5: clear bit, junk on disk
    ASSERT_OK(chain->Write(off, 1, &one));
    model[off] = one;
    std::string zeros(3 * 512, '\0');  // sectors 20..22 of block 1: clear
    ASSERT_OK(chain->Write(1 * MiB + 20 * 512, zeros.size(), zeros.data()));
    model.replace(1 * MiB + 20 * 512, zeros.size(), zeros);
  }
  ExpectChainReads(w.path, model, 1, 72, 20);
}

}  // namespace
