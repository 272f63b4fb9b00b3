// Tests of vhd/coalesce.h: the parent ends up holding the chain's view, the
// child is untouched, grows the parent when needed, resumes from its
// journal, and is idempotent.
#include "vhd/coalesce.h"

#include <gtest/gtest.h>

#include "base/fault_env.h"
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

class CoalesceTest : public testutil::ChainFixture {
 protected:
  bool Valid(const std::string& n) {
    CheckReport r;
    CheckOptions o;
    o.check_data = true;
    base::Status s = CheckVhd(base::Env::Default(), P(n), o, &r);
    EXPECT_OK(s) << n << ": " << s.ToString();
    return s.ok();
  }
};

TEST_F(CoalesceTest, ParentBecomesTheChainViewChildUntouched) {
  Create("base.vhd", 16 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(10 * kMiB, 1));
  Snap("child.vhd", "base.vhd");
  Write("child.vhd", 3, testutil::RandomBytes(700, 2));              // partial
  Write("child.vhd", 4 * kMiB, testutil::RandomBytes(2 * kMiB, 3));  // full
  Write("child.vhd", 12 * kMiB + 512, testutil::RandomBytes(9000, 4));  // new
  Snap("leaf.vhd", "child.vhd");
  Write("leaf.vhd", 5 * kMiB, testutil::RandomBytes(100, 5));
  std::string view = Read("leaf.vhd");
  std::string child_view = Read("child.vhd");
  std::string child_bytes = testutil::ReadFile(P("child.vhd"));
  CoalesceResult r;
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child.vhd"), CoalesceOptions(), &r));
  EXPECT_EQ(r.parent, P("base.vhd"));
  EXPECT_FALSE(r.resumed);
  // 700 bytes at 3 -> sectors 0..1; 2 MiB; 9000 bytes at +512 -> 18 sectors.
  EXPECT_EQ(r.sectors, 2u + 4096u + 18u);
  EXPECT_EQ(Read("base.vhd"), child_view);
  EXPECT_EQ(Read("leaf.vhd"), view);
  EXPECT_EQ(testutil::ReadFile(P("child.vhd")), child_bytes);
  EXPECT_FALSE(testutil::FileExists(CoalesceJournalPath(P("base.vhd"))));
  EXPECT_TRUE(Valid("base.vhd"));
  // Idempotent.
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child.vhd"), CoalesceOptions(), &r));
  EXPECT_EQ(Read("base.vhd"), child_view);
  EXPECT_TRUE(Valid("base.vhd"));
}

TEST_F(CoalesceTest, GrowsASmallerParentFirst) {
  Create("base.vhd", 4 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(4 * kMiB, 1));
  Snap("child.vhd", "base.vhd", 300 * kMiB);  // larger than its parent
  Write("child.vhd", 290 * kMiB, testutil::RandomBytes(kMiB, 2));
  std::string view = Read("child.vhd");
  CoalesceResult r;
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child.vhd"), CoalesceOptions(), &r));
  std::string base = Read("base.vhd");
  EXPECT_EQ(base.size(), view.size());
  EXPECT_EQ(base, view);
  EXPECT_TRUE(Valid("base.vhd"));
  EXPECT_TRUE(Valid("child.vhd"));
}

// grow_parent_only: the parent takes the child's size and nothing else
// changes (its data stays, nothing is copied, no journal is left); the
// merge that follows has nothing left to grow.
TEST_F(CoalesceTest, GrowParentOnlyGrowsAndCopiesNothing) {
  Create("base.vhd", 4 * kMiB);
  std::string data = testutil::RandomBytes(4 * kMiB, 1);
  Write("base.vhd", 0, data);
  Snap("child.vhd", "base.vhd", 64 * kMiB);
  Write("child.vhd", 40 * kMiB, testutil::RandomBytes(kMiB, 2));
  std::string view = Read("child.vhd");
  CoalesceOptions grow;
  grow.grow_parent_only = true;
  CoalesceResult r;
  ASSERT_OK(Coalesce(base::Env::Default(), P("child.vhd"), grow, &r));
  EXPECT_EQ(r.sectors, 0u);
  std::string base = Read("base.vhd");
  ASSERT_EQ(base.size(), 64 * kMiB);
  EXPECT_EQ(base.substr(0, data.size()), data);
  EXPECT_EQ(base.substr(data.size()), std::string(60 * kMiB, '\0'));
  EXPECT_FALSE(testutil::FileExists(CoalesceJournalPath(P("base.vhd"))));
  EXPECT_FALSE(
      testutil::FileExists(CoalesceJournalPath(P("base.vhd")) + ".resize"));
  EXPECT_TRUE(Valid("base.vhd"));
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child.vhd"), CoalesceOptions(), &r));
  EXPECT_EQ(Read("base.vhd"), view);
}

// A locator may name any file: coalescing writes only into a VHD parent.
TEST_F(CoalesceTest, RefusesRawParent) {
  std::string raw = testutil::RandomBytes(4 * kMiB, 1);
  testutil::WriteFile(P("base.raw"), raw);
  SnapshotParams sp;
  sp.raw_parent = true;
  ASSERT_OK(
      CreateDifferencing(base::Env::Default(), P("c.vhd"), P("base.raw"), sp));
  Write("c.vhd", 1000, "hello");
  std::string view = Read("c.vhd");
  CoalesceResult r;
  base::Status s =
      Coalesce(base::Env::Default(), P("c.vhd"), CoalesceOptions(), &r);
  EXPECT_EQ(s.code(), base::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("raw parent"), std::string::npos);
  EXPECT_EQ(testutil::ReadFile(P("base.raw")), raw);
  EXPECT_FALSE(testutil::FileExists(CoalesceJournalPath(P("base.raw"))));
  EXPECT_EQ(Read("c.vhd"), view);  // reading still follows the locator
}

TEST_F(CoalesceTest, RefusesNonDifferencing) {
  Create("base.vhd", 4 * kMiB);
  CoalesceResult r;
  EXPECT_EQ(Coalesce(base::Env::Default(), P("base.vhd"), CoalesceOptions(), &r)
                .code(),
            base::Code::kInvalidArgument);
}

TEST_F(CoalesceTest, ResumesFromItsJournal) {
  Create("base.vhd", 64 * kMiB);
  Snap("child.vhd", "base.vhd");
  for (int i = 0; i < 16; ++i) {
    Write("child.vhd", i * 4 * kMiB, testutil::RandomBytes(2 * kMiB, i));
  }
  std::string view = Read("child.vhd");
  // Stop after a checkpoint: the journal records progress.
  CoalesceOptions o;
  o.checkpoint_bytes = 4 * kMiB;
  base::FaultInjectionEnv count(base::Env::Default());
  CoalesceResult r;
  {
    // Find a crash point after the 3rd checkpoint by counting mutations.
    std::string base0 = testutil::ReadFile(P("base.vhd"));
    ASSERT_OK(Coalesce(&count, P("child.vhd"), o, &r));
    testutil::WriteFile(P("base.vhd"), base0);
  }
  base::FaultInjectionEnv fenv(base::Env::Default());
  fenv.CrashAt(count.mutations() * 2 / 3);
  EXPECT_FALSE(Coalesce(&fenv, P("child.vhd"), o, &r).ok());
  ASSERT_TRUE(testutil::FileExists(CoalesceJournalPath(P("base.vhd"))));
  ASSERT_OK(Coalesce(base::Env::Default(), P("child.vhd"), o, &r));
  EXPECT_TRUE(r.resumed);
  EXPECT_GT(r.first_block, 0u);
  EXPECT_LT(r.sectors, 16u * 4096);  // did not start over
  EXPECT_EQ(Read("base.vhd"), view);
  EXPECT_TRUE(Valid("base.vhd"));
}

TEST_F(CoalesceTest, RerunRemovesTheJournalTempOfAKilledRun) {
  Create("base.vhd", 8 * kMiB);
  Snap("child.vhd", "base.vhd");
  Write("child.vhd", 0, testutil::RandomBytes(kMiB, 3));
  std::string view = Read("child.vhd");
  std::string journal = CoalesceJournalPath(P("base.vhd"));
  // Crash at the sync of the journal's first temporary copy.
  std::string base0 = testutil::ReadFile(P("base.vhd"));
  base::FaultInjectionEnv count(base::Env::Default());
  CoalesceResult r;
  ASSERT_OK(Coalesce(&count, P("child.vhd"), CoalesceOptions(), &r));
  testutil::WriteFile(P("base.vhd"), base0);
  int64_t first_sync = -1;
  for (size_t i = 0; i < count.history().size(); ++i) {
    if (count.history()[i].rfind("sync " + journal + ".tmp.", 0) == 0) {
      first_sync = static_cast<int64_t>(i);
      break;
    }
  }
  ASSERT_GE(first_sync, 0);
  base::FaultInjectionEnv fenv(base::Env::Default());
  fenv.CrashAt(first_sync);
  EXPECT_FALSE(Coalesce(&fenv, P("child.vhd"), CoalesceOptions(), &r).ok());
  auto temps = [&] {
    std::vector<std::string> names, out;
    EXPECT_OK(base::Env::Default()->ListDir(dir_.path(), &names));
    for (const std::string& n : names) {
      if (n.find(".coalesce.tmp.") != std::string::npos) out.push_back(n);
    }
    return out;
  };
  ASSERT_EQ(temps().size(), 1u);  // what the killed run left
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child.vhd"), CoalesceOptions(), &r));
  EXPECT_TRUE(temps().empty());
  EXPECT_FALSE(testutil::FileExists(journal));
  EXPECT_EQ(Read("base.vhd"), view);
  // Another file that merely looks alike is not ours: kept.
  testutil::WriteFile(P("other.vhd.coalesce.tmp.1.0"), "x");
  Snap("child2.vhd", "base.vhd");
  Write("child2.vhd", 0, "y");
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("child2.vhd"), CoalesceOptions(), &r));
  EXPECT_TRUE(testutil::FileExists(P("other.vhd.coalesce.tmp.1.0")));
}

TEST_F(CoalesceTest, ProgressReportsBytesAndBlocks) {
  Create("base.vhd", 16 * kMiB);
  Snap("child.vhd", "base.vhd");
  Write("child.vhd", 0, testutil::RandomBytes(3 * kMiB, 1));
  CoalesceOptions o;
  std::vector<CoalesceProgress> seen;
  o.progress = [&](const CoalesceProgress& p) { seen.push_back(p); };
  CoalesceResult r;
  ASSERT_OK(Coalesce(base::Env::Default(), P("child.vhd"), o, &r));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().bytes_done, 3 * kMiB);
  EXPECT_EQ(seen.back().bytes_total, 3 * kMiB);
  EXPECT_EQ(seen.back().blocks_done, seen.back().blocks_total);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].bytes_done, seen[i - 1].bytes_done);
  }
}

}  // namespace
}  // namespace vhd
