// Tests of the GC's steps (sm/sr_gc.cc, Sr::Gc), one situation each, on
// real VHD files: prune, non-leaf coalesce, leaf coalesce, what each leaves
// alone (attached leaves, broken chains), and how a GC is stopped or
// refused. Every test reads the VDIs' bytes back through their chains.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sm/sr.h"
#include "tests/sm/sr_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/check.h"

namespace vhdsm {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class SrGcTest : public SrFixture {
 protected:
  std::string NewVdi() {
    Vdi v;
    EXPECT_OK(sr_->CreateVdi(8 * kMiB, VdiMeta(), "", &v));
    Write(v.uuid, 0, testutil::RandomBytes(kMiB, 1));
    return v.uuid;
  }
  // A double snapshot of `uuid`: returns the snapshot, *base the base copy.
  std::string Snapshot(const std::string& uuid, std::string* base) {
    Vdi s;
    EXPECT_OK(sr_->SnapshotVdi(uuid, SnapshotKind::kDouble, VdiMeta(), &s));
    Vdi leaf;
    EXPECT_OK(sr_->GetVdi(uuid, &leaf));
    *base = leaf.parent;
    return s.uuid;
  }
  std::map<std::string, Vdi> Vdis() {
    std::map<std::string, Vdi> vdis;
    EXPECT_OK(sr_->Scan(&vdis));
    return vdis;
  }
  bool OnDisk(const std::string& uuid) {
    return std::filesystem::exists(sr_->VdiPath(uuid));
  }
  // Only <uuid>.vhd files and .vhdsm/, no journal left.
  void ExpectCleanSr() {
    for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
      std::string n = e.path().filename();
      EXPECT_TRUE(n == ".vhdsm" || (n.size() == 40 && n.substr(36) == ".vhd"))
          << n;
    }
    std::string journals = dir_.Join(".vhdsm/journal");
    if (std::filesystem::exists(journals)) {
      EXPECT_TRUE(std::filesystem::is_empty(journals));
    }
  }
};

TEST_F(SrGcTest, PruneRemovesAHiddenVdiNobodyReads) {
  std::string a = NewVdi(), base;
  std::string s = Snapshot(a, &base);
  ASSERT_OK(sr_->DeleteVdi(a));
  ASSERT_OK(sr_->DeleteVdi(s));
  ASSERT_TRUE(OnDisk(base));  // hidden, childless: the GC's
  GcReport r;
  ASSERT_OK(sr_->Gc(GcOptions(), &r));
  EXPECT_EQ(r.pruned, 1);
  EXPECT_EQ(r.coalesced + r.leaf_coalesced, 0);
  EXPECT_EQ(r.removed, std::vector<std::string>{base});
  EXPECT_FALSE(OnDisk(base));
  EXPECT_TRUE(Vdis().empty());
  ExpectCleanSr();
}

TEST_F(SrGcTest, NonLeafCoalesceMergesANodeIntoItsOnlyChildParent) {
  // b1 <- b2 <- a, with s1 on b1 and s2 on b2; a is attached (no leaf
  // coalesce). Deleting s1 leaves b2 the only child of b1: b2 is merged
  // into b1, and a and s2 are relinked to b1.
  std::string a = NewVdi(), b1, b2;
  std::string s1 = Snapshot(a, &b1);
  Write(a, 2 * kMiB, testutil::RandomBytes(kMiB, 2));
  std::string s2 = Snapshot(a, &b2);
  Write(a, 4 * kMiB, testutil::RandomBytes(kMiB, 3));
  Vdi att;
  ASSERT_OK(sr_->AttachVdi(a, "OpaqueRef:h", &att));
  std::string view_a = View(a), view_s2 = View(s2);
  ASSERT_OK(sr_->DeleteVdi(s1));
  GcReport r;
  ASSERT_OK(sr_->Gc(GcOptions(), &r));
  EXPECT_EQ(r.coalesced, 1);
  EXPECT_EQ(r.leaf_coalesced, 0);
  EXPECT_GT(r.bytes_merged, 0u);
  EXPECT_EQ(r.removed, std::vector<std::string>{b2});
  EXPECT_FALSE(OnDisk(b2));
  auto vdis = Vdis();
  EXPECT_EQ(vdis.size(), 3u);  // b1, a, s2
  EXPECT_EQ(vdis[a].parent, b1);
  EXPECT_EQ(vdis[s2].parent, b1);
  EXPECT_EQ(View(a), view_a);
  EXPECT_EQ(View(s2), view_s2);
  vhd::CheckReport cr;
  EXPECT_OK(vhd::CheckVhd(base::Env::Default(), sr_->VdiPath(b1),
                          vhd::CheckOptions(), &cr));
  ExpectCleanSr();
}

TEST_F(SrGcTest, LeafCoalesceKeepsTheLeafsUuidAndBytes) {
  std::string a = NewVdi(), base;
  std::string s = Snapshot(a, &base);
  Write(a, 3 * kMiB, testutil::RandomBytes(kMiB, 4));
  std::string view = View(a);
  ASSERT_OK(sr_->DeleteVdi(s));
  GcReport r;
  ASSERT_OK(sr_->Gc(GcOptions(), &r));
  EXPECT_EQ(r.leaf_coalesced, 1);
  EXPECT_EQ(r.removed, std::vector<std::string>{base});
  EXPECT_FALSE(OnDisk(base));
  auto vdis = Vdis();
  ASSERT_EQ(vdis.size(), 1u);
  EXPECT_FALSE(vdis[a].hidden);
  EXPECT_EQ(vdis[a].parent, "");
  EXPECT_EQ(View(a), view);
  ExpectCleanSr();
}

TEST_F(SrGcTest, AttachedLeavesAndDisabledLeafCoalesceAreLeftAlone) {
  std::string a = NewVdi(), base;
  std::string s = Snapshot(a, &base);
  ASSERT_OK(sr_->DeleteVdi(s));
  GcOptions no_leaf;
  no_leaf.leaf_coalesce = false;
  GcReport r;
  ASSERT_OK(sr_->Gc(no_leaf, &r));
  EXPECT_TRUE(r.removed.empty());
  EXPECT_TRUE(OnDisk(base));
  Vdi att;
  ASSERT_OK(sr_->AttachVdi(a, "OpaqueRef:h", &att));
  ASSERT_OK(sr_->Gc(GcOptions(), &r));
  EXPECT_TRUE(r.removed.empty());
  EXPECT_TRUE(OnDisk(base));
  EXPECT_EQ(Vdis()[a].parent, base);
}

TEST_F(SrGcTest, ABrokenChainIsNeitherPrunedNorMerged) {
  std::string a = NewVdi(), base;
  std::string s = Snapshot(a, &base);
  ASSERT_OK(sr_->DeleteVdi(s));
  // The base copy becomes a symlink (to its own bytes, inside the SR): a
  // parent outside the SR's rules, so a's chain cannot be trusted.
  std::string keep = dir_.Join("keep.bin");
  std::filesystem::rename(sr_->VdiPath(base), keep);
  std::filesystem::create_symlink("keep.bin", sr_->VdiPath(base));
  uint64_t size = std::filesystem::file_size(keep);
  GcReport r;
  ASSERT_OK(sr_->Gc(GcOptions(), &r));
  EXPECT_TRUE(r.removed.empty());
  EXPECT_TRUE(OnDisk(base));
  EXPECT_TRUE(OnDisk(a));
  EXPECT_TRUE(std::filesystem::is_symlink(sr_->VdiPath(base)));
  EXPECT_EQ(std::filesystem::file_size(keep), size);
  auto vdis = Vdis();
  ASSERT_EQ(vdis.count(a), 1u);
  EXPECT_FALSE(vdis[a].broken.ok());
  EXPECT_EQ(vdis[a].parent, base);
}

TEST_F(SrGcTest, AStopRequestEndsTheGcBeforeItsFirstStep) {
  std::string a = NewVdi(), base;
  std::string s = Snapshot(a, &base);
  ASSERT_OK(sr_->DeleteVdi(a));
  ASSERT_OK(sr_->DeleteVdi(s));
  GcOptions o;
  o.should_stop = [] { return true; };
  GcReport r;
  ASSERT_OK(sr_->Gc(o, &r));
  EXPECT_EQ(r.pruned, 0);
  EXPECT_TRUE(OnDisk(base));
}

TEST_F(SrGcTest, OneGcPerSr) {
  std::unique_ptr<FileLock> held;
  ASSERT_OK(FileLock::Acquire(base::Env::Default(), dir_.Join(".vhdsm/gc.lock"),
                              &held));
  GcReport r;
  EXPECT_EQ(sr_->Gc(GcOptions(), &r).code(), base::Code::kBusy);
}

}  // namespace
}  // namespace vhdsm
