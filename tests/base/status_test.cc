// Tests of base/status.h: codes are stable and errno mapping is right.
#include "base/status.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "tests/util/status_matchers.h"

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
  EXPECT_OK(base::Status::OK().Annotate("x"));
}

}  // namespace
}  // namespace vhd

// The assertions of tests/util/status_matchers.h name the expression and
// print the Status, and stay silent on success.
TEST(StatusMatchers, FailureNamesExpressionAndStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(base::Status::IOError("disk gone")),
                          "base::Status::IOError(\"disk gone\") failed: "
                          "IO_ERROR: disk gone");
  EXPECT_FATAL_FAILURE(ASSERT_OK(base::Status::Busy("locked")) << "ctx 7",
                       "BUSY: locked ctx 7");
  EXPECT_OK(base::Status::OK());
  ASSERT_OK(base::Status::OK()) << "never printed";
}

TEST(StatusMatchers, DetailSurvivesAnnotate) {
  base::Status s = base::Status::IOError("x").WithDetail(5).Annotate("PUT");
  EXPECT_EQ(s.detail(), 5);
  EXPECT_EQ(s.message(), "PUT: x");
  EXPECT_EQ(base::Status::OK().WithDetail(5).detail(), 0);
}
