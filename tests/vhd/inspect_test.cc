// Tests of vhd/inspect.h: InspectVhd's facts against files of known layout
// (the spec generator's), ChainDepth and ResolveParent on a chain, and
// SetHidden's byte 85 in both footers (or in a fixed disk's short footer).
#include "vhd/inspect.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
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

class InspectTest : public testutil::ChainFixture {
 protected:
  base::Env* env() { return base::Env::Default(); }
};

TEST_F(InspectTest, DynamicDiskFacts) {
  specvhd::Disk d;
  d.virtual_size = 10 << 20;  // five 2 MiB blocks
  d.blocks.resize(5);
  d.blocks[1].kind = specvhd::Block::Kind::kFull;
  d.blocks[3] = specvhd::PartialBlock(4096, {{0, 8}}, false);
  d.extra_bat_entries = 3;
  specvhd::Image img = specvhd::Build(d);
  testutil::WriteFile(P("d.vhd"), img.file);

  VhdInfo info;
  ASSERT_OK(InspectVhd(env(), P("d.vhd"), true, &info));
  EXPECT_EQ(info.type, DiskType::kDynamic);
  EXPECT_EQ(info.virtual_size, 10u << 20);
  EXPECT_EQ(info.file_size, img.file.size());
  EXPECT_EQ(info.block_size, 2u << 20);
  EXPECT_EQ(info.max_bat_entries, img.layout.max_table_entries);
  EXPECT_EQ(info.allocated_blocks, 2u);
  EXPECT_EQ(info.physical_size, img.file.size());  // ends with its footer
  EXPECT_FALSE(info.hidden);
  EXPECT_FALSE(info.footer_from_backup);
  EXPECT_EQ(0, std::memcmp(info.uuid.bytes.data(), img.uuid.data(), 16));
  EXPECT_TRUE(info.parent_uuid.IsNull());
  EXPECT_TRUE(info.parent_name.empty());

  // Without the BAT, the BAT's facts are left at zero.
  ASSERT_OK(InspectVhd(env(), P("d.vhd"), false, &info));
  EXPECT_EQ(info.allocated_blocks, 0u);
  EXPECT_EQ(info.physical_size, 0u);
  EXPECT_EQ(info.virtual_size, 10u << 20);
}

TEST_F(InspectTest, FooterFromBackupIsReported) {
  specvhd::Disk d;
  d.virtual_size = 4 << 20;
  d.footer = specvhd::FooterMode::kCorruptEof;
  testutil::WriteFile(P("b.vhd"), specvhd::Build(d).file);
  VhdInfo info;
  ASSERT_OK(InspectVhd(env(), P("b.vhd"), false, &info));
  EXPECT_TRUE(info.footer_from_backup);
  EXPECT_EQ(info.virtual_size, 4u << 20);
}

TEST_F(InspectTest, FixedDiskPhysicalSizeIsTheFileSize) {
  specvhd::Disk d;
  d.type = specvhd::Type::kFixed;
  d.virtual_size = 1 << 20;
  specvhd::Image img = specvhd::Build(d);
  testutil::WriteFile(P("f.vhd"), img.file);
  VhdInfo info;
  ASSERT_OK(InspectVhd(env(), P("f.vhd"), true, &info));
  EXPECT_EQ(info.type, DiskType::kFixed);
  EXPECT_EQ(info.physical_size, img.file.size());
  EXPECT_EQ(info.file_size, img.file.size());
  EXPECT_EQ(info.block_size, 0u);
}

TEST_F(InspectTest, ChainFactsDepthAndParent) {
  Create("base.vhd", 4 << 20);
  Snap("mid.vhd", "base.vhd");
  Snap("top.vhd", "mid.vhd");

  VhdInfo base_info, top;
  ASSERT_OK(InspectVhd(env(), P("mid.vhd"), false, &base_info));
  ASSERT_OK(InspectVhd(env(), P("top.vhd"), false, &top));
  EXPECT_EQ(top.type, DiskType::kDifferencing);
  EXPECT_EQ(top.parent_name, "mid.vhd");
  EXPECT_EQ(top.parent_uuid, base_info.uuid);

  int depth = 0;
  ASSERT_OK(ChainDepth(env(), P("top.vhd"), &depth));
  EXPECT_EQ(depth, 3);
  ASSERT_OK(ChainDepth(env(), P("base.vhd"), &depth));
  EXPECT_EQ(depth, 1);

  char* canon = realpath(P("mid.vhd").c_str(), nullptr);
  ASSERT_NE(canon, nullptr);
  std::string want = canon;
  free(canon);
  std::string parent;
  ASSERT_OK(ResolveParent(env(), P("top.vhd"), &parent));
  EXPECT_EQ(parent, want);

  ASSERT_EQ(0, std::remove(P("mid.vhd").c_str()));
  EXPECT_EQ(ResolveParent(env(), P("top.vhd"), &parent).code(),
            base::Code::kParentMissing);
  EXPECT_FALSE(ChainDepth(env(), P("top.vhd"), &depth).ok());
}

TEST_F(InspectTest, MissingAndCorruptFiles) {
  VhdInfo info;
  EXPECT_EQ(InspectVhd(env(), P("absent.vhd"), false, &info).code(),
            base::Code::kNotFound);
  testutil::WriteFile(P("junk.vhd"), testutil::RandomBytes(8192, 9));
  EXPECT_EQ(InspectVhd(env(), P("junk.vhd"), false, &info).code(),
            base::Code::kCorruption);
  EXPECT_EQ(SetHidden(env(), P("absent.vhd"), true).code(),
            base::Code::kNotFound);
}

TEST_F(InspectTest, SetHiddenWritesBothFooters) {
  Create("a.vhd", 4 << 20);
  ASSERT_OK(SetHidden(env(), P("a.vhd"), true));
  std::string bytes = testutil::ReadFile(P("a.vhd"));
  uint64_t eof = bytes.size() - kFooterSize;
  EXPECT_EQ(bytes[kHiddenByte], 1);
  EXPECT_EQ(bytes[eof + kHiddenByte], 1);
  EXPECT_EQ(bytes.substr(0, kFooterSize), bytes.substr(eof));
  // Sealed: the checksum covers the new flag.
  EXPECT_EQ(specvhd::GetBE32(bytes, eof + 64),
            specvhd::Checksum(bytes, eof, kFooterSize, 64));
  VhdInfo info;
  ASSERT_OK(InspectVhd(env(), P("a.vhd"), false, &info));
  EXPECT_TRUE(info.hidden);

  ASSERT_OK(SetHidden(env(), P("a.vhd"), false));
  bytes = testutil::ReadFile(P("a.vhd"));
  EXPECT_EQ(bytes[kHiddenByte], 0);
  EXPECT_EQ(bytes[bytes.size() - kFooterSize + kHiddenByte], 0);
}

TEST_F(InspectTest, SetHiddenOnAShortFixedFooter) {
  specvhd::Disk d;
  d.type = specvhd::Type::kFixed;
  d.virtual_size = 1 << 20;
  d.footer = specvhd::FooterMode::kShort511;
  specvhd::Image img = specvhd::Build(d);
  testutil::WriteFile(P("s.vhd"), img.file);
  ASSERT_OK(SetHidden(env(), P("s.vhd"), true));
  std::string bytes = testutil::ReadFile(P("s.vhd"));
  uint64_t at = img.file.size() - (kFooterSize - 1);
  EXPECT_EQ(bytes[at + kHiddenByte], 1);
  // The data before the footer is untouched.
  EXPECT_EQ(bytes.substr(0, at), img.file.substr(0, at));
  VhdInfo info;
  ASSERT_OK(InspectVhd(env(), P("s.vhd"), false, &info));
  EXPECT_TRUE(info.hidden);
}

}  // namespace
}  // namespace vhd
