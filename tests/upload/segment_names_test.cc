// Segment and sub-manifest names, and run ids.
#include "upload/segment_names.h"

#include <gtest/gtest.h>

namespace upload {
namespace {

TEST(SegmentNames, Scheme) {
  SegmentNames n("images/disk.vhd.gz", "1700000000.123456", 1073741824,
                 104857600);
  EXPECT_EQ(n.prefix(),
            "images/disk.vhd.gz/1700000000.123456/1073741824/104857600/");
  EXPECT_EQ(n.Segment(0), n.prefix() + "00000000");
  EXPECT_EQ(n.Segment(1234), n.prefix() + "00001234");
  EXPECT_EQ(n.Segment(123456789), n.prefix() + "123456789");
  EXPECT_EQ(n.SubManifest(2), n.prefix() + "manifest/00000002");
  uint64_t i = 0;
  EXPECT_TRUE(n.ParseSegment(n.Segment(42), &i));
  EXPECT_EQ(i, 42u);
  EXPECT_TRUE(n.ParseSegment(n.Segment(123456789), &i));
  EXPECT_EQ(i, 123456789u);
  EXPECT_FALSE(n.ParseSegment(n.prefix() + "0042", &i));
  EXPECT_FALSE(n.ParseSegment(n.prefix() + "000000042", &i));
  EXPECT_FALSE(n.ParseSegment(n.SubManifest(1), &i));
  EXPECT_FALSE(n.ParseSegment("other/00000001", &i));
}

TEST(SegmentNames, RunIdsAreTimestamps) {
  std::string a = NewRunId();
  ASSERT_EQ(a.size(), 17u);  // 10 digits, '.', 6 digits (until 2286)
  EXPECT_EQ(a[10], '.');
}

}  // namespace
}  // namespace upload
