// Tests of vhd/scan.h: the record ScanFile gives for a dynamic disk, a
// differencing child (fast mode: the header's parent name; otherwise the
// resolved path), a child whose parent is gone, and files that cannot be
// read ("opening file", with the Status that stopped it).
#include "vhd/scan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "base/env.h"
#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/inspect.h"

namespace vhd {
namespace {

class ScanTest : public testutil::ChainFixture {
 protected:
  ScanRecord Scan(const std::string& name, bool fast) {
    ScanOptions o;
    o.fast = fast;
    return ScanFile(base::Env::Default(), P(name), o);
  }
  std::string Canonical(const std::string& name) {
    char* p = realpath(P(name).c_str(), nullptr);
    std::string s = p != nullptr ? p : "";
    free(p);
    return s;
  }
};

TEST_F(ScanTest, DynamicDisk) {
  Create("a.vhd", 8 << 20);
  VhdInfo info;
  ASSERT_OK(InspectVhd(base::Env::Default(), P("a.vhd"), false, &info));
  for (bool fast : {false, true}) {
    ScanRecord r = Scan("a.vhd", fast);
    ASSERT_OK(r.status) << fast;
    EXPECT_EQ(r.path, P("a.vhd"));
    EXPECT_EQ(r.capacity, 8u << 20);
    EXPECT_EQ(r.size, testutil::FileSize(P("a.vhd")));
    EXPECT_FALSE(r.hidden);
    EXPECT_FALSE(r.fixed);
    EXPECT_FALSE(r.has_parent);
    EXPECT_TRUE(r.parent.empty());
    EXPECT_EQ(r.uuid, info.uuid);
    EXPECT_FALSE(r.uuid.IsNull());
  }
}

TEST_F(ScanTest, HiddenFlagIsReported) {
  Create("a.vhd", 4 << 20);
  ASSERT_OK(SetHidden(base::Env::Default(), P("a.vhd"), true));
  EXPECT_TRUE(Scan("a.vhd", false).hidden);
  EXPECT_TRUE(Scan("a.vhd", true).hidden);
}

TEST_F(ScanTest, DifferencingChildNamesItsParent) {
  Create("base.vhd", 4 << 20);
  Snap("child.vhd", "base.vhd");
  ScanRecord fast = Scan("child.vhd", true);
  ASSERT_OK(fast.status);
  EXPECT_TRUE(fast.has_parent);
  EXPECT_EQ(fast.parent, "base.vhd");

  ScanRecord full = Scan("child.vhd", false);
  ASSERT_OK(full.status);
  EXPECT_TRUE(full.has_parent);
  EXPECT_EQ(full.parent, Canonical("base.vhd"));
  EXPECT_OK(full.parent_status);
  EXPECT_EQ(full.capacity, 4u << 20);
}

TEST_F(ScanTest, MissingParentIsReportedNotFatal) {
  Create("base.vhd", 4 << 20);
  Snap("child.vhd", "base.vhd");
  ASSERT_EQ(0, std::remove(P("base.vhd").c_str()));
  ScanRecord r = Scan("child.vhd", false);
  // The child itself reads; the record says why its parent does not.
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.has_parent);
  EXPECT_FALSE(r.parent_status.ok());
  EXPECT_NE(r.parent.find("base.vhd"), std::string::npos) << r.parent;
  // Fast mode never looks for the parent.
  ScanRecord fast = Scan("child.vhd", true);
  ASSERT_OK(fast.status);
  EXPECT_EQ(fast.parent, "base.vhd");
}

TEST_F(ScanTest, UnreadableFilesSayOpeningFile) {
  for (bool fast : {false, true}) {
    ScanRecord r = Scan("absent.vhd", fast);
    EXPECT_EQ(r.status.code(), base::Code::kNotFound) << fast;
    EXPECT_EQ(r.error, "opening file");
    EXPECT_EQ(r.path, P("absent.vhd"));
  }
  testutil::WriteFile(P("junk.vhd"), testutil::RandomBytes(64 << 10, 3));
  for (bool fast : {false, true}) {
    ScanRecord r = Scan("junk.vhd", fast);
    EXPECT_EQ(r.status.code(), base::Code::kCorruption) << fast;
    EXPECT_EQ(r.error, "opening file");
    EXPECT_EQ(r.size, 64u << 10);
  }
}

}  // namespace
}  // namespace vhd
