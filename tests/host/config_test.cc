// Tests of host/config.h: the keys of a [store NAME] section and of [image].
#include "host/config.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"

namespace vhdsm {
namespace {

const char kStore[] =
    "[store s]\nauth_url = http://127.0.0.1:8080/auth/v1.0\nuser = a:b\n"
    "key = k\n";

TEST(ConfigTest, StoreDefaultsAreSecureAndPatient) {
  Config c;
  ASSERT_OK(Config::Parse(kStore, &c));
  const StoreConfig& s = c.stores.at("s");
  EXPECT_FALSE(s.allow_insecure);
  EXPECT_EQ(s.connect_timeout_s, 10u);
  EXPECT_EQ(s.stall_timeout_s, 60u);
  EXPECT_EQ(s.retries, 6u);
}

TEST(ConfigTest, StoreTimeoutsRetriesAndInsecure) {
  Config c;
  ASSERT_OK(Config::Parse(std::string(kStore) +
                              "allow_insecure = true\nconnect_timeout = 2\n"
                              "stall_timeout = 3\nretries = 1\n",
                          &c));
  const StoreConfig& s = c.stores.at("s");
  EXPECT_TRUE(s.allow_insecure);
  EXPECT_EQ(s.connect_timeout_s, 2u);
  EXPECT_EQ(s.stall_timeout_s, 3u);
  EXPECT_EQ(s.retries, 1u);
}

TEST(ConfigTest, BadStoreValuesAreProblemsWithLines) {
  for (const char* line :
       {"allow_insecure = yes", "connect_timeout = 0", "stall_timeout = 3601",
        "retries = 21", "retries = -1", "connect_timeout = 1e3"}) {
    Config c;
    base::Status s = Config::Parse(std::string(kStore) + line + "\n", &c);
    EXPECT_FALSE(s.ok()) << line;
    ASSERT_FALSE(c.problems.empty()) << line;
    EXPECT_NE(c.problems[0].find("line 5"), std::string::npos) << c.problems[0];
  }
}

TEST(ConfigTest, ImageSectionOverridesTheImageDefaults) {
  Config c;
  ASSERT_OK(Config::Parse(
      "[image]\nsegment_size = 8M\nconcurrency = 5\ncompression_level = 1\n"
      "format = tgz\nmanifest = dlo\n",
      &c));
  EXPECT_EQ(c.image.segment_size, 8ull << 20);
  EXPECT_EQ(c.image.parallel_segments, 5);
  EXPECT_EQ(c.image.compression_level, 1);
  EXPECT_EQ(c.image.format, "tgz");
  EXPECT_EQ(c.image.manifest, "dlo");
}

TEST(ConfigTest, WithoutImageSectionTheDefaultsAreImageParams) {
  Config c;
  ASSERT_OK(Config::Parse("[daemon]\nthreads = 2\n", &c));
  const ImageParams d;
  EXPECT_EQ(c.image.segment_size, d.segment_size);
  EXPECT_EQ(c.image.parallel_segments, d.parallel_segments);
  EXPECT_EQ(c.image.compression_level, d.compression_level);
  EXPECT_EQ(c.image.format, d.format);
  EXPECT_EQ(c.image.manifest, d.manifest);
}

TEST(ConfigTest, RetryDelayScale) {
  Config c;
  EXPECT_EQ(c.retry_delay_scale, 1.0);
  ASSERT_OK(Config::Parse("[image]\nretry_delay_scale = 0.05\n", &c));
  EXPECT_DOUBLE_EQ(c.retry_delay_scale, 0.05);
  for (const char* v : {"0", "-1", "x", "1e9", "0.5s", "nan", ""}) {
    Config bad;
    base::Status s = Config::Parse(
        std::string("[image]\nretry_delay_scale = ") + v + "\n", &bad);
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument) << v;
    EXPECT_NE(s.message().find("line 2: [image] retry_delay_scale"),
              std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace vhdsm
