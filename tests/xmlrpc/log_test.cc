#include "xmlrpc/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace xmlrpc {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions options;
    options.to_syslog = false;
    options.to_stderr = false;
    options.max_priority = LOG_INFO;
    ConfigureLog(options);
    SetLogSinkForTesting([this](int priority, std::string_view message) {
      lines_.emplace_back(priority, std::string(message));
    });
  }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    ConfigureLog(LogOptions());
  }
  std::vector<std::pair<int, std::string>> lines_;
};

TEST_F(LogTest, DeliversAtOrAboveThePriority) {
  Log(LOG_ERR, "error");
  Log(LOG_INFO, "info");
  Log(LOG_DEBUG, "debug");  // below max_priority
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0], std::make_pair(LOG_ERR, std::string("error")));
  EXPECT_EQ(lines_[1], std::make_pair(LOG_INFO, std::string("info")));
}

TEST_F(LogTest, OneCallIsOneLine) {
  Log(LOG_WARNING,
      "two\nlines\r\tand\x01"
      "control");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].second, "two lines  and control");
}

TEST(LogStderrTest, WritesIdentPrefixedLinesToStderr) {
  LogOptions options;
  options.ident = "logtest";
  options.to_syslog = false;
  ConfigureLog(options);
  testing::internal::CaptureStderr();
  Log(LOG_WARNING, "hello");
  std::string err = testing::internal::GetCapturedStderr();
  ConfigureLog(LogOptions());
  EXPECT_EQ(err, "logtest: hello\n");
}

}  // namespace
}  // namespace xmlrpc
