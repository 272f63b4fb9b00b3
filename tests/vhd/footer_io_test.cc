// Tests of vhd/footer_io.h: which footer ReadFooter trusts (EOF, the short
// 511-byte one, or the copy at 0), what it reports about the copy at 0, the
// legacy hidden-flag checksum, and the kCorruption it returns when no
// footer is valid. Files come from the independent spec generator.
#include "vhd/footer_io.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "base/env.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/format.h"

namespace vhd {
namespace {

constexpr uint64_t kHiddenByte = 85;
constexpr uint64_t kCreatorByte = 28;

class FooterIoTest : public ::testing::Test {
 protected:
  specvhd::Image Make(specvhd::Type type, specvhd::FooterMode mode) {
    specvhd::Disk d;
    d.type = type;
    d.virtual_size = 4 << 20;
    d.footer = mode;
    d.blocks.resize(2);
    d.blocks[0].kind = specvhd::Block::Kind::kFull;
    return specvhd::Build(d);
  }
  // Writes `bytes` to a file and reads its footer into info_.
  base::Status ReadBytes(const std::string& bytes) {
    std::string path = dir_.Join("f.vhd");
    testutil::WriteFile(path, bytes);
    std::unique_ptr<base::File> f;
    base::Status s =
        base::Env::Default()->Open(path, base::Env::OpenMode::kReadOnly, &f);
    if (!s.ok()) return s;
    return ReadFooter(f.get(), &info_);
  }

  testutil::TempDir dir_;
  FooterInfo info_;
};

TEST_F(FooterIoTest, DynamicDiskUsesTheEofFooterAndComparesTheCopy) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kNormal);
  ASSERT_OK(ReadBytes(img.file));
  EXPECT_EQ(info_.file_size, img.file.size());
  EXPECT_EQ(info_.offset, img.file.size() - kFooterSize);
  EXPECT_EQ(info_.offset, img.layout.footer_offset);
  EXPECT_EQ(info_.length, kFooterSize);
  EXPECT_FALSE(info_.from_backup);
  EXPECT_FALSE(info_.legacy_checksum);
  EXPECT_TRUE(info_.backup_valid);
  EXPECT_TRUE(info_.backup_identical);
  EXPECT_EQ(info_.footer.curr_size, 4u << 20);
  EXPECT_EQ(0,
            std::memcmp(info_.footer.uuid.bytes.data(), img.uuid.data(), 16));
}

TEST_F(FooterIoTest, ReportsACopyAtZeroThatDiffers) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kNormal);
  img.file[kHiddenByte] = 1;  // only the copy at 0, resealed: valid but not
  specvhd::ResealFooter(&img.file, 0);  // identical
  ASSERT_OK(ReadBytes(img.file));
  EXPECT_FALSE(info_.from_backup);
  EXPECT_EQ(info_.footer.hidden, 0);
  EXPECT_TRUE(info_.backup_valid);
  EXPECT_FALSE(info_.backup_identical);
  EXPECT_EQ(info_.backup.hidden, 1);

  img.file[0] ^= 0xFF;  // the copy's cookie
  ASSERT_OK(ReadBytes(img.file));
  EXPECT_FALSE(info_.backup_valid);
  EXPECT_FALSE(info_.backup_identical);
}

TEST_F(FooterIoTest, FixedDiskHasNoCopyAtZero) {
  specvhd::Image img =
      Make(specvhd::Type::kFixed, specvhd::FooterMode::kNormal);
  ASSERT_OK(ReadBytes(img.file));
  EXPECT_EQ(info_.offset, img.file.size() - kFooterSize);
  EXPECT_EQ(info_.footer.disk_type(), DiskType::kFixed);
  EXPECT_FALSE(info_.from_backup);
  EXPECT_FALSE(info_.backup_valid);
}

TEST_F(FooterIoTest, ShortFooterOf511Bytes) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kShort511);
  ASSERT_OK(ReadBytes(img.file));
  EXPECT_EQ(info_.offset, img.file.size() - (kFooterSize - 1));
  EXPECT_EQ(info_.length, kFooterSize - 1);
  EXPECT_FALSE(info_.from_backup);
  EXPECT_EQ(info_.footer.curr_size, 4u << 20);
}

TEST_F(FooterIoTest, FallsBackToTheCopyAtZero) {
  for (auto mode :
       {specvhd::FooterMode::kCorruptEof, specvhd::FooterMode::kMissingEof}) {
    specvhd::Image img = Make(specvhd::Type::kDynamic, mode);
    ASSERT_OK(ReadBytes(img.file)) << static_cast<int>(mode);
    EXPECT_TRUE(info_.from_backup);
    EXPECT_EQ(info_.offset, 0u);
    EXPECT_EQ(info_.length, kFooterSize);
    EXPECT_TRUE(info_.backup_valid);
    EXPECT_EQ(info_.footer.curr_size, 4u << 20);
  }
}

TEST_F(FooterIoTest, NoValidFooterIsCorruption) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kCorruptEof);
  img.file[3] ^= 0x01;  // the copy at 0 loses its cookie too
  base::Status s = ReadBytes(img.file);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.ToString().find("no valid VHD footer"), std::string::npos)
      << s.ToString();

  // A fixed disk whose footer is bad has no copy to fall back on.
  img = Make(specvhd::Type::kFixed, specvhd::FooterMode::kNormal);
  img.file[img.file.size() - 1] ^= 0x5A;
  s = ReadBytes(img.file);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
}

TEST_F(FooterIoTest, PoisonedFooterNamesTheResizeJournal) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kNormal);
  specvhd::EditFooters(&img.file, img.layout, [](std::string* f, uint64_t o) {
    std::memcpy(&(*f)[o], "v_poison", 8);
  });
  base::Status s = ReadBytes(img.file);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.ToString().find("interrupted resize"), std::string::npos)
      << s.ToString();
}

TEST_F(FooterIoTest, TooSmallIsCorruption) {
  base::Status s = ReadBytes(std::string(kFooterSize - 2, 'x'));
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.ToString().find("too small"), std::string::npos) << s.ToString();
  // 511 bytes of junk: large enough to try, still no footer.
  s = ReadBytes(std::string(kFooterSize - 1, 'x'));
  EXPECT_EQ(s.code(), base::Code::kCorruption);
}

TEST_F(FooterIoTest, LegacyTapChecksumWithoutTheHiddenFlag) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kNormal);
  // Old blktap sealed the footer before setting hidden.
  specvhd::EditFooters(&img.file, img.layout, [](std::string* f, uint64_t o) {
    std::memcpy(&(*f)[o + kCreatorByte], kCreatorTap, 4);
  });
  std::string tap = img.file;
  tap[img.layout.footer_offset + kHiddenByte] = 1;
  ASSERT_OK(ReadBytes(tap));
  EXPECT_TRUE(info_.legacy_checksum);
  EXPECT_FALSE(info_.from_backup);
  EXPECT_EQ(info_.footer.hidden, 1);

  bool legacy = true;
  EXPECT_TRUE(FooterChecksumAcceptable(info_.backup, &legacy));
  EXPECT_FALSE(legacy);
  Footer hidden = info_.footer;
  EXPECT_TRUE(FooterChecksumAcceptable(hidden, &legacy));
  EXPECT_TRUE(legacy);

  // Another creator gets no such allowance.
  std::memcpy(hidden.creator_app.data(), "vpc ", 4);
  EXPECT_FALSE(FooterChecksumAcceptable(hidden, &legacy));
  EXPECT_FALSE(legacy);
}

TEST_F(FooterIoTest, WriteFooterAtStoresTheEncodedBytes) {
  specvhd::Image img =
      Make(specvhd::Type::kDynamic, specvhd::FooterMode::kNormal);
  std::string path = dir_.Join("w.vhd");
  testutil::WriteFile(path, img.file);
  std::unique_ptr<base::File> f;
  ASSERT_OK(
      base::Env::Default()->Open(path, base::Env::OpenMode::kReadWrite, &f));
  FooterInfo info;
  ASSERT_OK(ReadFooter(f.get(), &info));
  Footer changed = info.footer;
  changed.hidden = 1;
  changed.Seal();
  ASSERT_OK(WriteFooterAt(f.get(), changed, info.offset));
  f.reset();

  std::string bytes = testutil::ReadFile(path);
  ASSERT_EQ(bytes.size(), img.file.size());
  uint8_t want[kFooterSize];
  changed.Encode(want);
  EXPECT_EQ(bytes.substr(info.offset),
            std::string(reinterpret_cast<char*>(want), kFooterSize));
  EXPECT_EQ(bytes.substr(0, info.offset), img.file.substr(0, info.offset));
  EXPECT_EQ(specvhd::GetBE32(bytes, info.offset + 64),
            changed.ComputeChecksum());
}

}  // namespace
}  // namespace vhd
