// Tests of vhd/sparse_image.h: SparseImage::SummarizeBat (query -s -a
// without loading the BAT) against LoadBat on the same files, and
// ReadBatEntries on short BATs; block states, data offsets, a write that
// allocates a block (footer moved, copy at 0 unchanged), and locator
// decoding, all against files from the spec generator.
#include "vhd/sparse_image.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "base/env.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/image.h"

namespace vhd {
namespace {

std::unique_ptr<Image> OpenFile(const std::string& path) {
  std::unique_ptr<Image> img;
  base::Status s = OpenImage(base::Env::Default(), path, OpenOptions(), &img);
  EXPECT_OK(s);
  return img;
}

TEST(SparseBatTest, SummaryEqualsTheLoadedBat) {
  testutil::TempDir dir;
  std::mt19937_64 rng(5);
  for (int round = 0; round < 12; ++round) {
    specvhd::Disk d;
    d.virtual_size = (8 + round) << 20;
    d.block_size = round % 3 == 0 ? (1u << 20) : (2u << 20);
    d.blocks = specvhd::RandomBlocks(specvhd::BlockCount(d), d.block_size / 512,
                                     &rng, false);
    d.shuffle_blocks = round % 2 == 1;
    d.extra_bat_entries = round % 4;
    d.bat_after_blocks = round == 5;
    if (round % 3 == 1) {
      d.creator = {'t', 'a', 'p', '\0'};
      d.creator_version = 0x00010003;
      d.batmap = true;
    }
    d.seed = round + 1;
    std::string path = dir.Join("d" + std::to_string(round) + ".vhd");
    testutil::WriteFile(path, specvhd::Build(d).file);
    std::unique_ptr<Image> a = OpenFile(path), b = OpenFile(path);
    auto* sa = dynamic_cast<SparseImage*>(a.get());
    auto* sb = dynamic_cast<SparseImage*>(b.get());
    ASSERT_NE(sa, nullptr);
    uint64_t used = 0, eod = 0;
    ASSERT_OK(sa->SummarizeBat(&used, &eod)) << round;
    ASSERT_OK(sb->LoadBat()) << round;
    uint64_t want = 0;
    for (uint64_t i = 0; i < sb->block_count(); ++i) {
      want += sb->bat()[i] != kBatUnused;
    }
    EXPECT_EQ(used, want) << round;
    EXPECT_EQ(eod, sb->end_of_data()) << round;
    // Once loaded, the summary is the loaded BAT's.
    ASSERT_OK(sb->SummarizeBat(&used, &eod));
    EXPECT_EQ(used, want);
    EXPECT_EQ(eod, sb->end_of_data());
  }
}

TEST(SparseBatTest, SummaryRefusesBlocksOutsideTheFile) {
  testutil::TempDir dir;
  specvhd::Disk d;
  d.virtual_size = 8 << 20;
  d.blocks.resize(4);
  d.blocks[1].kind = specvhd::Block::Kind::kFull;
  specvhd::Image im = specvhd::Build(d);
  // Point block 2 past the end of the file.
  std::string f = im.file;
  uint64_t at = im.layout.table_offset + 2 * 4;
  uint32_t far = static_cast<uint32_t>(f.size() / 512 + 10);
  f[at] = static_cast<char>(far >> 24);
  f[at + 1] = static_cast<char>(far >> 16);
  f[at + 2] = static_cast<char>(far >> 8);
  f[at + 3] = static_cast<char>(far);
  std::string path = dir.Join("bad.vhd");
  testutil::WriteFile(path, f);
  std::unique_ptr<Image> a = OpenFile(path);
  auto* sa = dynamic_cast<SparseImage*>(a.get());
  ASSERT_NE(sa, nullptr);
  uint64_t used = 0, eod = 0;
  base::Status s = sa->SummarizeBat(&used, &eod);
  EXPECT_EQ(s.code(), base::Code::kCorruption) << s.ToString();
  EXPECT_EQ(sa->LoadBat().code(), base::Code::kCorruption);
}

TEST(SparseBatTest, ReadBatEntriesStopsAtTheEndOfTheFile) {
  testutil::TempDir dir;
  std::string bytes;
  for (uint32_t i = 0; i < 40000; ++i) {  // more than one 64 KiB chunk
    bytes.push_back(static_cast<char>(i >> 24));
    bytes.push_back(static_cast<char>(i >> 16));
    bytes.push_back(static_cast<char>(i >> 8));
    bytes.push_back(static_cast<char>(i));
  }
  bytes.push_back('x');  // a partial entry does not count
  testutil::WriteFile(dir.Join("t"), bytes);
  std::unique_ptr<base::File> f;
  ASSERT_OK(base::Env::Default()->Open(dir.Join("t"),
                                       base::Env::OpenMode::kReadOnly, &f));
  std::vector<uint32_t> out;
  uint32_t got = 0;
  ASSERT_OK(ReadBatEntries(f.get(), 4, 50000, &out, &got));
  EXPECT_EQ(got, 39999u);
  ASSERT_EQ(out.size(), 39999u);
  EXPECT_EQ(out[0], 1u);
  EXPECT_EQ(out[39998], 39999u);
  ASSERT_OK(ReadBatEntries(f.get(), 0, 3, &out, &got));
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 2}));
}

// ---- blocks, writes and locators against the spec generator ----------------

std::unique_ptr<SparseImage> OpenSparse(const std::string& path,
                                        bool writable) {
  OpenOptions o;
  o.writable = writable;
  std::unique_ptr<Image> img;
  EXPECT_OK(OpenImage(base::Env::Default(), path, o, &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) return nullptr;
  img.release();
  return std::unique_ptr<SparseImage>(sp);
}

TEST(SparseImageTest, BlockStatesAndOffsetsMatchTheFile) {
  testutil::TempDir dir;
  specvhd::Disk d;
  d.virtual_size = 8 << 20;
  d.blocks.resize(4);
  d.blocks[1].kind = specvhd::Block::Kind::kFull;
  d.blocks[2] = specvhd::PartialBlock(4096, {{3, 5}, {100, 1}}, true);
  d.shuffle_blocks = true;
  specvhd::Image spec = specvhd::Build(d);
  std::string path = dir.Join("d.vhd");
  testutil::WriteFile(path, spec.file);

  std::unique_ptr<SparseImage> img = OpenSparse(path, false);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->type(), DiskType::kDynamic);
  EXPECT_EQ(img->block_size(), 2u << 20);
  EXPECT_EQ(img->bitmap_bytes(), spec.layout.bitmap_bytes);
  EXPECT_EQ(img->footer_offset(), spec.layout.footer_offset);
  ASSERT_OK(img->LoadBat());
  EXPECT_EQ(img->allocated_blocks(), 2u);
  EXPECT_EQ(img->end_of_data(), spec.layout.footer_offset);

  BlockState st;
  ASSERT_OK(img->GetBlockState(0, &st));
  EXPECT_EQ(st.kind, BlockKind::kUnallocated);
  ASSERT_OK(img->GetBlockState(1, &st));
  EXPECT_EQ(st.kind, BlockKind::kFull);
  ASSERT_OK(img->GetBlockState(2, &st));
  ASSERT_EQ(st.kind, BlockKind::kPartial);
  for (uint32_t s = 0; s < 4096; ++s) {
    EXPECT_EQ(BitmapTest(st.bitmap, s), d.blocks[2].present[s]) << s;
  }
  // Past the BAT: unallocated, not an error.
  ASSERT_OK(img->GetBlockState(1000, &st));
  EXPECT_EQ(st.kind, BlockKind::kUnallocated);

  for (uint64_t b : {1, 2}) {
    uint64_t off = img->DataOffset(b, 3);
    EXPECT_EQ(off, spec.layout.block_offsets[b] + spec.layout.bitmap_bytes +
                       3 * kSectorSize);
    EXPECT_EQ(
        spec.file.substr(off, 5 * kSectorSize),
        spec.raw.substr(b * (2 << 20) + 3 * kSectorSize, 5 * kSectorSize));
  }
}

TEST(SparseImageTest, WriteAllocatesABlockAndMovesTheFooter) {
  testutil::TempDir dir;
  specvhd::Disk d;
  d.virtual_size = 8 << 20;
  d.blocks.resize(4);
  d.blocks[0].kind = specvhd::Block::Kind::kFull;
  specvhd::Image spec = specvhd::Build(d);
  std::string path = dir.Join("d.vhd");
  testutil::WriteFile(path, spec.file);

  std::string data = testutil::RandomBytes(3 * kSectorSize, 21);
  {
    std::unique_ptr<SparseImage> img = OpenSparse(path, true);
    ASSERT_NE(img, nullptr);
    ASSERT_OK(img->WriteSectors(3, 10, 3,
                                reinterpret_cast<const uint8_t*>(data.data())));
    ASSERT_OK(img->Flush());
    EXPECT_EQ(img->DataOffset(3, 10) + 3 * kSectorSize, img->DataOffset(3, 13));
  }
  std::string bytes = testutil::ReadFile(path);
  // The footer copy at 0 did not change, and the EOF footer equals it.
  EXPECT_EQ(bytes.substr(0, kFooterSize), spec.file.substr(0, kFooterSize));
  EXPECT_EQ(bytes.substr(bytes.size() - kFooterSize),
            spec.file.substr(0, kFooterSize));
  EXPECT_GT(bytes.size(), spec.file.size());

  std::unique_ptr<SparseImage> img = OpenSparse(path, false);
  ASSERT_NE(img, nullptr);
  ASSERT_OK(img->LoadBat());
  EXPECT_EQ(img->allocated_blocks(), 2u);
  EXPECT_EQ(img->end_of_data() + kFooterSize, bytes.size());
  BlockState st;
  ASSERT_OK(img->GetBlockState(3, &st));
  ASSERT_EQ(st.kind, BlockKind::kPartial);
  EXPECT_EQ(BitmapCount(st.bitmap, 4096), 3u);
  EXPECT_TRUE(BitmapAllSet(st.bitmap, 10, 3));
  EXPECT_EQ(bytes.substr(img->DataOffset(3, 10), data.size()), data);
  // Sectors around the write are zero on disk (their bits are clear).
  EXPECT_EQ(bytes.substr(img->DataOffset(3, 9), kSectorSize),
            std::string(kSectorSize, '\0'));
}

TEST(SparseImageTest, ReadOnlyImageRefusesWrites) {
  testutil::TempDir dir;
  specvhd::Disk d;
  d.virtual_size = 4 << 20;
  specvhd::Image spec = specvhd::Build(d);
  std::string path = dir.Join("d.vhd");
  testutil::WriteFile(path, spec.file);
  std::unique_ptr<SparseImage> img = OpenSparse(path, false);
  ASSERT_NE(img, nullptr);
  std::string s(kSectorSize, 'x');
  EXPECT_EQ(
      img->WriteSectors(0, 0, 1, reinterpret_cast<const uint8_t*>(s.data()))
          .code(),
      base::Code::kReadOnly);
  img.reset();
  EXPECT_EQ(testutil::ReadFile(path), spec.file);
}

TEST(SparseImageTest, LocatorsDecodeAsBlktapDoes) {
  testutil::TempDir dir;
  specvhd::Disk d;
  d.type = specvhd::Type::kDifferencing;
  d.virtual_size = 4 << 20;
  d.parent_name = "p.vhd";
  specvhd::Locator macx;
  macx.code = specvhd::kMacX;
  macx.text = "file://./p.vhd";
  specvhd::Locator w2ku;
  w2ku.code = specvhd::kW2ku;
  w2ku.text = "C:\\dir\\p.vhd";
  specvhd::Locator bad;
  bad.code = specvhd::kMacX;
  bad.text = "./p.vhd";  // no file:// prefix
  d.locators = {macx, w2ku, bad};
  std::string path = dir.Join("c.vhd");
  testutil::WriteFile(path, specvhd::Build(d, std::string(4 << 20, 'p')).file);

  std::unique_ptr<SparseImage> img = OpenSparse(path, false);
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->type(), DiskType::kDifferencing);
  std::string p;
  ASSERT_OK(img->ReadLocator(0, &p));
  EXPECT_EQ(p, "file://./p.vhd");
  ASSERT_OK(img->LocatorPath(0, &p));
  EXPECT_EQ(p, "./p.vhd");
  ASSERT_OK(img->LocatorPath(1, &p));
  EXPECT_EQ(p, "/dir/p.vhd");
  EXPECT_EQ(img->LocatorPath(2, &p).code(), base::Code::kCorruption);
  EXPECT_EQ(img->ReadLocator(5, &p).code(), base::Code::kNotFound);
  std::string name;
  ASSERT_TRUE(img->header().DecodeParentName(&name));
  EXPECT_EQ(name, "p.vhd");
}

}  // namespace
}  // namespace vhd
