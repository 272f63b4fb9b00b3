#include "base/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace xmlrpc {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base::LogOptions options;
    options.to_syslog = false;
    options.to_stderr = false;
    options.max_priority = LOG_INFO;
    base::ConfigureLog(options);
    base::SetLogSinkForTesting([this](int priority, std::string_view message) {
      lines_.emplace_back(priority, std::string(message));
    });
  }
  void TearDown() override {
    base::SetLogSinkForTesting(nullptr);
    base::ConfigureLog(base::LogOptions());
  }
  std::vector<std::pair<int, std::string>> lines_;
};

TEST_F(LogTest, DeliversAtOrAboveThePriority) {
  base::Log(LOG_ERR, "error");
  base::Log(LOG_INFO, "info");
  base::Log(LOG_DEBUG, "debug");  // below max_priority
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0], std::make_pair(LOG_ERR, std::string("error")));
  EXPECT_EQ(lines_[1], std::make_pair(LOG_INFO, std::string("info")));
}

TEST_F(LogTest, OneCallIsOneLine) {
  base::Log(LOG_WARNING,
            "two\nlines\r\tand\x01"
            "control");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].second, "two lines  and control");
}

TEST(LogStderrTest, WritesIdentPrefixedLinesToStderr) {
  base::LogOptions options;
  options.ident = "logtest";
  options.to_syslog = false;
  base::ConfigureLog(options);
  testing::internal::CaptureStderr();
  base::Log(LOG_WARNING, "hello");
  std::string err = testing::internal::GetCapturedStderr();
  base::ConfigureLog(base::LogOptions());
  EXPECT_EQ(err, "logtest: hello\n");
}

}  // namespace
}  // namespace xmlrpc
