// Tests of vhd/flat_image.cc (OpenImage's fixed disks and OpenRawImage):
// data lives at virtual offset == file offset, every block is full, writes
// land there and nowhere else (never over the footer), read-only images
// refuse writes, and a footer whose size or type does not fit is
// kCorruption.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/env.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/format.h"
#include "vhd/image.h"

namespace vhd {
namespace {

constexpr uint64_t kSize = 3 << 20;  // a block and a half

class FlatImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    specvhd::Disk d;
    d.type = specvhd::Type::kFixed;
    d.virtual_size = kSize;
    img_ = specvhd::Build(d);
    // A fixed disk's data: give it content to find.
    data_ = testutil::RandomBytes(kSize, 11);
    img_.file.replace(0, kSize, data_);
    path_ = dir_.Join("f.vhd");
    testutil::WriteFile(path_, img_.file);
  }
  base::Status Open(bool writable, std::unique_ptr<Image>* image) {
    OpenOptions o;
    o.writable = writable;
    return OpenImage(base::Env::Default(), path_, o, image);
  }

  testutil::TempDir dir_;
  specvhd::Image img_;
  std::string data_;
  std::string path_;
};

TEST_F(FlatImageTest, FixedDiskIsFlatAndFull) {
  std::unique_ptr<Image> image;
  ASSERT_OK(Open(false, &image));
  EXPECT_EQ(image->type(), DiskType::kFixed);
  EXPECT_EQ(image->virtual_size(), kSize);
  EXPECT_EQ(image->path(), path_);
  EXPECT_FALSE(image->writable());
  ASSERT_NE(image->footer(), nullptr);
  EXPECT_EQ(image->footer()->curr_size, kSize);
  EXPECT_EQ(image->block_count(),
            (kSize + image->block_size() - 1) / image->block_size());
  for (uint64_t b = 0; b < image->block_count(); ++b) {
    BlockState st;
    ASSERT_OK(image->GetBlockState(b, &st));
    EXPECT_EQ(st.kind, BlockKind::kFull);
    ASSERT_NE(st.bitmap, nullptr);
    EXPECT_TRUE(BitmapAllSet(st.bitmap, 0, image->sectors_per_block()));
  }
  // Sector 5 of block 1 is at its virtual offset.
  uint64_t off = image->DataOffset(1, 5);
  EXPECT_EQ(off, image->block_size() + 5 * kSectorSize);
  std::string got(kSectorSize, '\0');
  ASSERT_OK(image->file()->Read(off, kSectorSize, got.data()));
  EXPECT_EQ(got, data_.substr(off, kSectorSize));
}

TEST_F(FlatImageTest, ReadOnlyRefusesWrites) {
  std::unique_ptr<Image> image;
  ASSERT_OK(Open(false, &image));
  std::string sector(kSectorSize, 'w');
  EXPECT_EQ(image
                ->WriteSectors(0, 0, 1,
                               reinterpret_cast<const uint8_t*>(sector.data()))
                .code(),
            base::Code::kReadOnly);
  EXPECT_OK(image->Flush());
  EXPECT_EQ(testutil::ReadFile(path_), img_.file);
}

TEST_F(FlatImageTest, WritesLandAtTheVirtualOffset) {
  std::unique_ptr<Image> image;
  ASSERT_OK(Open(true, &image));
  std::string two(2 * kSectorSize, 'w');
  const auto* p = reinterpret_cast<const uint8_t*>(two.data());
  ASSERT_OK(image->WriteSectors(1, 7, 2, p));
  // The last two sectors of the disk: right up to the footer.
  uint32_t last =
      static_cast<uint32_t>((kSize % image->block_size()) / kSectorSize) - 2;
  ASSERT_OK(image->WriteSectors(1, last, 2, p));
  ASSERT_OK(image->Flush());
  image.reset();

  std::string want = img_.file;
  uint64_t bs = 2u << 20;
  want.replace(bs + 7 * kSectorSize, two.size(), two);
  want.replace(kSize - two.size(), two.size(), two);
  EXPECT_EQ(testutil::ReadFile(path_), want);
}

TEST_F(FlatImageTest, WritePastTheEndIsRefused) {
  std::unique_ptr<Image> image;
  ASSERT_OK(Open(true, &image));
  std::string two(2 * kSectorSize, 'w');
  const auto* p = reinterpret_cast<const uint8_t*>(two.data());
  uint32_t last =
      static_cast<uint32_t>((kSize % image->block_size()) / kSectorSize) - 1;
  // One sector over the end would overwrite the footer.
  EXPECT_EQ(image->WriteSectors(1, last, 2, p).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(image->WriteSectors(2, 0, 1, p).code(),
            base::Code::kInvalidArgument);
  image.reset();
  EXPECT_EQ(testutil::ReadFile(path_), img_.file);
}

TEST_F(FlatImageTest, SizeBeyondTheFooterIsCorruption) {
  uint64_t eof = img_.file.size() - kFooterSize;
  specvhd::PutBE64(&img_.file, eof + 48, kSize + kSectorSize);  // curr_size
  specvhd::ResealFooter(&img_.file, eof);
  testutil::WriteFile(path_, img_.file);
  std::unique_ptr<Image> image;
  EXPECT_EQ(Open(false, &image).code(), base::Code::kCorruption);
}

TEST_F(FlatImageTest, UnknownDiskTypeIsCorruption) {
  uint64_t eof = img_.file.size() - kFooterSize;
  specvhd::PutBE32(&img_.file, eof + 60, 5);  // disk type
  specvhd::ResealFooter(&img_.file, eof);
  testutil::WriteFile(path_, img_.file);
  std::unique_ptr<Image> image;
  base::Status s = Open(false, &image);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.ToString().find("unsupported disk type 5"), std::string::npos)
      << s.ToString();
}

TEST_F(FlatImageTest, MissingFileIsNotFound) {
  std::unique_ptr<Image> image;
  EXPECT_EQ(OpenImage(base::Env::Default(), dir_.Join("absent.vhd"),
                      OpenOptions(), &image)
                .code(),
            base::Code::kNotFound);
  EXPECT_EQ(OpenRawImage(base::Env::Default(), dir_.Join("absent.raw"),
                         OpenOptions(), &image)
                .code(),
            base::Code::kNotFound);
}

TEST_F(FlatImageTest, RawImageIsTheWholeFile) {
  std::string raw_path = dir_.Join("p.raw");
  std::string raw = testutil::RandomBytes(5 * kSectorSize, 12);
  testutil::WriteFile(raw_path, raw);
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> image;
  ASSERT_OK(OpenRawImage(base::Env::Default(), raw_path, o, &image));
  EXPECT_EQ(image->type(), DiskType::kNone);
  EXPECT_EQ(image->footer(), nullptr);
  EXPECT_EQ(image->virtual_size(), raw.size());
  EXPECT_EQ(image->block_count(), 1u);
  std::string s(kSectorSize, 'r');
  ASSERT_OK(
      image->WriteSectors(0, 4, 1, reinterpret_cast<const uint8_t*>(s.data())));
  EXPECT_EQ(
      image->WriteSectors(0, 5, 1, reinterpret_cast<const uint8_t*>(s.data()))
          .code(),
      base::Code::kInvalidArgument);
  ASSERT_OK(image->Flush());
  image.reset();
  raw.replace(4 * kSectorSize, kSectorSize, s);
  EXPECT_EQ(testutil::ReadFile(raw_path), raw);
}

}  // namespace
}  // namespace vhd
