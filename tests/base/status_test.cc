// Tests of base/status.h: codes are stable and errno mapping is right.
#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace vhd {
namespace {

TEST(StatusTest, CodesAreStable) {
  // These numbers are a contract (exit codes, faults); never renumber.
  EXPECT_EQ(static_cast<int>(base::Code::kCorruption), 2);
  EXPECT_EQ(static_cast<int>(base::Code::kNoSpace), 6);
  EXPECT_EQ(static_cast<int>(base::Code::kParentMissing), 7);
  EXPECT_EQ(static_cast<int>(base::Code::kChainTooLong), 9);
  EXPECT_EQ(static_cast<int>(base::Code::kBusy), 13);
}

TEST(StatusTest, FromErrnoMapsToCodes) {
  EXPECT_EQ(base::Status::FromErrno(ENOENT, "x").code(), base::Code::kNotFound);
  EXPECT_EQ(base::Status::FromErrno(ENOSPC, "x").code(), base::Code::kNoSpace);
  EXPECT_EQ(base::Status::FromErrno(EDQUOT, "x").code(), base::Code::kNoSpace);
  EXPECT_EQ(base::Status::FromErrno(EIO, "x").code(), base::Code::kIOError);
  EXPECT_EQ(base::Status::FromErrno(EEXIST, "x").code(), base::Code::kExists);
  EXPECT_NE(base::Status::FromErrno(ENOENT, "open a").message().find("open a"),
            std::string::npos);
}

TEST(StatusTest, ToErrnoIsNegativeErrnoAsVhdUtil) {
  EXPECT_EQ(base::Status::OK().ToErrno(), 0);
  EXPECT_EQ(base::Status::Corruption("x").ToErrno(), -EINVAL);
  EXPECT_EQ(base::Status::NoSpace("x").ToErrno(), -ENOSPC);
  EXPECT_EQ(base::Status::NotFound("x").ToErrno(), -ENOENT);
}

TEST(StatusTest, ToStringAndAnnotate) {
  base::Status s = base::Status::Corruption("bad footer").Annotate("a.vhd");
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_EQ(s.ToString(), "CORRUPTION: a.vhd: bad footer");
  EXPECT_EQ(base::Status::OK().ToString(), "OK");
  EXPECT_TRUE(base::Status::OK().Annotate("x").ok());
}

}  // namespace
}  // namespace vhd
