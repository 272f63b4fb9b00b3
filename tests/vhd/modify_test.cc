// Tests of vhd/modify.h (relink, kill data, physical size) and repair.
#include "vhd/modify.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/coalesce.h"
#include "vhd/create.h"
#include "vhd/inspect.h"
#include "vhd/repair.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class ModifyTest : public testutil::ChainFixture {
 protected:
  base::Status Check(const std::string& n) {
    CheckReport r;
    return CheckVhd(base::Env::Default(), P(n), CheckOptions(), &r);
  }
};

// Sets locator `i`'s data_space (and, when given, data_offset) of a
// differencing disk, re-sealing the header.
void SetLocator(const std::string& path, int i, uint32_t space,
                uint64_t offset = 0) {
  std::string d = testutil::ReadFile(path);
  auto* u = reinterpret_cast<uint8_t*>(d.data());
  DynamicHeader h = DynamicHeader::Decode(u + 512);
  h.loc[i].data_space = space;
  if (offset != 0) h.loc[i].data_offset = offset;
  h.Seal();
  h.Encode(u + 512);
  testutil::WriteFile(path, d);
}

// Defect: a locator's data_space of 1 GiB made relink allocate 1 GiB and
// grow the child to it. Every slot is now bounded first: a clean error, and
// the file unchanged, from the library and from vhdsm-util modify -p / -z.
TEST_F(ModifyTest, RelinkRefusesHostileLocatorSpace) {
  Create("a.vhd", 8 * kMiB);
  Create("b.vhd", 8 * kMiB);
  Snap("c.vhd", "a.vhd");
  struct Case {
    uint32_t space;
    uint64_t offset;
  };
  for (const Case& k : {Case{1u << 30, 0}, Case{513, 0}, Case{511, 0},
                        Case{512, 1ull << 40}, Case{512, 1024}}) {
    SetLocator(P("c.vhd"), 0, k.space, k.offset);
    const std::string before = testutil::ReadFile(P("c.vhd"));
    base::Status s =
        Relink(base::Env::Default(), P("c.vhd"), P("b.vhd"), RelinkOptions());
    EXPECT_EQ(s.code(), base::Code::kCorruption)
        << k.space << ": " << s.ToString();
    EXPECT_NE(s.message().find("parent locator 0"), std::string::npos);
    EXPECT_EQ(testutil::ReadFile(P("c.vhd")), before);
    s = KillData(base::Env::Default(), P("c.vhd"));
    EXPECT_EQ(s.code(), base::Code::kCorruption) << s.ToString();
    EXPECT_EQ(testutil::ReadFile(P("c.vhd")), before);
    testutil::RunResult r =
        testutil::Run({testutil::Built("bin/vhdsm-util"), "modify", "-p",
                       P("b.vhd"), "-n", P("c.vhd")});
    EXPECT_GT(r.exit_code, 0) << r.err;
    EXPECT_EQ(testutil::ReadFile(P("c.vhd")), before);
  }
}

TEST_F(ModifyTest, RelinkAfterCoalesceKeepsTheView) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 0, testutil::RandomBytes(8 * kMiB, 1));
  Snap("b.vhd", "a.vhd");
  Write("b.vhd", 12345, testutil::RandomBytes(9999, 2));
  Snap("c.vhd", "b.vhd");
  Write("c.vhd", 3 * kMiB, testutil::RandomBytes(4096, 3));
  std::string view = View("c.vhd");
  CoalesceResult cr;
  ASSERT_OK(Coalesce(base::Env::Default(), P("b.vhd"), CoalesceOptions(), &cr));
  RelinkOptions o;
  o.check_content = true;  // a's content now equals b's view: allowed
  ASSERT_OK(Relink(base::Env::Default(), P("c.vhd"), P("a.vhd"), o));
  std::string parent;
  ASSERT_OK(ResolveParent(base::Env::Default(), P("c.vhd"), &parent));
  EXPECT_EQ(parent, P("a.vhd"));
  EXPECT_EQ(View("c.vhd"), view);
  EXPECT_OK(Check("c.vhd"));
  std::remove(P("b.vhd").c_str());  // b is no longer needed
  EXPECT_EQ(View("c.vhd"), view);
}

TEST_F(ModifyTest, RelinkCheckRefusesDifferentContent) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 0, "AAAA");
  Create("other.vhd", 8 * kMiB);
  Write("other.vhd", 0, "BBBB");
  Snap("c.vhd", "a.vhd");
  RelinkOptions o;
  o.check_content = true;
  EXPECT_EQ(Relink(base::Env::Default(), P("c.vhd"), P("other.vhd"), o).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(View("c.vhd").substr(0, 4), "AAAA");  // unchanged
  // Where the child covers the difference, the check passes.
  Write("c.vhd", 0, "CCCC");
  EXPECT_OK(Relink(base::Env::Default(), P("c.vhd"), P("other.vhd"), o));
  EXPECT_EQ(View("c.vhd").substr(0, 4), "CCCC");
  // Without the check, any parent is accepted.
  o.check_content = false;
  EXPECT_OK(Relink(base::Env::Default(), P("c.vhd"), P("a.vhd"), o));
}

TEST_F(ModifyTest, RelinkPathMustFitTheLocators) {
  Create("a.vhd", 4 * kMiB);
  Snap("c.vhd", "a.vhd");
  // A parent 300+ characters away: more than the 512-byte UTF-16 slots hold.
  std::string rel;
  for (int i = 0; i < 6; ++i) {
    rel += std::string(50, 'd' + i) + "/";
    std::filesystem::create_directory(P(rel));
  }
  Create(rel + "p.vhd", 4 * kMiB);
  base::Status s = Relink(base::Env::Default(), P("c.vhd"), P(rel + "p.vhd"),
                          RelinkOptions());
  EXPECT_EQ(s.code(), base::Code::kNameTooLong);
  EXPECT_OK(Check("c.vhd"));  // nothing was changed
}

TEST_F(ModifyTest, KillDataDropsEveryBlock) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 0, testutil::RandomBytes(8 * kMiB, 1));
  ASSERT_OK(KillData(base::Env::Default(), P("a.vhd")));
  EXPECT_EQ(View("a.vhd"), std::string(8 * kMiB, '\0'));
  EXPECT_EQ(testutil::FileSize(P("a.vhd")), 3584u);
  EXPECT_OK(Check("a.vhd"));
}

TEST_F(ModifyTest, PhysicalSizeMovesTheFooterOut) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 0, "x");
  VhdInfo info;
  ASSERT_OK(InspectVhd(base::Env::Default(), P("a.vhd"), true, &info));
  EXPECT_EQ(SetPhysicalSize(base::Env::Default(), P("a.vhd"),
                            info.physical_size - 512)
                .code(),
            base::Code::kInvalidArgument);
  ASSERT_OK(SetPhysicalSize(base::Env::Default(), P("a.vhd"), 64 * kMiB));
  EXPECT_EQ(testutil::FileSize(P("a.vhd")), 64 * kMiB);
  EXPECT_EQ(View("a.vhd").substr(0, 1), "x");
  Write("a.vhd", 4 * kMiB, "y");  // allocates inside the reserved room
  EXPECT_EQ(testutil::FileSize(P("a.vhd")), 64 * kMiB);
  EXPECT_EQ(View("a.vhd").substr(4 * kMiB, 1), "y");
}

TEST_F(ModifyTest, RepairRebuildsTheEofFooterAndTheBatmap) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 0, testutil::RandomBytes(2 * kMiB, 1));
  std::string view = View("a.vhd");
  std::string d = testutil::ReadFile(P("a.vhd"));
  std::string good = d;
  d.resize(d.size() - 300);  // EOF footer torn off
  d[2560] ^= 0x80;           // and the batmap made stale
  testutil::WriteFile(P("a.vhd"), d);
  EXPECT_FALSE(Check("a.vhd").ok());
  bool changed = false;
  ASSERT_OK(
      RepairVhd(base::Env::Default(), P("a.vhd"), RepairOptions(), &changed));
  EXPECT_TRUE(changed);
  EXPECT_OK(Check("a.vhd"));
  EXPECT_EQ(View("a.vhd"), view);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), good);
  ASSERT_OK(
      RepairVhd(base::Env::Default(), P("a.vhd"), RepairOptions(), &changed));
  EXPECT_FALSE(changed);  // nothing left to repair
}

TEST_F(ModifyTest, RepairRegeneratesANullUuid) {
  Create("a.vhd", 4 * kMiB);
  std::string d = testutil::ReadFile(P("a.vhd"));
  auto* u = reinterpret_cast<uint8_t*>(d.data());
  Footer f = Footer::Decode(u);
  f.uuid = Uuid();
  f.Seal();
  f.Encode(u);
  f.Encode(u + d.size() - 512);
  testutil::WriteFile(P("a.vhd"), d);
  bool changed = false;
  ASSERT_OK(
      RepairVhd(base::Env::Default(), P("a.vhd"), RepairOptions(), &changed));
  VhdInfo info;
  ASSERT_OK(InspectVhd(base::Env::Default(), P("a.vhd"), false, &info));
  EXPECT_FALSE(info.uuid.IsNull());
  EXPECT_OK(Check("a.vhd"));
}

}  // namespace
}  // namespace vhd
