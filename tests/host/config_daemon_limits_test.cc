// Tests of the [daemon] keys of host/config.h that bound what callers may
// use: sr_roots, max_connections, request_timeout, body_memory.
#include <gtest/gtest.h>

#include "host/config.h"
#include "tests/util/status_matchers.h"

namespace vhdsm {
namespace {

TEST(ConfigDaemonLimitsTest, Defaults) {
  Config c;
  ASSERT_OK(Config::Parse("[daemon]\nthreads = 4\n", &c));
  EXPECT_EQ(c.sr_roots,
            (std::vector<std::string>{"/var/run/sr-mount", "/srv"}));
  EXPECT_EQ(c.max_connections, 256u);
  EXPECT_EQ(c.request_timeout_seconds, 30u);
  EXPECT_EQ(c.body_memory_bytes, 64ull << 20);
}

TEST(ConfigDaemonLimitsTest, ParsesTheKeys) {
  Config c;
  ASSERT_OK(
      Config::Parse("[daemon]\nsr_roots = /data/sr , /mnt\n"
                    "max_connections = 32\nrequest_timeout = 0\n"
                    "body_memory = 1G\n",
                    &c));
  EXPECT_EQ(c.sr_roots, (std::vector<std::string>{"/data/sr", "/mnt"}));
  EXPECT_EQ(c.max_connections, 32u);
  EXPECT_EQ(c.request_timeout_seconds, 0u);
  EXPECT_EQ(c.body_memory_bytes, 1ull << 30);
}

TEST(ConfigDaemonLimitsTest, RefusesBadValues) {
  for (const char* bad :
       {"sr_roots = relative", "sr_roots =", "sr_roots = /a,,/b",
        "sr_roots = /a, b", "max_connections = 0", "max_connections = -1",
        "max_connections = 70000", "request_timeout = 3601",
        "request_timeout = x", "body_memory = 1M", "body_memory = 65G",
        "body_memory = lots"}) {
    Config c;
    base::Status s = Config::Parse(std::string("[daemon]\n") + bad + "\n", &c);
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  }
  Config c;
  base::Status s = Config::Parse("[daemon]\nsr_roots = srv\n", &c);
  EXPECT_NE(s.message().find("absolute"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vhdsm
