// Tests of vhd/repair.h: a missing, damaged or misplaced EOF footer is
// rebuilt from the copy at 0 (or, with use_backup_footer, the copy at 0
// wins over a valid EOF footer), the file ends right after it, a null uuid
// is replaced, the data reads back unchanged, and a clean file is left
// byte for byte as it was.
#include "vhd/repair.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/env.h"
#include "tests/util/chain_fixture.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/format.h"

namespace vhd {
namespace {

constexpr uint64_t kHiddenByte = 85;
constexpr uint64_t kUuidByte = 68;

class RepairTest : public testutil::ChainFixture {
 protected:
  specvhd::Image Build(specvhd::FooterMode mode) {
    specvhd::Disk d;
    d.virtual_size = 8 << 20;
    d.footer = mode;
    std::mt19937_64 rng(7);
    d.blocks = specvhd::RandomBlocks(4, 4096, &rng, false);
    d.blocks[3].kind = specvhd::Block::Kind::kFull;  // data ends the file
    return specvhd::Build(d);
  }
  base::Status Repair(const std::string& name, bool backup, bool* changed) {
    RepairOptions o;
    o.use_backup_footer = backup;
    return RepairVhd(base::Env::Default(), P(name), o, changed);
  }
  // The file ends with one footer, byte-identical to the copy at 0.
  void ExpectFootersAgree(const std::string& name, uint64_t size) {
    std::string bytes = testutil::ReadFile(P(name));
    ASSERT_EQ(bytes.size(), size);
    EXPECT_EQ(bytes.substr(size - kFooterSize), bytes.substr(0, kFooterSize));
    EXPECT_EQ(specvhd::GetBE32(bytes, 64),
              specvhd::Checksum(bytes, 0, kFooterSize, 64));
  }
};

TEST_F(RepairTest, CleanFileIsUnchanged) {
  specvhd::Image img = Build(specvhd::FooterMode::kNormal);
  testutil::WriteFile(P("a.vhd"), img.file);
  bool changed = true;
  ASSERT_OK(Repair("a.vhd", false, &changed));
  EXPECT_FALSE(changed);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), img.file);
}

TEST_F(RepairTest, RebuildsAMissingOrCorruptEofFooter) {
  specvhd::Image good = Build(specvhd::FooterMode::kNormal);
  for (auto mode :
       {specvhd::FooterMode::kCorruptEof, specvhd::FooterMode::kMissingEof}) {
    specvhd::Image img = Build(mode);
    testutil::WriteFile(P("a.vhd"), img.file);
    bool changed = false;
    ASSERT_OK(Repair("a.vhd", false, &changed)) << static_cast<int>(mode);
    EXPECT_TRUE(changed);
    ExpectFootersAgree("a.vhd", good.file.size());
    EXPECT_EQ(Read("a.vhd"), img.raw);
    // A second pass finds nothing to do.
    ASSERT_OK(Repair("a.vhd", false, &changed));
    EXPECT_FALSE(changed);
  }
}

TEST_F(RepairTest, TruncatesTrailingBytesAfterTheFooter) {
  specvhd::Image img = Build(specvhd::FooterMode::kNormal);
  std::string grown = img.file + std::string(4096, '\0');
  // Move the footer to the new end, as a half-done extension leaves it.
  grown.replace(grown.size() - kFooterSize, kFooterSize,
                img.file.substr(img.file.size() - kFooterSize));
  testutil::WriteFile(P("a.vhd"), grown);
  bool changed = false;
  ASSERT_OK(Repair("a.vhd", false, &changed));
  EXPECT_TRUE(changed);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), img.file);
}

TEST_F(RepairTest, BackupFooterWinsWhenAsked) {
  specvhd::Image img = Build(specvhd::FooterMode::kNormal);
  uint64_t eof = img.layout.footer_offset;
  img.file[eof + kHiddenByte] = 1;  // a valid EOF footer that differs
  specvhd::ResealFooter(&img.file, eof);
  testutil::WriteFile(P("a.vhd"), img.file);

  bool changed = false;
  ASSERT_OK(Repair("a.vhd", true, &changed));
  EXPECT_TRUE(changed);
  ExpectFootersAgree("a.vhd", img.file.size());
  EXPECT_EQ(testutil::ReadFile(P("a.vhd"))[eof + kHiddenByte], 0);
}

TEST_F(RepairTest, EofFooterWinsByDefault) {
  specvhd::Image img = Build(specvhd::FooterMode::kNormal);
  uint64_t eof = img.layout.footer_offset;
  img.file[eof + kHiddenByte] = 1;
  specvhd::ResealFooter(&img.file, eof);
  testutil::WriteFile(P("a.vhd"), img.file);

  bool changed = false;
  ASSERT_OK(Repair("a.vhd", false, &changed));
  EXPECT_TRUE(changed);
  ExpectFootersAgree("a.vhd", img.file.size());
  EXPECT_EQ(testutil::ReadFile(P("a.vhd"))[kHiddenByte], 1);
}

TEST_F(RepairTest, BackupFooterThatIsInvalidIsCorruption) {
  specvhd::Image img = Build(specvhd::FooterMode::kNormal);
  img.file[0] ^= 0xFF;
  testutil::WriteFile(P("a.vhd"), img.file);
  bool changed = true;
  base::Status s = Repair("a.vhd", true, &changed);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_FALSE(changed);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), img.file);
}

TEST_F(RepairTest, NullUuidOfAFixedDiskIsReplaced) {
  specvhd::Disk d;
  d.type = specvhd::Type::kFixed;
  d.virtual_size = 1 << 20;
  specvhd::Image img = specvhd::Build(d);
  uint64_t eof = img.file.size() - kFooterSize;
  img.file.replace(eof + kUuidByte, 16, std::string(16, '\0'));
  specvhd::ResealFooter(&img.file, eof);
  testutil::WriteFile(P("f.vhd"), img.file);

  bool changed = false;
  ASSERT_OK(Repair("f.vhd", false, &changed));
  EXPECT_TRUE(changed);
  std::string bytes = testutil::ReadFile(P("f.vhd"));
  ASSERT_EQ(bytes.size(), img.file.size());
  EXPECT_NE(bytes.substr(eof + kUuidByte, 16), std::string(16, '\0'));
  EXPECT_EQ(specvhd::GetBE32(bytes, eof + 64),
            specvhd::Checksum(bytes, eof, kFooterSize, 64));
  EXPECT_EQ(bytes.substr(0, eof), img.file.substr(0, eof));
}

TEST_F(RepairTest, UnreadableFilesFail) {
  bool changed = true;
  EXPECT_EQ(Repair("absent.vhd", false, &changed).code(),
            base::Code::kNotFound);
  EXPECT_FALSE(changed);
  testutil::WriteFile(P("junk.vhd"), testutil::RandomBytes(8192, 4));
  EXPECT_EQ(Repair("junk.vhd", false, &changed).code(),
            base::Code::kCorruption);
  EXPECT_EQ(testutil::ReadFile(P("junk.vhd")), testutil::RandomBytes(8192, 4));
}

}  // namespace
}  // namespace vhd
