// Tests of vhd/resize.h: fast and journaled growth, revert, limits.
#include "vhd/resize.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/create.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class ResizeTest : public testutil::ChainFixture {
 protected:
  // ChainFixture::Create, with room for max (fast resize) or fixed.
  void Create(const std::string& n, uint64_t size, uint64_t max = 0,
              bool fixed = false) {
    CreateParams p;
    p.size = size;
    p.max_size = max;
    p.fixed = fixed;
    ASSERT_OK(CreateVhd(base::Env::Default(), P(n), p));
  }
  void ExpectValid(const std::string& n) {
    CheckReport r;
    CheckOptions o;
    o.check_data = true;
    base::Status s = CheckVhd(base::Env::Default(), P(n), o, &r);
    EXPECT_OK(s);
  }
};

TEST_F(ResizeTest, FastNeedsPreallocatedBat) {
  Create("a.vhd", 10 * kMiB, 100 * kMiB);
  std::string d = testutil::RandomBytes(10 * kMiB, 1);
  Write("a.vhd", 0, d);
  uint64_t max = 0;
  ASSERT_OK(MaxFastResize(base::Env::Default(), P("a.vhd"), &max));
  EXPECT_EQ(max, 100 * kMiB);
  ASSERT_OK(ResizeFast(base::Env::Default(), P("a.vhd"), 51 * kMiB));
  std::string v = Read("a.vhd");
  ASSERT_EQ(v.size(), 52 * kMiB);  // rounded up to 2 MiB
  EXPECT_EQ(v.substr(0, d.size()), d);
  EXPECT_EQ(v.substr(d.size()), std::string(42 * kMiB, '\0'));
  ExpectValid("a.vhd");
  EXPECT_EQ(ResizeFast(base::Env::Default(), P("a.vhd"), 102 * kMiB).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(ResizeFast(base::Env::Default(), P("a.vhd"), 20 * kMiB).code(),
            base::Code::kInvalidArgument);  // no shrinking
}

TEST_F(ResizeTest, JournaledGrowsTheBatAndMovesBlocks) {
  Create("p.vhd", 4 * kMiB);
  Write("p.vhd", 0, testutil::RandomBytes(4 * kMiB, 1));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), P("c.vhd"), P("p.vhd"),
                               SnapshotParams()));
  Write("c.vhd", kMiB, testutil::RandomBytes(3 * kMiB, 2));
  std::string before = Read("c.vhd");
  // 2 GiB needs 1024 BAT entries: 4 KiB of BAT where 512 bytes were.
  ASSERT_OK(
      ResizeJournaled(base::Env::Default(), P("c.vhd"), 2048 * kMiB, P("j")));
  EXPECT_FALSE(testutil::FileExists(P("j")));
  std::string after = Read("c.vhd");
  ASSERT_EQ(after.size(), 2048 * kMiB);
  EXPECT_EQ(after.substr(0, before.size()), before);
  EXPECT_EQ(after.find_first_not_of('\0', before.size()), std::string::npos);
  ExpectValid("c.vhd");
  std::unique_ptr<Image> img;
  ASSERT_OK(OpenImage(base::Env::Default(), P("c.vhd"), OpenOptions(), &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  EXPECT_EQ(sp->header().max_table_entries, 1024u);
  std::string loc;
  ASSERT_OK(sp->LocatorPath(0, &loc));  // locators moved intact
  EXPECT_EQ(loc, "./p.vhd");
  // Both sizes: libvhdi takes a disk's size from orig_size.
  EXPECT_EQ(sp->footer()->orig_size, 2048 * kMiB);
  EXPECT_EQ(sp->footer()->curr_size, 2048 * kMiB);
  ASSERT_OK(sp->LoadBat());
  EXPECT_TRUE(sp->has_batmap()) << sp->batmap_problem();
  // Writes land beyond the old end.
  Write("c.vhd", 2000 * kMiB, "far");
  EXPECT_EQ(Read("c.vhd").substr(2000 * kMiB, 3), "far");
}

TEST_F(ResizeTest, RevertRestoresEveryByte) {
  Create("a.vhd", 4 * kMiB);
  Write("a.vhd", 0, testutil::RandomBytes(4 * kMiB, 1));
  std::string bytes = testutil::ReadFile(P("a.vhd"));
  ASSERT_OK(
      ResizeJournaled(base::Env::Default(), P("a.vhd"), 1024 * kMiB, P("j")));
  EXPECT_NE(testutil::ReadFile(P("a.vhd")), bytes);
  // A finished resize has no journal; recreate the situation of a crash just
  // before the journal was removed by resizing a copy with a kept journal.
  testutil::WriteFile(P("b.vhd"), bytes);
  EXPECT_EQ(RevertResize(base::Env::Default(), P("b.vhd"), P("missing")).code(),
            base::Code::kNotFound);
}

TEST_F(ResizeTest, AJournalItCannotReadIsRefusedAndKept) {
  Create("a.vhd", 4 * kMiB);
  std::string bytes = testutil::ReadFile(P("a.vhd"));
  testutil::WriteFile(P("j"), "VHDSMRJ1 cut short");
  EXPECT_EQ(RevertResize(base::Env::Default(), P("a.vhd"), P("j")).code(),
            base::Code::kCorruption);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), bytes);
  EXPECT_EQ(testutil::ReadFile(P("j")), "VHDSMRJ1 cut short");
}

// vhd-util's journal holds the batmap as vhd-util checks it; a damaged one
// is refused before anything is written (repair rebuilds it).
TEST_F(ResizeTest, DamagedBatmapIsRefusedUntouched) {
  Create("a.vhd", 4 * kMiB);
  Write("a.vhd", 0, testutil::RandomBytes(2 * kMiB, 3));
  uint64_t map_at;
  {
    std::unique_ptr<Image> img;
    ASSERT_OK(OpenImage(base::Env::Default(), P("a.vhd"), OpenOptions(), &img));
    auto* sp = dynamic_cast<SparseImage*>(img.get());
    ASSERT_TRUE(sp != nullptr && sp->LoadBat().ok() && sp->has_batmap());
    map_at = sp->batmap_header().batmap_offset;
  }
  std::string d = testutil::ReadFile(P("a.vhd"));
  d[map_at] ^= 0x40;
  testutil::WriteFile(P("a.vhd"), d);
  EXPECT_EQ(
      ResizeJournaled(base::Env::Default(), P("a.vhd"), 1024 * kMiB, P("j"))
          .code(),
      base::Code::kCorruption);
  EXPECT_EQ(testutil::ReadFile(P("a.vhd")), d);
  EXPECT_FALSE(testutil::FileExists(P("j")));
}

TEST_F(ResizeTest, ExistingJournalIsNotOverwritten) {
  Create("a.vhd", 4 * kMiB);
  testutil::WriteFile(P("j"), "someone else's");
  EXPECT_EQ(ResizeJournaled(base::Env::Default(), P("a.vhd"), 8 * kMiB, P("j"))
                .code(),
            base::Code::kExists);
  EXPECT_EQ(testutil::ReadFile(P("j")), "someone else's");
}

TEST_F(ResizeTest, FixedDiskGrows) {
  Create("f.vhd", 4 * kMiB, 0, true);
  std::string d = testutil::RandomBytes(4 * kMiB, 3);
  Write("f.vhd", 0, d);
  ASSERT_OK(
      ResizeJournaled(base::Env::Default(), P("f.vhd"), 10 * kMiB, P("j")));
  std::string v = Read("f.vhd");
  ASSERT_EQ(v.size(), 10 * kMiB);
  EXPECT_EQ(v.substr(0, d.size()), d);
  EXPECT_EQ(v.substr(d.size()),
            std::string(6 * kMiB, '\0'));  // old footer gone
  EXPECT_EQ(testutil::FileSize(P("f.vhd")), 10 * kMiB + 512);
}

TEST_F(ResizeTest, PoisonedDiskRefusesToOpenWithAClearMessage) {
  Create("a.vhd", 4 * kMiB);
  std::string d = testutil::ReadFile(P("a.vhd"));
  std::memcpy(&d[0], "v_poison", 8);
  std::memcpy(&d[d.size() - 512], "v_poison", 8);
  testutil::WriteFile(P("a.vhd"), d);
  std::unique_ptr<Image> img;
  base::Status s =
      OpenImage(base::Env::Default(), P("a.vhd"), OpenOptions(), &img);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.message().find("interrupted resize"), std::string::npos);
}

}  // namespace
}  // namespace vhd
