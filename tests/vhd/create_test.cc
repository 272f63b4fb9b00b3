// Tests of vhd/create.h: layouts are byte-for-byte blktap's, creation is
// atomic and refuses to overwrite.
#include "vhd/create.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/endian.h"
#include "vhd/format.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

std::unique_ptr<SparseImage> OpenSparse(const std::string& path) {
  std::unique_ptr<Image> img;
  base::Status s = OpenImage(base::Env::Default(), path, OpenOptions(), &img);
  EXPECT_OK(s);
  auto* sp = dynamic_cast<SparseImage*>(img.get());
  if (sp == nullptr) return nullptr;
  img.release();
  return std::unique_ptr<SparseImage>(sp);
}

TEST(CreateTest, DynamicLayoutIsBlktaps) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 100ull << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("x.vhd"), p));
  std::string d = testutil::ReadFile(dir.Join("x.vhd"));
  // blktap: footer copy, header@512, BAT@1536, batmap hdr@2048, map@2560,
  // footer@3072: 3584 bytes.
  ASSERT_EQ(d.size(), 3584u);
  auto* u = reinterpret_cast<const uint8_t*>(d.data());
  EXPECT_EQ(0, std::memcmp(u, u + 3072, 512));  // copy at 0 == EOF footer
  Footer f = Footer::Decode(u + 3072);
  EXPECT_TRUE(f.ChecksumOk());
  EXPECT_EQ(f.curr_size, 100ull << 20);
  EXPECT_EQ(f.type, 3u);
  EXPECT_EQ(f.data_offset, 512u);
  EXPECT_EQ(0, std::memcmp(f.creator_app.data(), "tap\0", 4));
  EXPECT_EQ(f.creator_version, 0x00010003u);
  EXPECT_EQ(f.features, 2u);
  EXPECT_EQ(f.geometry, ChsGeometry(100ull << 20));
  DynamicHeader h = DynamicHeader::Decode(u + 512);
  EXPECT_TRUE(h.ChecksumOk());
  EXPECT_EQ(h.table_offset, 1536u);
  EXPECT_EQ(h.max_table_entries, 50u);
  EXPECT_EQ(h.block_size, 2u << 20);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(LoadBE32(u + 1536 + 4 * i), kBatUnused);
  for (int i = 1536 + 200; i < 2048; ++i) ASSERT_EQ(u[i], 0) << i;  // zero pad
  BatmapHeader b = BatmapHeader::Decode(u + 2048);
  EXPECT_TRUE(b.CookieOk());
  EXPECT_EQ(b.batmap_offset, 2560u);
  EXPECT_EQ(b.batmap_size, 1u);
  EXPECT_EQ(b.batmap_version, 0x00010002u);
  EXPECT_EQ(b.checksum, 0xffffffffu);
}

TEST(CreateTest, SizeRoundsUpToTwoMiBAsVhdUtil) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 5ull << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("x.vhd"), p));
  auto img = OpenSparse(dir.Join("x.vhd"));
  EXPECT_EQ(img->virtual_size(), 6ull << 20);
}

TEST(CreateTest, PreallocatedMetadataLayout) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 100ull << 20;
  p.max_size = 2097152ull << 20;  // xapi LVHD's -S
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("x.vhd"), p));
  EXPECT_EQ(testutil::FileSize(dir.Join("x.vhd")), 4327936u);
  auto img = OpenSparse(dir.Join("x.vhd"));
  EXPECT_EQ(img->header().max_table_entries, 1048576u);
  EXPECT_EQ(img->virtual_size(), 100ull << 20);
  ASSERT_OK(img->LoadBat());
  EXPECT_TRUE(img->has_batmap()) << img->batmap_problem();
  EXPECT_EQ(img->batmap_header().batmap_offset, 4196352u);
  EXPECT_EQ(img->batmap_header().batmap_size, 256u);
}

TEST(CreateTest, DifferencingLayoutIsBlktaps) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 100ull << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("parent.vhd"), p));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), dir.Join("child.vhd"),
                               dir.Join("parent.vhd"), SnapshotParams()));
  std::string d = testutil::ReadFile(dir.Join("child.vhd"));
  ASSERT_EQ(d.size(), 5120u);
  auto img = OpenSparse(dir.Join("child.vhd"));
  auto parent = OpenSparse(dir.Join("parent.vhd"));
  const DynamicHeader& h = img->header();
  EXPECT_EQ(img->type(), DiskType::kDifferencing);
  EXPECT_EQ(h.parent_uuid, parent->footer()->uuid);
  std::string name;
  ASSERT_TRUE(h.DecodeParentName(&name));
  EXPECT_EQ(name, "parent.vhd");
  EXPECT_EQ(h.loc[0].code, static_cast<uint32_t>(PlatformCode::kMacX));
  EXPECT_EQ(h.loc[0].data_offset, 3072u);
  EXPECT_EQ(h.loc[0].data_length, 19u);
  EXPECT_EQ(h.loc[0].data_space, 512u);
  EXPECT_EQ(h.loc[1].code, static_cast<uint32_t>(PlatformCode::kW2ku));
  EXPECT_EQ(h.loc[1].data_offset, 3584u);
  EXPECT_EQ(h.loc[1].data_length, 24u);
  EXPECT_EQ(h.loc[2].code, static_cast<uint32_t>(PlatformCode::kW2ru));
  EXPECT_EQ(h.loc[2].data_offset, 4096u);
  EXPECT_EQ(h.loc[3].code, 0u);
  EXPECT_EQ(d.substr(3072, 19), "file://./parent.vhd");
  std::string w2(".\0\\\0p\0a\0r\0e\0n\0t\0.\0v\0h\0d\0", 24);
  EXPECT_EQ(d.substr(3584, 24), w2);
  EXPECT_EQ(d.substr(4096, 24), w2);
  std::string p0;
  ASSERT_OK(img->LocatorPath(1, &p0));
  EXPECT_EQ(p0, "./parent.vhd");
  // Same-size child keeps the parent's exact size.
  EXPECT_EQ(img->virtual_size(), parent->virtual_size());
  base::FileInfo pi;
  ASSERT_OK(base::Env::Default()->Stat(dir.Join("parent.vhd"), &pi));
  EXPECT_EQ(h.parent_timestamp, VhdTimeFromUnix(pi.mtime));
}

// The parent's name is resolved through the Env: an Env that cannot
// resolve it fails the snapshot, and no child is left behind.
TEST(CreateTest, SnapshotResolvesItsParentThroughTheEnv) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 4 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("p.vhd"), p));
  base::FaultInjectionEnv env(base::Env::Default());
  env.FailQueries(base::Status::IOError("no resolving"));
  EXPECT_EQ(CreateDifferencing(&env, dir.Join("c.vhd"), dir.Join("p.vhd"),
                               SnapshotParams())
                .code(),
            base::Code::kIOError);
  EXPECT_FALSE(base::Env::Default()->Exists(dir.Join("c.vhd")));
  env.FailQueries(base::Status::OK());
  EXPECT_OK(CreateDifferencing(&env, dir.Join("c.vhd"), dir.Join("p.vhd"),
                               SnapshotParams()));
}

TEST(CreateTest, RelativePathToParentInAnotherDirectory) {
  testutil::TempDir dir;
  ASSERT_EQ(0, ::mkdir(dir.Join("a").c_str(), 0755));
  ASSERT_EQ(0, ::mkdir(dir.Join("b").c_str(), 0755));
  CreateParams p;
  p.size = 4 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("a/p.vhd"), p));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), dir.Join("b/c.vhd"),
                               dir.Join("a/p.vhd"), SnapshotParams()));
  auto img = OpenSparse(dir.Join("b/c.vhd"));
  std::string path;
  ASSERT_OK(img->LocatorPath(0, &path));
  EXPECT_EQ(path, "../a/p.vhd");
  // blktap prefixes the Windows forms with ".\" even before "..".
  ASSERT_OK(img->LocatorPath(2, &path));
  EXPECT_EQ(path, "./../a/p.vhd");
}

TEST(CreateTest, RefusesToOverwriteAndBadSizes) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("x.vhd"), "precious");
  CreateParams p;
  p.size = 4 << 20;
  EXPECT_EQ(CreateVhd(base::Env::Default(), dir.Join("x.vhd"), p).code(),
            base::Code::kExists);
  EXPECT_EQ(testutil::ReadFile(dir.Join("x.vhd")), "precious");
  p.size = 0;
  EXPECT_EQ(CreateVhd(base::Env::Default(), dir.Join("y.vhd"), p).code(),
            base::Code::kInvalidArgument);
  p.size = (2040ull << 30) + 1;
  EXPECT_EQ(CreateVhd(base::Env::Default(), dir.Join("y.vhd"), p).code(),
            base::Code::kTooLarge);
  p.size = 8 << 20;
  p.max_size = 4 << 20;
  EXPECT_EQ(CreateVhd(base::Env::Default(), dir.Join("y.vhd"), p).code(),
            base::Code::kInvalidArgument);
  EXPECT_FALSE(testutil::FileExists(dir.Join("y.vhd")));
  // Largest allowed virtual size works and stays small on disk.
  p.size = 2040ull << 30;
  p.max_size = 0;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("big.vhd"), p));
  EXPECT_LT(testutil::FileSize(dir.Join("big.vhd")), 5u << 20);
}

TEST(CreateTest, ChildSmallerThanParentIsRefused) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 8 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("p.vhd"), p));
  SnapshotParams s;
  s.size = 4 << 20;
  EXPECT_EQ(CreateDifferencing(base::Env::Default(), dir.Join("c.vhd"),
                               dir.Join("p.vhd"), s)
                .code(),
            base::Code::kInvalidArgument);
  s.size = 16 << 20;
  ASSERT_OK(CreateDifferencing(base::Env::Default(), dir.Join("c.vhd"),
                               dir.Join("p.vhd"), s));
  EXPECT_EQ(OpenSparse(dir.Join("c.vhd"))->virtual_size(), 16u << 20);
}

TEST(CreateTest, FixedDiskIsDataPlusFooter) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 3 << 20;
  p.fixed = true;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("f.vhd"), p));
  std::string d = testutil::ReadFile(dir.Join("f.vhd"));
  ASSERT_EQ(d.size(), (4u << 20) + 512);
  Footer f =
      Footer::Decode(reinterpret_cast<const uint8_t*>(d.data()) + (4 << 20));
  EXPECT_TRUE(f.ChecksumOk());
  EXPECT_EQ(f.type, 2u);
  EXPECT_EQ(f.data_offset, kDataOffsetNone);
  EXPECT_EQ(d.substr(0, 4 << 20), std::string(4 << 20, '\0'));
}

TEST(CreateTest, CrashDuringCreateLeavesNoFileOrAWholeOne) {
  for (NewFileDurability d :
       {NewFileDurability::kDurable, NewFileDurability::kOrdered}) {
    testutil::TempDir dir;
    CreateParams p;
    p.size = 8 << 20;
    p.durability = d;
    base::FaultInjectionEnv count(base::Env::Default());
    ASSERT_OK(CreateVhd(&count, dir.Join("n.vhd"), p));
    int64_t n = count.mutations();
    for (int64_t k = 0; k < n; ++k) {
      base::Env::Default()->Unlink(dir.Join("n.vhd"));
      base::FaultInjectionEnv env(base::Env::Default());
      env.CrashAt(k);
      // A crash at the last calls (the temporary's unlink) may come after
      // the file is complete; then the call may report success.
      bool ok = CreateVhd(&env, dir.Join("n.vhd"), p).ok();
      if (ok || testutil::FileExists(dir.Join("n.vhd"))) {
        std::unique_ptr<Image> img;
        EXPECT_OK(OpenImage(base::Env::Default(), dir.Join("n.vhd"),
                            OpenOptions(), &img))
            << "crash at " << k;
      }
      EXPECT_FALSE(ok && k < n - 1) << "crash at " << k;
    }
  }
}

// The order of the calls that reach the disk: what makes a power cut leave
// no file or a whole one in either durability.
TEST(CreateTest, DataReachesTheDiskBeforeTheLink) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 8 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("p.vhd"), p));
  auto kinds = [](const base::FaultInjectionEnv& env) {
    std::vector<std::string> k;
    for (const std::string& what : env.history()) {
      std::string verb = what.substr(0, what.find(' '));
      if (verb != "write" && verb != "create") k.push_back(verb);
    }
    return k;
  };
  SnapshotParams sp;
  base::FaultInjectionEnv durable(base::Env::Default());
  ASSERT_OK(
      CreateDifferencing(&durable, dir.Join("d.vhd"), dir.Join("p.vhd"), sp));
  EXPECT_EQ(kinds(durable),
            (std::vector<std::string>{"sync", "link", "unlink", "syncdir"}));
  sp.durability = NewFileDurability::kOrdered;
  base::FaultInjectionEnv ordered(base::Env::Default());
  ASSERT_OK(
      CreateDifferencing(&ordered, dir.Join("o.vhd"), dir.Join("p.vhd"), sp));
  EXPECT_EQ(kinds(ordered),
            (std::vector<std::string>{"writeback", "link", "unlink"}));
  EXPECT_EQ(ordered.history().front().rfind("create ", 0), 0u);
}

// A 2040 GiB disk's BAT (4 MiB, written in pieces) is all unused, and both
// durabilities write the same bytes as the whole-buffer metadata of streams.
TEST(CreateTest, LargestSnapshotHasAnUnusedBatInEitherDurability) {
  testutil::TempDir dir;
  CreateParams p;
  p.size = 2040ull << 30;
  ASSERT_OK(CreateVhd(base::Env::Default(), dir.Join("p.vhd"), p));
  SnapshotParams sp;
  ASSERT_OK(CreateDifferencing(base::Env::Default(), dir.Join("d.vhd"),
                               dir.Join("p.vhd"), sp));
  sp.durability = NewFileDurability::kOrdered;
  ASSERT_OK(CreateDifferencing(base::Env::Default(), dir.Join("o.vhd"),
                               dir.Join("p.vhd"), sp));
  std::string d = testutil::ReadFile(dir.Join("d.vhd"));
  std::string o = testutil::ReadFile(dir.Join("o.vhd"));
  const uint64_t entries = (2040ull << 30) / (2 << 20);
  ASSERT_EQ(d.size(), o.size());
  // BAT, padding, batmap and locators are the same bytes; footers and
  // headers differ only in uuids, timestamps and checksums.
  EXPECT_TRUE(d.compare(1536, d.size() - 2048, o, 1536, o.size() - 2048) == 0);
  EXPECT_EQ(d.substr(1536, entries * 4), std::string(entries * 4, '\xff'));
  auto img = OpenSparse(dir.Join("o.vhd"));
  ASSERT_OK(img->LoadBat());
  EXPECT_EQ(img->allocated_blocks(), 0u);
  EXPECT_EQ(img->header().max_table_entries, entries);
  std::vector<LocatorPayload> locs;
  ASSERT_OK(ParentLocators(base::Env::Default(), dir.Join("o.vhd"),
                           dir.Join("p.vhd"), &locs));
  std::vector<uint8_t> whole =
      BuildSparseMetadata(*img->footer(), img->header(), locs);
  ASSERT_EQ(whole.size() + 512, o.size());
  EXPECT_TRUE(std::equal(whole.begin(), whole.end(),
                         reinterpret_cast<const uint8_t*>(o.data())));
}

}  // namespace
}  // namespace vhd
