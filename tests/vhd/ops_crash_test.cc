// Crash safety of the chain operations: for snapshot, coalesce, relink,
// resize and repair, a simulated crash (all further I/O stops) at every I/O
// call in turn; then recovery as an operator or the GC would do it (re-run
// the coalesce, revert the resize journal, re-run the relink or repair), and
// the chain must read exactly as before or after the operation and check
// clean. Prints the number of crash points covered per operation.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "base/fault_env.h"
#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/coalesce.h"
#include "vhd/create.h"
#include "vhd/modify.h"
#include "vhd/repair.h"
#include "vhd/resize.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class OpsCrashTest : public testutil::ChainFixture {
 protected:
  void ExpectValid(const std::string& n, const std::string& context) {
    CheckReport r;
    CheckOptions o;
    o.check_parents = true;
    base::Status s = CheckVhd(base::Env::Default(), P(n), o, &r);
    EXPECT_OK(s) << context << ": " << s.ToString();
  }
  // Snapshot of every regular file in the directory.
  std::map<std::string, std::string> SaveDir() {
    std::map<std::string, std::string> m;
    for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
      m[e.path().filename()] = testutil::ReadFile(e.path());
    }
    return m;
  }
  void RestoreDir(const std::map<std::string, std::string>& m) {
    for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
      if (!m.count(e.path().filename())) std::filesystem::remove(e.path());
    }
    for (auto& [name, data] : m) testutil::WriteFile(P(name), data);
  }

  // Runs `op` with a crash at every mutation; `recover` then runs with the
  // real Env; `verify` checks the result. Returns the number of points.
  int64_t CrashEverywhere(const std::function<base::Status(base::Env*)>& op,
                          const std::function<void()>& recover,
                          const std::function<void(int64_t)>& verify) {
    auto saved = SaveDir();
    base::FaultInjectionEnv counter(base::Env::Default());
    EXPECT_OK(op(&counter));
    int64_t n = counter.mutations();
    for (int64_t k = 0; k < n; ++k) {
      RestoreDir(saved);
      {
        base::FaultInjectionEnv fenv(base::Env::Default());
        fenv.CrashAt(k);
        // Only the last call (a temporary's cleanup) may be one whose
        // failure the operation rightly ignores.
        bool ok = op(&fenv).ok();
        EXPECT_FALSE(ok && k < n - 1) << "crash at " << k;
      }
      recover();
      verify(k);
      if (HasFailure()) break;
    }
    RestoreDir(saved);
    return n;
  }
};

TEST_F(OpsCrashTest, Snapshot) {
  Create("base.vhd", 8 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(3 * kMiB, 1));
  std::string view = View("base.vhd");
  for (NewFileDurability d :
       {NewFileDurability::kDurable, NewFileDurability::kOrdered}) {
    SnapshotParams sp;
    sp.durability = d;
    int64_t n = CrashEverywhere(
        [&](base::Env* e) {
          return CreateDifferencing(e, P("snap.vhd"), P("base.vhd"), sp);
        },
        [] {},
        [&](int64_t k) {
          EXPECT_EQ(View("base.vhd"), view) << k;
          if (testutil::FileExists(P("snap.vhd"))) {
            EXPECT_EQ(View("snap.vhd"), view) << k;
            ExpectValid("snap.vhd", "crash " + std::to_string(k));
          }
        });
    std::printf("[ crash    ] snapshot (%s): %lld crash points\n",
                d == NewFileDurability::kDurable ? "durable" : "ordered",
                static_cast<long long>(n));
  }
}

TEST_F(OpsCrashTest, Coalesce) {
  Create("base.vhd", 16 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(6 * kMiB, 1));
  Snap("child.vhd", "base.vhd");
  Write("child.vhd", 100, testutil::RandomBytes(5000, 2));
  Write("child.vhd", 4 * kMiB, testutil::RandomBytes(4 * kMiB, 3));
  Write("child.vhd", 13 * kMiB, testutil::RandomBytes(4096, 4));
  Snap("leaf.vhd", "child.vhd");
  Write("leaf.vhd", 5 * kMiB, testutil::RandomBytes(777, 5));
  std::string leaf_view = View("leaf.vhd");
  std::string child_view = View("child.vhd");
  CoalesceOptions o;
  o.checkpoint_bytes = 2 * kMiB;
  int64_t n = CrashEverywhere(
      [&](base::Env* e) {
        CoalesceResult r;
        return Coalesce(e, P("child.vhd"), o, &r);
      },
      [&] {
        // The chain reads the same before recovery, too.
        EXPECT_EQ(View("leaf.vhd"), leaf_view);
        CoalesceResult r;
        EXPECT_OK(Coalesce(base::Env::Default(), P("child.vhd"), o, &r));
      },
      [&](int64_t k) {
        EXPECT_EQ(View("leaf.vhd"), leaf_view) << k;
        EXPECT_EQ(View("base.vhd"), child_view) << k;
        ExpectValid("leaf.vhd", "crash " + std::to_string(k));
      });
  std::printf("[ crash    ] coalesce: %lld crash points\n",
              static_cast<long long>(n));
}

TEST_F(OpsCrashTest, Relink) {
  // base <- mid <- leaf; coalesce mid into base, then relink leaf to base.
  Create("base.vhd", 8 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(4 * kMiB, 1));
  Snap("mid.vhd", "base.vhd");
  Write("mid.vhd", kMiB, testutil::RandomBytes(5000, 2));
  Snap("leaf.vhd", "mid.vhd");
  Write("leaf.vhd", 2 * kMiB, testutil::RandomBytes(300, 3));
  CoalesceResult r;
  ASSERT_OK(
      Coalesce(base::Env::Default(), P("mid.vhd"), CoalesceOptions(), &r));
  std::string view = View("leaf.vhd");
  RelinkOptions ro;
  int64_t n = CrashEverywhere(
      [&](base::Env* e) { return Relink(e, P("leaf.vhd"), P("base.vhd"), ro); },
      [&] {
        EXPECT_EQ(View("leaf.vhd"), view);
        EXPECT_OK(
            Relink(base::Env::Default(), P("leaf.vhd"), P("base.vhd"), ro));
      },
      [&](int64_t k) {
        EXPECT_EQ(View("leaf.vhd"), view) << k;
        std::unique_ptr<Chain> c;
        ASSERT_OK(Chain::Open(P("leaf.vhd"), ChainOptions(), &c));
        EXPECT_EQ(c->depth(), 2u) << k;
        ExpectValid("leaf.vhd", "crash " + std::to_string(k));
      });
  std::printf("[ crash    ] relink: %lld crash points\n",
              static_cast<long long>(n));
}

TEST_F(OpsCrashTest, ResizeJournaled) {
  Create("base.vhd", 4 * kMiB);  // BAT of 2 entries: must grow
  Write("base.vhd", 0, testutil::RandomBytes(4 * kMiB, 1));
  Snap("leaf.vhd", "base.vhd");
  Write("leaf.vhd", 3000, testutil::RandomBytes(3000, 2));
  std::string before = View("leaf.vhd");
  std::string after = before + std::string(600 * kMiB, '\0');
  std::string journal = P("resize.journal");
  int64_t n = CrashEverywhere(
      [&](base::Env* e) {
        return ResizeJournaled(e, P("leaf.vhd"), 604 * kMiB, journal);
      },
      [&] {
        if (testutil::FileExists(journal)) {
          EXPECT_OK(RevertResize(base::Env::Default(), P("leaf.vhd"), journal));
        }
      },
      [&](int64_t k) {
        std::string v = View("leaf.vhd");
        EXPECT_TRUE(v == before || v == after)
            << "crash " << k << ": " << v.substr(0, 80);
        ExpectValid("leaf.vhd", "crash " + std::to_string(k));
      });
  std::printf("[ crash    ] resize: %lld crash points\n",
              static_cast<long long>(n));
  // And the resize itself, done: grown, data in place, writable beyond.
  ASSERT_OK(ResizeJournaled(base::Env::Default(), P("leaf.vhd"), 604 * kMiB,
                            journal));
  EXPECT_FALSE(testutil::FileExists(journal));
  EXPECT_EQ(View("leaf.vhd"), after);
  Write("leaf.vhd", 600 * kMiB, "tail");
  EXPECT_EQ(View("leaf.vhd").substr(600 * kMiB, 4), "tail");
  ExpectValid("leaf.vhd", "after resize");
}

TEST_F(OpsCrashTest, Repair) {
  Create("base.vhd", 8 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(5 * kMiB, 1));
  std::string view = View("base.vhd");
  // Damage the EOF footer.
  std::string d = testutil::ReadFile(P("base.vhd"));
  d[d.size() - 100] ^= 0x5a;
  testutil::WriteFile(P("base.vhd"), d);
  RepairOptions ro;
  int64_t n = CrashEverywhere(
      [&](base::Env* e) {
        bool changed = false;
        return RepairVhd(e, P("base.vhd"), ro, &changed);
      },
      [&] {
        EXPECT_EQ(View("base.vhd"), view);
        bool changed = false;
        EXPECT_OK(RepairVhd(base::Env::Default(), P("base.vhd"), ro, &changed));
      },
      [&](int64_t k) {
        EXPECT_EQ(View("base.vhd"), view) << k;
        ExpectValid("base.vhd", "crash " + std::to_string(k));
      });
  std::printf("[ crash    ] repair: %lld crash points\n",
              static_cast<long long>(n));
}

}  // namespace
}  // namespace vhd
