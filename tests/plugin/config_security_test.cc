// Config: the values that bound resources (sizes through vhd::ParseSize),
// and the permissions of a file that holds object-store keys.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "plugin/config.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

std::string SegmentProblem(const std::string& v) {
  Config c;
  vhd::Status s = Config::Parse("[image]\nsegment_size = " + v + "\n", &c);
  return s.ok() ? "" : s.message();
}

TEST(ConfigSizeTest, SegmentSizeUsesTheOneParser) {
  Config c;
  ASSERT_TRUE(Config::Parse("[image]\nsegment_size = 100M\n", &c).ok());
  EXPECT_EQ(c.segment_size, 100ull << 20);
  ASSERT_TRUE(Config::Parse("[image]\nsegment_size = 5g\n", &c).ok());
  EXPECT_EQ(c.segment_size, 5ull << 30);
  ASSERT_TRUE(Config::Parse("[image]\nsegment_size = 1048576\n", &c).ok());
  EXPECT_EQ(c.segment_size, 1ull << 20);
  for (const char* bad :
       {"1048575", "5121M", "0", "16777217T", "18446744073709551616", "-1M",
        "+1M", "1.5G", "1MB", "100M junk", "", "0x100000"}) {
    std::string p = SegmentProblem(bad);
    EXPECT_NE(p.find("line 2: [image] segment_size: between 1M and 5G"),
              std::string::npos)
        << "'" << bad << "': " << p;
  }
}

}  // namespace
}  // namespace vhdsm
