// Config: the values that bound resources (sizes through base::ParseSize),
// and the permissions of a file that holds object-store keys.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "host/config.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

std::string SegmentProblem(const std::string& v) {
  Config c;
  base::Status s = Config::Parse("[image]\nsegment_size = " + v + "\n", &c);
  return s.ok() ? "" : s.message();
}

TEST(ConfigSizeTest, SegmentSizeUsesTheOneParser) {
  Config c;
  ASSERT_OK(Config::Parse("[image]\nsegment_size = 100M\n", &c));
  EXPECT_EQ(c.image.segment_size, 100ull << 20);
  ASSERT_OK(Config::Parse("[image]\nsegment_size = 5g\n", &c));
  EXPECT_EQ(c.image.segment_size, 5ull << 30);
  ASSERT_OK(Config::Parse("[image]\nsegment_size = 1048576\n", &c));
  EXPECT_EQ(c.image.segment_size, 1ull << 20);
  for (const char* bad :
       {"1048575", "5121M", "0", "16777217T", "18446744073709551616", "-1M",
        "+1M", "1.5G", "1MB", "100M junk", "", "0x100000"}) {
    std::string p = SegmentProblem(bad);
    EXPECT_NE(p.find("line 2: [image] segment_size: between 1M and 5G"),
              std::string::npos)
        << "'" << bad << "': " << p;
  }
}

class ConfigModeTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode) {
    std::string path = dir_.Join("vhdsm.conf");
    testutil::WriteFile(path, text);
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  testutil::TempDir dir_;
};

constexpr char kWithKey[] =
    "[store s]\nauth_url = https://id.example/v3\nuser = u\nkey = sekrit\n";
constexpr char kWithoutKey[] =
    "[daemon]\nthreads = 2\n[store s]\nauth_url = https://id.example/v3\n";

TEST_F(ConfigModeTest, KeysInAFileOthersCanReadAreRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0666}) {
    std::string path = Write(kWithKey, mode);
    Config c;
    base::Status s = Config::Load(path, &c);
    ASSERT_FALSE(s.ok()) << std::oct << mode;
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
    char m[8];
    snprintf(m, sizeof(m), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(s.message().find(std::string("mode is ") + m), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("run `chmod 600 " + path + "`"),
              std::string::npos)
        << s.message();
    ASSERT_FALSE(c.problems.empty());
    EXPECT_EQ(c.problems.front(), s.message());
    EXPECT_EQ(s.message().find("sekrit"), std::string::npos);
  }
}

TEST_F(ConfigModeTest, OwnerOnlyOrKeylessLoads) {
  Config a, b, c, d;
  EXPECT_OK(Config::Load(Write(kWithKey, 0600), &a));
  EXPECT_EQ(a.stores["s"].key, "sekrit");
  EXPECT_OK(Config::Load(Write(kWithKey, 0400), &b));
  EXPECT_OK(Config::Load(Write(kWithoutKey, 0644), &c));
  EXPECT_EQ(c.threads, 2u);
  // An empty `key =` holds no secret.
  EXPECT_OK(
      Config::Load(Write(std::string(kWithoutKey) + "key =\n", 0644), &d));
}

TEST_F(ConfigModeTest, OnlyARegularFileOfBoundedSize) {
  Config c;
  std::string fifo = dir_.Join("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Config::Load(fifo, &c).code(), base::Code::kInvalidArgument);
  EXPECT_EQ(Config::Load(dir_.path(), &c).code(), base::Code::kInvalidArgument);
  std::string big = "# " + std::string(2 << 20, 'x') + "\n";
  EXPECT_EQ(Config::Load(Write(big, 0600), &c).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(Config::Load(dir_.Join("missing"), &c).code(),
            base::Code::kNotFound);
}

}  // namespace
}  // namespace vhdsm
