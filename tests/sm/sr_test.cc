// Tests of sm/sr.h: FileSR semantics on a directory, recovery of
// interrupted snapshots, and the GC.
#include "sm/sr.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/fault_env.h"
#include "tests/sm/sr_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"
#include "vhd/inspect.h"
#include "vhd/resize.h"

namespace vhdsm {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class SrTest : public SrFixture {
 protected:
  std::string NewVdi(uint64_t size) {
    Vdi v;
    VdiMeta m;
    m.name_label = "disk";
    EXPECT_OK(sr_->CreateVdi(size, m, "", &v));
    return v.uuid;
  }
  void ExpectAllValid() {
    std::map<std::string, Vdi> vdis;
    ASSERT_OK(sr_->Scan(&vdis));
    for (auto& [uuid, v] : vdis) {
      vhd::CheckReport r;
      base::Status s =
          vhd::CheckVhd(base::Env::Default(), v.path, vhd::CheckOptions(), &r);
      EXPECT_OK(s) << uuid << ": " << s.ToString();
    }
  }
};

TEST_F(SrTest, CreateRoundsSizeAndRefusesBadInput) {
  Vdi v;
  VdiMeta m;
  ASSERT_OK(sr_->CreateVdi(5 * kMiB + 1, m, "", &v));
  EXPECT_EQ(v.virtual_size, 6 * kMiB);
  EXPECT_EQ(v.path, dir_.Join(v.uuid + ".vhd"));
  ASSERT_OK(sr_->CreateVdi(1, m, "", &v));
  EXPECT_EQ(v.virtual_size, 2 * kMiB);
  EXPECT_EQ(sr_->CreateVdi(2041ull << 30, m, "", &v).code(),
            base::Code::kTooLarge);
  EXPECT_EQ(sr_->CreateVdi(kMiB, m, "../../etc/passwd", &v).code(),
            base::Code::kInvalidArgument);
  std::string u = "0b6f7a5c-1b2a-4c3d-8e9f-0123456789ab";
  ASSERT_OK(sr_->CreateVdi(kMiB, m, u, &v));
  EXPECT_EQ(sr_->CreateVdi(kMiB, m, u, &v).code(), base::Code::kExists);
  EXPECT_EQ(sr_->GetVdi("not-a-uuid", &v).code(), base::Code::kInvalidArgument);
  EXPECT_EQ(sr_->GetVdi("0b6f7a5c-1b2a-4c3d-8e9f-000000000000", &v).code(),
            base::Code::kNotFound);
}

TEST_F(SrTest, SymlinkedVdiIsRefused) {
  std::string u = "0b6f7a5c-1b2a-4c3d-8e9f-0123456789ab";
  testutil::WriteFile(dir_.Join("elsewhere"), "x");
  std::filesystem::create_symlink(dir_.Join("elsewhere"),
                                  dir_.Join(u + ".vhd"));
  Vdi v;
  EXPECT_EQ(sr_->GetVdi(u, &v).code(), base::Code::kInvalidArgument);
  EXPECT_EQ(sr_->DeleteVdi(u).code(), base::Code::kInvalidArgument);
  EXPECT_TRUE(testutil::FileExists(dir_.Join("elsewhere")));
}

TEST_F(SrTest, DoubleSnapshotMakesBaseCopyAndTwoLeaves) {
  std::string a = NewVdi(16 * kMiB);
  std::string data = testutil::RandomBytes(3 * kMiB, 1);
  Write(a, 0, data);
  std::string before = View(a);
  Vdi snap;
  VdiMeta m;
  m.name_label = "snap";
  m.is_a_snapshot = true;
  m.snapshot_of = a;
  ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kDouble, m, &snap));
  std::map<std::string, Vdi> vdis;
  ASSERT_OK(sr_->Scan(&vdis));
  ASSERT_EQ(vdis.size(), 3u);
  const Vdi& leaf = vdis[a];
  ASSERT_FALSE(leaf.parent.empty());
  const Vdi& base = vdis[leaf.parent];
  EXPECT_TRUE(base.hidden);
  EXPECT_EQ(base.meta.name_label, "base copy");
  EXPECT_FALSE(base.meta.managed);
  EXPECT_EQ(snap.parent, base.uuid);
  EXPECT_EQ(snap.meta.name_label, "snap");
  EXPECT_EQ(base.children.size(), 2u);
  EXPECT_EQ(View(a), before);
  EXPECT_EQ(View(snap.uuid), before);
  // Writes to the VDI do not reach the snapshot.
  Write(a, 0, "changed");
  EXPECT_EQ(View(snap.uuid), before);
  EXPECT_EQ(View(a).substr(0, 7), "changed");
  ExpectAllValid();
}

TEST_F(SrTest, SingleSnapshotReturnsTheReadOnlyBase) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, "abc");
  Vdi snap;
  ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kSingle, VdiMeta(), &snap));
  EXPECT_TRUE(snap.hidden);
  EXPECT_TRUE(snap.meta.read_only);
  Vdi leaf;
  ASSERT_OK(sr_->GetVdi(a, &leaf));
  EXPECT_EQ(leaf.parent, snap.uuid);
}

// A caller may name the second leaf (image tasks record it first).
TEST_F(SrTest, DoubleSnapshotTakesTheGivenUuid) {
  std::string a = NewVdi(8 * kMiB);
  const std::string want = "0b7d5c1e-5a3c-4b8e-9f00-3b1b2c3d4e5f";
  Vdi snap;
  ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kDouble, VdiMeta(), &snap, want));
  EXPECT_EQ(snap.uuid, want);
  EXPECT_TRUE(testutil::FileExists(sr_->VdiPath(want)));
  // Not twice, not a path, not for a single snapshot.
  EXPECT_EQ(
      sr_->SnapshotVdi(a, SnapshotKind::kDouble, VdiMeta(), &snap, want).code(),
      base::Code::kExists);
  EXPECT_EQ(sr_->SnapshotVdi(a, SnapshotKind::kDouble, VdiMeta(), &snap, "../x")
                .code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(sr_->SnapshotVdi(a, SnapshotKind::kSingle, VdiMeta(), &snap,
                             "1b7d5c1e-5a3c-4b8e-9f00-3b1b2c3d4e5f")
                .code(),
            base::Code::kInvalidArgument);
  ExpectAllValid();
}

TEST_F(SrTest, ChainDepthLimitIs30) {
  std::string a = NewVdi(4 * kMiB);
  Vdi snap;
  for (int i = 0; i < 29; ++i) {
    ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kSingle, VdiMeta(), &snap))
        << i;
  }
  EXPECT_EQ(sr_->SnapshotVdi(a, SnapshotKind::kSingle, VdiMeta(), &snap).code(),
            base::Code::kChainTooLong);
}

TEST_F(SrTest, DeleteLeafLeavesHiddenParentsToTheGc) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, testutil::RandomBytes(kMiB, 1));
  Vdi snap;
  ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kDouble, VdiMeta(), &snap));
  Write(a, kMiB, testutil::RandomBytes(kMiB, 2));
  std::string view = View(a);
  ASSERT_OK(sr_->DeleteVdi(snap.uuid));
  ASSERT_OK(sr_->DeleteVdi(snap.uuid));  // idempotent
  std::map<std::string, Vdi> vdis;
  ASSERT_OK(sr_->Scan(&vdis));
  EXPECT_EQ(vdis.size(), 2u);  // a and the hidden base
  // The GC leaf-coalesces a into the base: one file, same uuid, same view.
  GcReport rep;
  ASSERT_OK(sr_->Gc(GcOptions(), &rep));
  EXPECT_EQ(rep.leaf_coalesced, 1);
  ASSERT_OK(sr_->Scan(&vdis));
  ASSERT_EQ(vdis.size(), 1u);
  EXPECT_TRUE(vdis.count(a));
  EXPECT_FALSE(vdis[a].hidden);
  EXPECT_EQ(View(a), view);
  ExpectAllValid();
}

TEST_F(SrTest, GcCoalescesHiddenChainsAndPrunes) {
  std::string a = NewVdi(16 * kMiB);
  std::vector<std::string> snaps;
  for (int i = 0; i < 4; ++i) {
    Write(a, i * kMiB, testutil::RandomBytes(kMiB, i));
    Vdi s;
    ASSERT_OK(sr_->SnapshotVdi(a, SnapshotKind::kDouble, VdiMeta(), &s));
    snaps.push_back(s.uuid);
  }
  std::vector<std::string> views;
  for (auto& s : snaps) views.push_back(View(s));
  std::string view = View(a);
  // Delete snapshots 0 and 2: their base copies now have one child each.
  ASSERT_OK(sr_->DeleteVdi(snaps[0]));
  ASSERT_OK(sr_->DeleteVdi(snaps[2]));
  Vdi attached;
  ASSERT_OK(sr_->AttachVdi(a, "OpaqueRef:host1", &attached));
  EXPECT_TRUE(sr_->IsAttached(a));  // no leaf coalesce of a
  GcReport rep;
  ASSERT_OK(sr_->Gc(GcOptions(), &rep));
  EXPECT_EQ(rep.coalesced, 2);
  EXPECT_EQ(View(a), view);
  EXPECT_EQ(View(snaps[1]), views[1]);
  EXPECT_EQ(View(snaps[3]), views[3]);
  std::map<std::string, Vdi> vdis;
  ASSERT_OK(sr_->Scan(&vdis));
  EXPECT_EQ(vdis.size(), 5u);  // a, 2 snapshots, 2 base copies
  ExpectAllValid();
  // Deleting everything but a leaves one file after the GC.
  ASSERT_OK(sr_->DeleteVdi(snaps[1]));
  ASSERT_OK(sr_->DeleteVdi(snaps[3]));
  ASSERT_OK(sr_->DetachVdi(a, "OpaqueRef:host1"));
  EXPECT_FALSE(sr_->IsAttached(a));
  ASSERT_OK(sr_->Gc(GcOptions(), &rep));
  ASSERT_OK(sr_->Scan(&vdis));
  EXPECT_EQ(vdis.size(), 1u);
  EXPECT_EQ(View(a), view);
  ExpectAllValid();
}

TEST_F(SrTest, InterruptedSnapshotIsUndoneOrFinished) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, "data");
  std::string view = View(a);
  // Simulate a crash right after the hard link.
  std::string base = "11111111-2222-3333-4444-555555555555";
  std::filesystem::create_hard_link(sr_->VdiPath(a), sr_->VdiPath(base));
  testutil::WriteFile(dir_.Join(".vhdsm/journal/snapshot." + a),
                      "{\"op\":\"snapshot\",\"vdi\":\"" + a + "\",\"base\":\"" +
                          base + "\",\"snap\":\"\"}");
  std::unique_ptr<Sr> sr2;
  ASSERT_OK(Sr::Open(dir_.path(), &sr2));
  EXPECT_FALSE(testutil::FileExists(sr_->VdiPath(base)));
  EXPECT_EQ(View(a), view);
  EXPECT_FALSE(testutil::FileExists(dir_.Join(".vhdsm/journal/snapshot." + a)));
}

// A resize interrupted after its journal was written is reverted when the
// SR is opened; a file under a resize journal's name that is not a journal
// of that VDI is refused, and it and the VDI are kept as they are.
TEST_F(SrTest, InterruptedResizeIsRevertedAndAForeignJournalKept) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, testutil::RandomBytes(3 * kMiB, 1));
  const std::string orig = testutil::ReadFile(sr_->VdiPath(a));
  const std::string journal = dir_.Join(".vhdsm/journal/resize." + a);
  for (int64_t k = 0;; ++k) {
    ASSERT_LT(k, 50);
    testutil::WriteFile(sr_->VdiPath(a), orig);
    std::filesystem::remove(journal);
    base::FaultInjectionEnv fenv(base::Env::Default());
    fenv.CrashAt(k);
    EXPECT_FALSE(
        vhd::ResizeJournaled(&fenv, sr_->VdiPath(a), 64 * kMiB, journal).ok());
    if (testutil::FileExists(journal) &&
        testutil::ReadFile(sr_->VdiPath(a)) != orig) {
      break;
    }
  }
  std::unique_ptr<Sr> sr2;
  ASSERT_OK(Sr::Open(dir_.path(), &sr2));
  EXPECT_TRUE(testutil::ReadFile(sr_->VdiPath(a)) == orig);
  EXPECT_FALSE(testutil::FileExists(journal));

  std::string b = NewVdi(8 * kMiB);
  const std::string other = testutil::ReadFile(sr_->VdiPath(b));
  testutil::WriteFile(journal, other);
  EXPECT_FALSE(Sr::Open(dir_.path(), &sr2).ok());
  EXPECT_TRUE(testutil::ReadFile(journal) == other);
  EXPECT_TRUE(testutil::ReadFile(sr_->VdiPath(a)) == orig);

  // The same for the GC's sweep of a parent-grow journal.
  std::filesystem::remove(journal);
  const std::string grow = dir_.Join("." + a + ".vhd.coalesce.resize");
  testutil::WriteFile(grow, other);
  GcReport rep;
  EXPECT_OK(sr_->Gc(GcOptions(), &rep));
  EXPECT_TRUE(testutil::ReadFile(grow) == other);
  EXPECT_TRUE(testutil::ReadFile(sr_->VdiPath(a)) == orig);
}

// A journal is a file in the SR: JSON of the wrong types (or a huge one) is
// a damaged journal, never an exception in the GC thread.
TEST_F(SrTest, JournalOfWrongTypesIsDroppedOrRefused) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, "data");
  std::string view = View(a);
  const std::string journal = dir_.Join(".vhdsm/journal/snapshot." + a);
  for (const char* text :
       {"{\"base\":5}", "[1,2]", "{\"base\":null,\"snap\":{}}", "\"x\"",
        "{\"base\":\"11111111-2222-3333-4444-555555555555\",\"snap\":7}"}) {
    testutil::WriteFile(journal, text);
    std::unique_ptr<Sr> sr2;
    base::Status s = Sr::Open(dir_.path(), &sr2);
    EXPECT_OK(s) << text << ": " << s.ToString();
    EXPECT_FALSE(testutil::FileExists(journal)) << text;
    EXPECT_EQ(View(a), view);
  }
  testutil::WriteFile(journal, std::string(8192, ' ') + "{}");
  std::unique_ptr<Sr> sr3;
  EXPECT_FALSE(Sr::Open(dir_.path(), &sr3).ok());
  EXPECT_EQ(View(a), view);
}

// What interrupted processes leave behind goes at the end of a complete
// GC; what is not ours, and a live writer's temporary, stays.
TEST_F(SrTest, GcSweepsStaleTemporaries) {
  std::string a = NewVdi(8 * kMiB);
  Write(a, 0, testutil::RandomBytes(kMiB, 1));
  std::string view = View(a);
  const std::string dead_pid = "2147483";  // above pid_max: no such process
  const std::string live_pid = std::to_string(::getpid());
  // A writer killed but not yet reaped (a zombie) writes no more either.
  pid_t zombie = ::fork();
  ASSERT_GE(zombie, 0);
  if (zombie == 0) ::_exit(0);
  ::usleep(100 * 1000);
  std::vector<std::string> stale = {
      "." + a + ".vhd.tmp-12345",
      "." + a + ".vhd.new",
      "." + a + ".vhd.old",
      "." + a + ".vhd.coalesce",
      ".vdi.json.tmp." + dead_pid + ".1",
      ".vhdsm/tasks/t.json.tmp." + dead_pid + ".3",
      ".vhdsm/tasks/u.json.tmp." + std::to_string(zombie) + ".5",
      // The record and attach marker of a VDI whose file is gone.
      ".vhdsm/vdi/9c058b15-c0a7-4f0e-ac2a-24ea331a59cb.json",
      ".vhdsm/attached/9c058b15-c0a7-4f0e-ac2a-24ea331a59cb.host1",
  };
  std::vector<std::string> kept = {
      "notes.txt",
      ".hidden-by-the-operator",
      ".vhdsm/tasks/t.json.tmp." + live_pid + ".4",
  };
  for (const char* d : {".vhdsm/tasks", ".vhdsm/attached"}) {
    std::filesystem::create_directories(dir_.Join(d));
  }
  for (auto& n : stale) testutil::WriteFile(dir_.Join(n), "x");
  for (auto& n : kept) testutil::WriteFile(dir_.Join(n), "y");
  GcReport rep;
  ASSERT_OK(sr_->Gc(GcOptions(), &rep));
  for (auto& n : stale) EXPECT_FALSE(testutil::FileExists(dir_.Join(n))) << n;
  for (auto& n : kept) EXPECT_TRUE(testutil::FileExists(dir_.Join(n))) << n;
  EXPECT_TRUE(testutil::FileExists(dir_.Join(".vhdsm/vdi/" + a + ".json")));
  ::waitpid(zombie, nullptr, 0);
  EXPECT_EQ(View(a), view);
  ExpectAllValid();
}

TEST_F(SrTest, SpaceIsCheckedFirst) {
  uint64_t total = 0, free = 0;
  ASSERT_OK(sr_->Space(&total, &free));
  EXPECT_GT(total, 0u);
  EXPECT_GT(free, 0u);
}

}  // namespace
}  // namespace vhdsm
