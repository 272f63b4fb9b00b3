// Tests of vhd/chain.h and the write path of vhd/sparse_image.h: reads and
// writes at byte granularity through chains, allocation rules, and crash
// safety of every write (a simulated crash at every I/O call in turn).
#include "vhd/chain.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "base/fault_env.h"
#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/check.h"
#include "vhd/create.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class ChainTest : public testutil::ChainFixture {
 protected:
  base::Env* env() { return base::Env::Default(); }

  std::unique_ptr<Chain> Open(const std::string& name, bool writable = false,
                              base::Env* e = nullptr) {
    ChainOptions o;
    o.writable = writable;
    o.env = e;
    std::unique_ptr<Chain> c;
    base::Status s = Chain::Open(P(name), o, &c);
    EXPECT_OK(s);
    return c;
  }
  void ExpectValid(const std::string& name) {
    CheckReport r;
    CheckOptions o;
    o.check_data = true;
    base::Status s = CheckVhd(env(), P(name), o, &r);
    EXPECT_OK(s);
  }
  uint64_t Allocated(const std::string& name) {
    std::unique_ptr<Image> img;
    EXPECT_OK(OpenImage(env(), P(name), OpenOptions(), &img));
    auto* sp = dynamic_cast<SparseImage*>(img.get());
    EXPECT_OK(sp->LoadBat());
    return sp->allocated_blocks();
  }
};

TEST_F(ChainTest, EmptyDiskReadsZeros) {
  Create("a.vhd", 8 * kMiB);
  EXPECT_EQ(Read("a.vhd"), std::string(8 * kMiB, '\0'));
}

TEST_F(ChainTest, UnalignedWritesReadBack) {
  Create("a.vhd", 16 * kMiB);
  std::string model(16 * kMiB, '\0');
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40; ++i) {
    uint64_t len = 1 + rng() % (3 * kMiB);
    uint64_t off = rng() % (model.size() - len);
    std::string d = testutil::RandomBytes(len, i);
    Write("a.vhd", off, d);
    model.replace(off, len, d);
  }
  EXPECT_EQ(Read("a.vhd"), model);
  ExpectValid("a.vhd");
  // Byte-granular reads of odd ranges.
  auto c = Open("a.vhd");
  for (int i = 0; i < 50; ++i) {
    uint64_t len = rng() % 5000;
    uint64_t off = rng() % (model.size() - len);
    std::string out(len, 'x');
    ASSERT_OK(c->Read(off, len, out.data()));
    ASSERT_EQ(out, model.substr(off, len)) << off << "+" << len;
  }
}

TEST_F(ChainTest, ReadAndWriteBeyondEndFail) {
  Create("a.vhd", 4 * kMiB);
  auto c = Open("a.vhd", true);
  char b[2];
  EXPECT_EQ(c->Read(4 * kMiB - 1, 2, b).code(), base::Code::kInvalidArgument);
  EXPECT_EQ(c->Write(4 * kMiB, 1, b).code(), base::Code::kInvalidArgument);
  EXPECT_OK(c->Read(4 * kMiB - 1, 1, b));
  auto ro = Open("a.vhd", false);
  EXPECT_EQ(ro->Write(0, 1, b).code(), base::Code::kReadOnly);
}

TEST_F(ChainTest, BlocksAreFourKiBAlignedAndFullBlocksSetBatmap) {
  Create("a.vhd", 8 * kMiB);
  Write("a.vhd", 2 * kMiB, testutil::RandomBytes(2 * kMiB, 1));
  Write("a.vhd", 5 * kMiB, "x");
  std::unique_ptr<Image> img;
  ASSERT_OK(OpenImage(env(), P("a.vhd"), OpenOptions(), &img));
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  ASSERT_OK(sp->LoadBat());
  ASSERT_TRUE(sp->has_batmap()) << sp->batmap_problem();
  EXPECT_EQ(sp->bat()[0], kBatUnused);
  ASSERT_NE(sp->bat()[1], kBatUnused);
  ASSERT_NE(sp->bat()[2], kBatUnused);
  EXPECT_EQ(sp->DataOffset(1, 0) % 4096, 0u);
  EXPECT_EQ(sp->DataOffset(2, 0) % 4096, 0u);
  // First block right after the metadata: bitmap at 3584, data at 4096.
  EXPECT_EQ(sp->DataOffset(1, 0), 4096u);
  EXPECT_TRUE(BitmapTest(sp->batmap().data(), 1));
  EXPECT_FALSE(BitmapTest(sp->batmap().data(), 2));
  BlockState st;
  ASSERT_OK(sp->GetBlockState(2, &st));
  EXPECT_EQ(st.kind, BlockKind::kPartial);
  EXPECT_TRUE(BitmapTest(st.bitmap, 2048));  // byte 5 MiB: block 2, 1 MiB in
  EXPECT_FALSE(BitmapTest(st.bitmap, 2047));
  EXPECT_FALSE(BitmapTest(st.bitmap, 2049));
  ExpectValid("a.vhd");
}

TEST_F(ChainTest, DifferencingWriteSetsOnlyWrittenSectors) {
  Create("base.vhd", 8 * kMiB);
  std::string base = testutil::RandomBytes(8 * kMiB, 3);
  Write("base.vhd", 0, base);
  Snap("child.vhd", "base.vhd");
  std::string model = base;
  std::string d = testutil::RandomBytes(1000, 4);
  Write("child.vhd", 3 * kMiB + 100, d);
  model.replace(3 * kMiB + 100, d.size(), d);
  EXPECT_EQ(Read("child.vhd"), model);
  EXPECT_EQ(Read("base.vhd"), base);  // parent untouched
  EXPECT_EQ(Allocated("child.vhd"), 1u);
  // Only sectors 0..2 of the block (bytes 100..1099 of it) are in the child.
  std::unique_ptr<Image> img;
  ASSERT_OK(OpenImage(env(), P("child.vhd"), OpenOptions(), &img));
  BlockState st;
  ASSERT_OK(img->GetBlockState(1, &st));
  ASSERT_EQ(st.kind, BlockKind::kPartial);
  for (uint32_t s = 0; s < 4096; ++s) {
    ASSERT_EQ(BitmapTest(st.bitmap, s), s >= 2048 && s <= 2050) << s;
  }
  ExpectValid("child.vhd");
}

TEST_F(ChainTest, ZerosOverAncestorDataAllocateZerosOverHolesDoNot) {
  Create("base.vhd", 8 * kMiB);
  Write("base.vhd", 0, std::string(2 * kMiB, 'B'));
  Snap("child.vhd", "base.vhd");
  Write("child.vhd", 4 * kMiB, std::string(kMiB, '\0'));  // over a hole
  EXPECT_EQ(Allocated("child.vhd"), 0u);
  Write("child.vhd", 4096, std::string(8192, '\0'));  // over base's data
  EXPECT_EQ(Allocated("child.vhd"), 1u);
  std::string all = Read("child.vhd");
  EXPECT_EQ(all.substr(0, 4096), std::string(4096, 'B'));
  EXPECT_EQ(all.substr(4096, 8192), std::string(8192, '\0'));
  EXPECT_EQ(all.substr(12288, 4096), std::string(4096, 'B'));
}

TEST_F(ChainTest, DepthFourChainReadsFirstLayerThatHoldsEachSector) {
  Create("l0.vhd", 16 * kMiB);
  std::string model(16 * kMiB, '\0');
  std::mt19937_64 rng(11);
  auto write = [&](const std::string& n, uint64_t off, size_t len, int seed) {
    std::string d = testutil::RandomBytes(len, seed);
    Write(n, off, d);
    model.replace(off, len, d);
  };
  write("l0.vhd", 0, 6 * kMiB, 1);
  Snap("l1.vhd", "l0.vhd");
  write("l1.vhd", 1 * kMiB + 512, 3 * 512, 2);
  write("l1.vhd", 7 * kMiB, 2 * kMiB, 3);
  Snap("l2.vhd", "l1.vhd");
  write("l2.vhd", 1 * kMiB, 4096, 4);
  write("l2.vhd", 12 * kMiB + 3, 77, 5);
  Snap("l3.vhd", "l2.vhd");
  write("l3.vhd", 1 * kMiB + 1024, 100, 6);
  EXPECT_EQ(Read("l3.vhd"), model);
  auto c = Open("l3.vhd");
  EXPECT_EQ(c->depth(), 4u);
  // Export equals the read view and leaves holes sparse.
  std::unique_ptr<base::File> out;
  ASSERT_OK(
      env()->Open(P("out.raw"), base::Env::OpenMode::kCreateTruncate, &out));
  ASSERT_OK(c->ExportRaw(out.get()));
  out.reset();
  EXPECT_EQ(testutil::ReadFile(P("out.raw")), model);
  for (const char* n : {"l0.vhd", "l1.vhd", "l2.vhd", "l3.vhd"}) ExpectValid(n);
}

TEST_F(ChainTest, ParentFoundByHeaderNameWhenLocatorsAreStale) {
  Create("base.vhd", 4 * kMiB);
  Write("base.vhd", 0, "hello");
  Snap("child.vhd", "base.vhd");
  // Move both into another directory: relative locators still resolve.
  std::filesystem::create_directory(P("moved"));
  std::filesystem::rename(P("base.vhd"), P("moved/base.vhd"));
  std::filesystem::rename(P("child.vhd"), P("moved/child.vhd"));
  EXPECT_EQ(Read("moved/child.vhd").substr(0, 5), "hello");
}

TEST_F(ChainTest, RawParent) {
  testutil::WriteFile(P("base.raw"), testutil::RandomBytes(4 * kMiB, 9));
  SnapshotParams sp;
  sp.raw_parent = true;
  ASSERT_OK(CreateDifferencing(env(), P("c.vhd"), P("base.raw"), sp));
  std::string model = testutil::ReadFile(P("base.raw"));
  Write("c.vhd", 10, "child");
  model.replace(10, 5, "child");
  EXPECT_EQ(Read("c.vhd"), model);
  EXPECT_EQ(testutil::ReadFile(P("base.raw")).substr(10, 5),
            std::string(testutil::RandomBytes(4 * kMiB, 9).substr(10, 5)));
}

TEST_F(ChainTest, MissingAndMismatchedParents) {
  Create("base.vhd", 4 * kMiB);
  Snap("child.vhd", "base.vhd");
  std::filesystem::rename(P("base.vhd"), P("gone.vhd"));
  ChainOptions o;
  std::unique_ptr<Chain> c;
  EXPECT_EQ(Chain::Open(P("child.vhd"), o, &c).code(),
            base::Code::kParentMissing);
  Create("base.vhd", 4 * kMiB);  // same name, other uuid
  EXPECT_EQ(Chain::Open(P("child.vhd"), o, &c).code(),
            base::Code::kParentMismatch);
  o.max_depth = 1;
  std::filesystem::rename(P("gone.vhd"), P("base.vhd"));
  EXPECT_EQ(Chain::Open(P("child.vhd"), o, &c).code(),
            base::Code::kChainTooLong);
}

// ---- crash safety ----------------------------------------------------------

struct CrashCase {
  const char* name;
  bool differencing;
  // Writes into fresh blocks become visible all at once (the BAT entry);
  // overwrites of present sectors, like any disk's, only sector by sector.
  bool whole;
  // Writes applied before the crashing write, then the crashing write.
  std::vector<std::pair<uint64_t, size_t>> setup;
  std::pair<uint64_t, size_t> write;
};

class CrashTest : public ChainTest,
                  public ::testing::WithParamInterface<CrashCase> {};

TEST_P(CrashTest, EveryCrashPointLeavesBeforeOrAfter) {
  const CrashCase& cc = GetParam();
  Create("base.vhd", 8 * kMiB);
  Write("base.vhd", 0, testutil::RandomBytes(8 * kMiB, 1));
  std::string leaf = "base.vhd";
  if (cc.differencing) {
    Snap("leaf.vhd", "base.vhd");
    leaf = "leaf.vhd";
  }
  int seed = 10;
  for (auto [off, len] : cc.setup)
    Write(leaf, off, testutil::RandomBytes(len, seed++));
  std::string pristine = testutil::ReadFile(P(leaf));
  std::string before = Read(leaf);
  std::string data = testutil::RandomBytes(cc.write.second, 99);
  std::string after = before;
  after.replace(cc.write.first, data.size(), data);

  auto attempt = [&](base::FaultInjectionEnv* fenv) {
    auto c = Open(leaf, true, fenv);
    if (!c) return base::Status::IOError("open");
    base::Status s = c->Write(cc.write.first, data.size(), data.data());
    if (s.ok()) s = c->Flush();
    return s;
  };
  base::FaultInjectionEnv counter(env());
  ASSERT_OK(attempt(&counter));
  ASSERT_EQ(Read(leaf), after);
  int64_t points = counter.mutations();
  ASSERT_GT(points, 0);
  auto sector_wise = [&](const std::string& got) {
    if (got.size() != before.size()) return false;
    for (size_t off = 0; off < got.size(); off += kSectorSize) {
      if (got.compare(off, kSectorSize, before, off, kSectorSize) != 0 &&
          got.compare(off, kSectorSize, after, off, kSectorSize) != 0) {
        return false;
      }
    }
    return true;
  };
  for (int64_t k = 0; k < points; ++k) {
    // Torn: a multi-sector call cut after its first sector (disks write
    // sectors atomically, not calls).
    for (size_t torn : {size_t{0}, size_t{kSectorSize}}) {
      testutil::WriteFile(P(leaf), pristine);
      {
        base::FaultInjectionEnv fenv(env());
        fenv.CrashAt(k, torn);
        EXPECT_FALSE(attempt(&fenv).ok());
      }
      std::string got = Read(leaf);
      if (cc.whole && torn == 0) {
        ASSERT_TRUE(got == before || got == after)
            << cc.name << ": crash at I/O " << k
            << " left a disk that is neither before nor after";
      }
      ASSERT_TRUE(sector_wise(got))
          << cc.name << ": crash at I/O " << k << " (torn " << torn
          << ") left a sector that is neither before nor after";
      CheckReport r;
      base::Status s = CheckVhd(env(), P(leaf), CheckOptions(), &r);
      // blktap's batmap keeps its checksum in the sector before the map, so
      // no format-preserving order survives a torn two-sector write: the
      // checksum may go stale (readers then ignore the batmap; repair
      // rebuilds it). Nothing else may be wrong.
      bool stale_batmap =
          torn != 0 && s.message() == "batmap is invalid: invalid checksum";
      EXPECT_TRUE(s.ok() || stale_batmap)
          << cc.name << ": crash at I/O " << k << " (torn " << torn
          << "): " << s.ToString();
    }
  }
  std::printf("[ crash    ] %s: %lld crash points, each whole and torn\n",
              cc.name, static_cast<long long>(points));
}

INSTANTIATE_TEST_SUITE_P(
    Writes, CrashTest,
    ::testing::Values(
        CrashCase{
            "dynamic_new_partial_block", false, true, {}, {5 * kMiB, 4096}},
        CrashCase{
            "dynamic_new_full_block", false, true, {}, {2 * kMiB, 2 * kMiB}},
        CrashCase{
            "dynamic_existing_block", false, false, {{0, 512}}, {8192, 1000}},
        CrashCase{"dynamic_fill_block", false, true, {{0, kMiB}}, {kMiB, kMiB}},
        CrashCase{
            "diff_new_partial_block", true, true, {}, {3 * kMiB + 7, 9000}},
        CrashCase{
            "diff_existing_block", true, false, {{0, 4096}}, {100, 20000}},
        CrashCase{"diff_fill_block", true, true, {{0, kMiB}}, {kMiB, kMiB}},
        CrashCase{
            "diff_multi_block", true, false, {{kMiB, 10}}, {kMiB, 5 * kMiB}}),
    [](const ::testing::TestParamInfo<CrashCase>& i) {
      return std::string(i.param.name);
    });

// A write on a full filesystem fails with kNoSpace before it changes a
// byte: the space for its new blocks is held first (File::Reserve).
TEST_F(ChainTest, WriteWithoutSpaceChangesNothing) {
  Create("p.vhd", 16 * kMiB);
  Write("p.vhd", 0, testutil::RandomBytes(kMiB, 1));
  Snap("c.vhd", "p.vhd");
  Write("c.vhd", 4 * kMiB, testutil::RandomBytes(4096, 2));
  std::string file_before = testutil::ReadFile(P("c.vhd"));
  std::string view_before = Read("c.vhd");

  base::FaultInjectionEnv full(env());
  full.SetNoSpace(true);
  // Into two unallocated blocks and one allocated one.
  std::string data = testutil::RandomBytes(5 * kMiB, 3);
  {
    auto c = Open("c.vhd", true, &full);
    ASSERT_TRUE(c);
    base::Status s = c->Write(3 * kMiB, data.size(), data.data());
    EXPECT_EQ(s.code(), base::Code::kNoSpace) << s.ToString();
  }
  EXPECT_EQ(testutil::ReadFile(P("c.vhd")), file_before);
  EXPECT_EQ(Read("c.vhd"), view_before);

  // What needs no new block still works: into the allocated block, and
  // zeros over a hole.
  {
    auto c = Open("c.vhd", true, &full);
    ASSERT_TRUE(c);
    base::Status s = c->Write(4 * kMiB, 512, data.data());
    EXPECT_OK(s);
    std::string zeros(2 * kMiB, '\0');
    s = c->Write(10 * kMiB, zeros.size(), zeros.data());
    EXPECT_OK(s);
  }
  EXPECT_EQ(testutil::ReadFile(P("c.vhd")).size(), file_before.size());

  // With space again, the write goes through whole, and no space stays held
  // past the end of the file.
  full.SetNoSpace(false);
  {
    auto c = Open("c.vhd", true, &full);
    ASSERT_TRUE(c);
    ASSERT_OK(c->Write(3 * kMiB, data.size(), data.data()));
    ASSERT_OK(c->Flush());
  }
  std::string want = view_before;
  want.replace(4 * kMiB, 512, data.substr(0, 512));
  want.replace(3 * kMiB, data.size(), data);
  EXPECT_EQ(Read("c.vhd"), want);
  ExpectValid("c.vhd");
  struct stat st;
  ASSERT_EQ(::stat(P("c.vhd").c_str(), &st), 0);
  EXPECT_LE(uint64_t(st.st_blocks) * 512, uint64_t(st.st_size) + 64 * 1024);
}

// Zeros written over a hole need no space, so on a full disk they succeed;
// the reservation counts only the blocks that will be stored.
TEST_F(ChainTest, ReserveCountsOnlyStoredBlocks) {
  Create("d.vhd", 64 * kMiB);
  base::FaultInjectionEnv full(env());
  full.SetNoSpace(true);
  auto c = Open("d.vhd", true, &full);
  ASSERT_TRUE(c);
  std::string zeros(16 * kMiB, '\0');
  EXPECT_OK(c->ReserveForWrite(0, zeros.size(), zeros.data()));
  zeros[9 * kMiB] = 1;
  EXPECT_EQ(c->ReserveForWrite(0, zeros.size(), zeros.data()).code(),
            base::Code::kNoSpace);
}

}  // namespace
}  // namespace vhd
