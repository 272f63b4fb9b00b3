// Tests of vhd/status.h: codes are stable and errno mapping is right.
#include "vhd/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace vhd {
namespace {

TEST(StatusTest, CodesAreStable) {
  // These numbers are a contract (exit codes, faults); never renumber.
  EXPECT_EQ(static_cast<int>(Code::kCorruption), 2);
  EXPECT_EQ(static_cast<int>(Code::kNoSpace), 6);
  EXPECT_EQ(static_cast<int>(Code::kParentMissing), 7);
  EXPECT_EQ(static_cast<int>(Code::kChainTooLong), 9);
  EXPECT_EQ(static_cast<int>(Code::kBusy), 13);
}

TEST(StatusTest, FromErrnoMapsToCodes) {
  EXPECT_EQ(Status::FromErrno(ENOENT, "x").code(), Code::kNotFound);
  EXPECT_EQ(Status::FromErrno(ENOSPC, "x").code(), Code::kNoSpace);
  EXPECT_EQ(Status::FromErrno(EDQUOT, "x").code(), Code::kNoSpace);
  EXPECT_EQ(Status::FromErrno(EIO, "x").code(), Code::kIOError);
  EXPECT_EQ(Status::FromErrno(EEXIST, "x").code(), Code::kExists);
  EXPECT_NE(Status::FromErrno(ENOENT, "open a").message().find("open a"),
            std::string::npos);
}

TEST(StatusTest, ToErrnoIsNegativeErrnoAsVhdUtil) {
  EXPECT_EQ(Status::OK().ToErrno(), 0);
  EXPECT_EQ(Status::Corruption("x").ToErrno(), -EINVAL);
  EXPECT_EQ(Status::NoSpace("x").ToErrno(), -ENOSPC);
  EXPECT_EQ(Status::NotFound("x").ToErrno(), -ENOENT);
}

TEST(StatusTest, ToStringAndAnnotate) {
  Status s = Status::Corruption("bad footer").Annotate("a.vhd");
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.ToString(), "CORRUPTION: a.vhd: bad footer");
  EXPECT_EQ(Status::OK().ToString(), "OK");
  EXPECT_TRUE(Status::OK().Annotate("x").ok());
}

}  // namespace
}  // namespace vhd
