// UtilCliFixture: a gtest fixture for tests that run the built vhdsm-util
// as a process, in a fresh directory: Util runs it, MustRun also fails the
// test unless it exits 0, P names a file in the directory.
#ifndef VHDSM_TESTS_UTIL_UTIL_CLI_FIXTURE_H_
#define VHDSM_TESTS_UTIL_UTIL_CLI_FIXTURE_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/util/test_util.h"

namespace testutil {

class UtilCliFixture : public ::testing::Test {
 protected:
  RunResult Util(std::vector<std::string> args) {
    args.insert(args.begin(), Built("bin/vhdsm-util"));
    return testutil::Run(args);
  }
  std::string P(const std::string& n) { return dir_.Join(n); }
  void MustRun(std::vector<std::string> args) {
    RunResult r = Util(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  TempDir dir_;
};

}  // namespace testutil

#endif  // VHDSM_TESTS_UTIL_UTIL_CLI_FIXTURE_H_
