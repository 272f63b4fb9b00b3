// Tests of vhd/sparse_image.h: SparseImage::SummarizeBat (query -s -a
// without loading the BAT) against LoadBat on the same files, and
// ReadBatEntries on short BATs.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "base/env.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

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

}  // namespace
}  // namespace vhd
