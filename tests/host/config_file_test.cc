// Tests of host/config.h against the shipped rpm/vhdsm.conf: every key in
// it (the commented-out store example too) is known and valid, so a key
// added to the file without code fails here; and [log] level is applied.
#include <gtest/gtest.h>
#include <syslog.h>

#include <filesystem>
#include <sstream>

#include "base/log.h"
#include "host/config.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

std::string ShippedConfig() {
  std::string root;
  if (const char* src = std::getenv("VHDSM_SRC"); src && *src) {
    root = src;
  } else {
    // <root>/<build>/tests/host_tests
    root = std::filesystem::read_symlink("/proc/self/exe")
               .parent_path()
               .parent_path()
               .parent_path()
               .string();
  }
  return root + "/rpm/vhdsm.conf";
}

// The file with its examples switched on: "# key = value" lines after a
// "# [section]" line become live.
std::string Uncommented(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool example = false;
  while (std::getline(in, line)) {
    if (line.rfind("# [", 0) == 0) example = true;
    if (line.rfind("[", 0) == 0) example = false;
    if (example && line.rfind("# ", 0) == 0) line = line.substr(2);
    out += line + "\n";
  }
  return out;
}

TEST(ConfigFileTest, TheShippedFileLoadsWithoutProblems) {
  std::string path = ShippedConfig();
  ASSERT_TRUE(testutil::FileExists(path)) << path;
  Config c;
  base::Status s = Config::Load(path, &c);
  // The package installs it 0600; a checkout may leave it 0644, which is
  // fine as long as it holds no key.
  ASSERT_OK(s);
  EXPECT_TRUE(c.problems.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.image.segment_size, 100ull << 20);
  EXPECT_EQ(c.image.parallel_segments, 2);
  testutil::RunResult r =
      testutil::Run({testutil::Built("bin/vhdsm"), "config", "check", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(": OK"), std::string::npos) << r.out;
}

TEST(ConfigFileTest, EveryKeyOfTheShippedFileIsKnownExamplesIncluded) {
  std::string text = Uncommented(testutil::ReadFile(ShippedConfig()));
  ASSERT_NE(text.find("\n[store cloudfiles]\n"), std::string::npos) << text;
  Config c;
  base::Status s = Config::Parse(text, &c);
  EXPECT_OK(s);
  for (const std::string& p : c.problems) ADD_FAILURE() << p;
  ASSERT_EQ(c.stores.count("cloudfiles"), 1u);
  EXPECT_EQ(c.stores.at("cloudfiles").auth_version, "2");
  EXPECT_EQ(c.stores.at("cloudfiles").region, "DFW");
}

TEST(ConfigFileTest, AnUnknownKeyIsAProblem) {
  Config c;
  base::Status s = Config::Parse(
      testutil::ReadFile(ShippedConfig()) + "\n[image]\nno_such_key = 1\n", &c);
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("[image] no_such_key: unknown key"),
            std::string::npos)
      << s.message();
}

TEST(ConfigFileTest, LogLevelIsApplied) {
  std::vector<int> seen;
  base::SetLogSinkForTesting(
      [&](int priority, std::string_view) { seen.push_back(priority); });
  Config c;
  ASSERT_OK(Config::Parse("[log]\nlevel = warning\n", &c));
  EXPECT_EQ(c.LogPriority(), LOG_WARNING);
  c.ApplyLogLevel();
  EXPECT_EQ(setlogmask(0), LOG_UPTO(LOG_WARNING));
  base::Log(LOG_INFO, "dropped");
  base::Log(LOG_WARNING, "kept");
  base::Log(LOG_ERR, "kept");
  EXPECT_EQ(seen, (std::vector<int>{LOG_WARNING, LOG_ERR}));
  for (const auto& [level, priority] : std::vector<std::pair<std::string, int>>{
           {"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"error", LOG_ERR}}) {
    ASSERT_OK(Config::Parse("[log]\nlevel = " + level + "\n", &c));
    EXPECT_EQ(c.LogPriority(), priority) << level;
  }
  EXPECT_EQ(Config::Parse("[log]\nlevel = loud\n", &c).code(),
            base::Code::kInvalidArgument);
  base::SetLogSinkForTesting(nullptr);
  Config().ApplyLogLevel();  // the defaults again
  EXPECT_EQ(setlogmask(0), LOG_UPTO(LOG_INFO));
}

}  // namespace
}  // namespace vhdsm
