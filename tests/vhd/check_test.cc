// Tests of vhd/check.h: each rule reports vhd-util's message, and valid
// files (ours and qemu's) pass.
#include "vhd/check.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/create.h"
#include "vhd/endian.h"
#include "vhd/format.h"
#include "vhd/inspect.h"

namespace vhd {
namespace {

class CheckTest : public ::testing::Test {
 protected:
  std::string P(const std::string& n) { return dir_.Join(n); }
  void Create(const std::string& n, uint64_t mb) {
    CreateParams p;
    p.size = mb << 20;
    ASSERT_OK(CreateVhd(base::Env::Default(), P(n), p));
  }
  void Fill(const std::string& n, uint64_t off, size_t len) {
    testutil::WriteFile(P("data"), testutil::RandomBytes(len, off));
    auto r = testutil::Run({testutil::Built("bin/vhdsm-util"), "write", "-n",
                            P(n), "-i", P("data"), "-o", std::to_string(off)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Runs the checker; returns "" when valid, else the first problem line.
  std::string Problem(const std::string& n, CheckOptions o = CheckOptions()) {
    CheckReport r;
    base::Status s = CheckVhd(base::Env::Default(), P(n), o, &r);
    if (s.ok()) {
      EXPECT_FALSE(r.lines.empty());
      return "";
    }
    EXPECT_EQ(s.code(), base::Code::kCorruption) << s.ToString();
    return r.lines.empty() ? s.message() : r.lines.front();
  }
  // Edits the file's bytes; `fix` re-seals footers/header checksums.
  void Patch(const std::string& n, uint64_t off, const std::string& bytes) {
    std::string d = testutil::ReadFile(P(n));
    d.replace(off, bytes.size(), bytes);
    testutil::WriteFile(P(n), d);
  }
  void ResealHeader(const std::string& n) {
    std::string d = testutil::ReadFile(P(n));
    auto* u = reinterpret_cast<uint8_t*>(d.data());
    DynamicHeader h = DynamicHeader::Decode(u + 512);
    h.Seal();
    h.Encode(u + 512);
    testutil::WriteFile(P(n), d);
  }
  std::string Be32(uint32_t v) {
    std::string s(4, '\0');
    StoreBE32(reinterpret_cast<uint8_t*>(s.data()), v);
    return s;
  }
  testutil::TempDir dir_;
};

TEST_F(CheckTest, FreshFilesAreValid) {
  Create("a.vhd", 64);
  EXPECT_EQ(Problem("a.vhd"), "");
  Fill("a.vhd", 12345, 5 << 20);
  CheckOptions o;
  o.check_data = true;
  EXPECT_EQ(Problem("a.vhd", o), "");
}

TEST_F(CheckTest, OverlappingBlocksAreFoundBySorting) {
  Create("a.vhd", 64);
  Fill("a.vhd", 0, 6 << 20);  // blocks 0,1,2
  std::string d = testutil::ReadFile(P("a.vhd"));
  uint32_t b0 = LoadBE32(reinterpret_cast<const uint8_t*>(d.data()) + 1536);
  Patch("a.vhd", 1536 + 4 * 2, Be32(b0 + 8));  // block 2 inside block 0
  std::string p = Problem("a.vhd");
  EXPECT_NE(p.find(" clobbers block "), std::string::npos) << p;
  CheckOptions o;
  o.skip_bat_overlap = true;
  EXPECT_EQ(Problem("a.vhd", o), "");
}

TEST_F(CheckTest, BlockOverHeadersOrPastFooter) {
  Create("a.vhd", 64);
  Fill("a.vhd", 0, 4096);
  Patch("a.vhd", 1536, Be32(2));  // sector 2: inside the header
  EXPECT_EQ(Problem("a.vhd"), "block 0 (offset 0x2) clobbers headers\n");
  Patch("a.vhd", 1536, Be32(0x100000));
  EXPECT_EQ(Problem("a.vhd"), "block 0 (offset 0x100000) clobbers footer\n");
}

TEST_F(CheckTest, BackupFooterMustMatch) {
  Create("a.vhd", 8);
  Footer f;
  {
    std::string d = testutil::ReadFile(P("a.vhd"));
    f = Footer::Decode(reinterpret_cast<const uint8_t*>(d.data()));
  }
  f.timestamp += 1;
  f.Seal();
  std::string b(512, '\0');
  f.Encode(reinterpret_cast<uint8_t*>(b.data()));
  Patch("a.vhd", 0, b);
  EXPECT_EQ(Problem("a.vhd"), "primary and backup footers do not match\n");
}

TEST_F(CheckTest, FooterFieldRules) {
  Create("a.vhd", 8);
  uint64_t eof = testutil::FileSize(P("a.vhd")) - 512;
  auto set_field = [&](size_t at, const std::string& bytes) {
    std::string d = testutil::ReadFile(P("a.vhd"));
    auto* u = reinterpret_cast<uint8_t*>(d.data());
    d.replace(eof + at, bytes.size(), bytes);
    Footer f = Footer::Decode(u + eof);
    f.Seal();
    f.Encode(u + eof);
    f.Encode(u);
    testutil::WriteFile(P("a.vhd"), d);
  };
  set_field(85, std::string(1, '\2'));
  EXPECT_EQ(Problem("a.vhd"),
            "primary footer invalid: invalid 'hidden' state\n");
  set_field(85, std::string(1, '\0'));
  EXPECT_EQ(Problem("a.vhd"), "");
  set_field(8, Be32(0));
  EXPECT_EQ(Problem("a.vhd"),
            "primary footer invalid: invalid 'reserved' feature\n");
  set_field(8, Be32(2));
  set_field(24, Be32(VhdTimeNow() + 7200));
  EXPECT_EQ(Problem("a.vhd"),
            "primary footer invalid: creation time in future\n");
  CheckOptions o;
  o.ignore_timestamps = true;
  EXPECT_EQ(Problem("a.vhd", o), "");
}

TEST_F(CheckTest, BatmapClaimingUnallocatedBlock) {
  Create("a.vhd", 8);
  std::string d = testutil::ReadFile(P("a.vhd"));
  auto* u = reinterpret_cast<uint8_t*>(d.data());
  u[2560] = 0x80;  // map: block 0 full
  BatmapHeader b = BatmapHeader::Decode(u + 2048);
  b.checksum = BatmapHeader::MapChecksum(u + 2560, 512, b.batmap_version);
  b.Encode(u + 2048);
  testutil::WriteFile(P("a.vhd"), d);
  EXPECT_EQ(Problem("a.vhd"), "batmap shows unallocated block 0 full\n");
  u[2560] = 0x00;  // map back, checksum now stale
  testutil::WriteFile(P("a.vhd"), d);
  EXPECT_EQ(Problem("a.vhd"), "batmap is invalid: invalid checksum\n");
}

TEST_F(CheckTest, DataUnderClearBitsWithDashB) {
  Create("a.vhd", 8);
  Fill("a.vhd", 0, 512);  // block 0, sector 0 only
  std::string d = testutil::ReadFile(P("a.vhd"));
  uint32_t b0 = LoadBE32(reinterpret_cast<const uint8_t*>(d.data()) + 1536);
  Patch("a.vhd", (uint64_t{b0} + 1 + 5) * 512, "junk");  // sector 5 of block 0
  EXPECT_EQ(Problem("a.vhd"), "");
  CheckOptions o;
  o.check_data = true;
  EXPECT_EQ(Problem("a.vhd", o),
            "sector 0x5 of block 0x0 has data where bitmap is clear\n");
}

TEST_F(CheckTest, ParentUuidAndLocatorNames) {
  Create("p.vhd", 8);
  ASSERT_OK(CreateDifferencing(base::Env::Default(), P("c.vhd"), P("p.vhd"),
                               SnapshotParams()));
  EXPECT_EQ(Problem("c.vhd"), "");
  // Replace the parent by another disk of the same name.
  base::Env::Default()->Unlink(P("p.vhd"));
  Create("p.vhd", 8);
  std::string p = Problem("c.vhd");
  EXPECT_EQ(p, "invalid parent " + P("p.vhd") + ": invalid parent uuid\n");
  CheckOptions o;
  o.ignore_parent_uuid = true;
  EXPECT_EQ(Problem("c.vhd", o), "");
  // A header name that the locators do not match.
  DynamicHeader h;
  {
    std::string d = testutil::ReadFile(P("c.vhd"));
    h = DynamicHeader::Decode(reinterpret_cast<const uint8_t*>(d.data()) + 512);
  }
  ASSERT_OK(h.SetParentName("other.vhd"));
  h.Seal();
  std::string hb(1024, '\0');
  h.Encode(reinterpret_cast<uint8_t*>(hb.data()));
  Patch("c.vhd", 512, hb);
  EXPECT_EQ(Problem("c.vhd", o),
            "parent locator 0 name (p.vhd) does not match header name "
            "(other.vhd)\n");
}

TEST_F(CheckTest, DashPChecksEveryAncestor) {
  Create("a.vhd", 8);
  ASSERT_OK(CreateDifferencing(base::Env::Default(), P("b.vhd"), P("a.vhd"),
                               SnapshotParams()));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), P("c.vhd"), P("b.vhd"),
                               SnapshotParams()));
  CheckOptions o;
  o.check_parents = true;
  CheckReport r;
  ASSERT_OK(CheckVhd(base::Env::Default(), P("c.vhd"), o, &r));
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_EQ(r.lines.back(), P("a.vhd") + " is valid\n");
  // Break the grandparent: -p finds it, plain check does not look.
  std::string d = testutil::ReadFile(P("a.vhd"));
  d[d.size() - 1] ^= 0x55;
  testutil::WriteFile(P("a.vhd"), d);
  CheckReport r2;
  EXPECT_FALSE(CheckVhd(base::Env::Default(), P("c.vhd"), o, &r2).ok());
  EXPECT_EQ(r2.files.back().first, P("a.vhd"));
  EXPECT_EQ(Problem("c.vhd"), "");
}

TEST_F(CheckTest, HeaderRules) {
  Create("a.vhd", 8);
  Patch("a.vhd", 512 + 32, Be32(3 << 20));  // block size not a power of two
  ResealHeader("a.vhd");
  EXPECT_EQ(Problem("a.vhd"), "header is invalid: invalid block size\n");
  Patch("a.vhd", 512 + 32, Be32(2 << 20));
  Patch("a.vhd", 512 + 16,
        std::string("\0\0\0\0\0\0\x06\x01", 8));  // table @1537
  ResealHeader("a.vhd");
  EXPECT_EQ(Problem("a.vhd"), "header is invalid: invalid table offset\n");
  Patch("a.vhd", 512 + 16, std::string("\0\0\0\0\0\0\x06\x00", 8));
  Patch("a.vhd", 512 + 36, Be32(0));  // stale checksum
  EXPECT_EQ(Problem("a.vhd"), "header is invalid: invalid checksum\n");
}

}  // namespace
}  // namespace vhd
