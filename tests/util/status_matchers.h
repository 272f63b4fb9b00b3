// ASSERT_OK / EXPECT_OK: a failing check prints the expression and the
// Status (or any result with ok() and ToString()), so that a red test says
// why. Both accept more context with <<, like every gtest assertion:
//   ASSERT_OK(sr->Scan(&records)) << "after the crash at call " << n;
#ifndef VHDSM_TESTS_UTIL_STATUS_MATCHERS_H_
#define VHDSM_TESTS_UTIL_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#include <string>

namespace testutil {

template <typename T>
std::string DescribeResult(const T& result) {
  if constexpr (requires { result.ToString(); }) {
    return result.ToString();
  } else {
    return "not ok";
  }
}

}  // namespace testutil

// The switch keeps a following `else` of the caller's from binding here
// (gtest's own assertions do the same).
#define VHDSM_OK_CHECK_(expr, fail)                                         \
  switch (0)                                                                \
  case 0:                                                                   \
  default:                                                                  \
    if (const auto& vhdsm_ok_result_ = (expr); vhdsm_ok_result_.ok())       \
      ;                                                                     \
    else                                                                    \
      fail() << #expr                                                       \
             << " failed: " << ::testutil::DescribeResult(vhdsm_ok_result_) \
             << " "

#define ASSERT_OK(expr) VHDSM_OK_CHECK_(expr, GTEST_FAIL)
#define EXPECT_OK(expr) VHDSM_OK_CHECK_(expr, ADD_FAILURE)

#endif  // VHDSM_TESTS_UTIL_STATUS_MATCHERS_H_
