// Tests of base/clock.h.
#include "base/clock.h"

#include <gtest/gtest.h>

#include <regex>

namespace base {
namespace {

TEST(ClockTest, FormatIsoUtcIsIso8601Utc) {
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoUtc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatIsoUtc(4102444799), "2099-12-31T23:59:59Z");
}

TEST(ClockTest, NowIsoIsNow) {
  time_t before = time(nullptr);
  std::string now = NowIso();
  time_t after = time(nullptr);
  EXPECT_TRUE(
      std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << now;
  EXPECT_TRUE(now == FormatIsoUtc(before) || now == FormatIsoUtc(after)) << now;
}

TEST(ClockTest, MonotonicSecondsNeverGoesBack) {
  double last = MonotonicSeconds();
  for (int i = 0; i < 1000; ++i) {
    double now = MonotonicSeconds();
    EXPECT_GE(now, last);
    last = now;
  }
}

}  // namespace
}  // namespace base
