// Tests of sm/gc_mode.h: the three names and nothing else.
#include "sm/gc_mode.h"

#include <gtest/gtest.h>

#include <string>

namespace vhdsm {
namespace {

TEST(GcModeTest, EveryModeRoundTripsThroughItsName) {
  for (GcMode m : {GcMode::kThread, GcMode::kSpawn, GcMode::kOff}) {
    GcMode back = m == GcMode::kOff ? GcMode::kThread : GcMode::kOff;
    ASSERT_TRUE(ParseGcMode(GcModeName(m), &back)) << GcModeName(m);
    EXPECT_EQ(back, m);
  }
  EXPECT_STREQ(GcModeName(GcMode::kThread), "thread");
  EXPECT_STREQ(GcModeName(GcMode::kSpawn), "spawn");
  EXPECT_STREQ(GcModeName(GcMode::kOff), "off");
}

TEST(GcModeTest, AnythingElseIsRefusedAndLeavesTheModeAlone) {
  for (const std::string& bad :
       {std::string(""), std::string("Thread"), std::string("spawn "),
        std::string("of"), std::string("offf"), std::string("thread\0", 7)}) {
    GcMode m = GcMode::kSpawn;
    EXPECT_FALSE(ParseGcMode(bad, &m)) << bad;
    EXPECT_EQ(m, GcMode::kSpawn);
  }
}

}  // namespace
}  // namespace vhdsm
