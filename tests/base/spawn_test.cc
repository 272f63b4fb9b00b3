// SpawnDetached: the child runs with the given arguments, in its own
// session, with /dev/null for stdin/stdout/stderr, and is not waited for.
#include "base/spawn.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

// Waits (up to 10 s) for `path` to appear, then returns its contents.
std::string WaitForFile(const std::string& path) {
  for (int i = 0; i < 1000 && !std::filesystem::exists(path); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return testutil::ReadFile(path);
}

TEST(SpawnDetachedTest, ChildRunsDetachedWithNullStdio) {
  testutil::TempDir dir;
  std::string out = dir.Join("out");
  // The shell reports its pid, its session id (field 6 of /proc/PID/stat)
  // and where its own three standard descriptors lead, all read before the
  // report is written; the rename makes the report appear whole.
  std::string script =
      "r=\"$$ $(cut -d' ' -f6 /proc/$$/stat) $(readlink /proc/$$/fd/0)"
      " $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)\";"
      " echo \"$r\" > '" +
      out + ".tmp' && mv '" + out + ".tmp' '" + out + "'";
  ASSERT_TRUE(base::SpawnDetached("/bin/sh", {"-c", script}));
  std::string report = WaitForFile(out);
  std::istringstream in(report);
  std::string pid, sid, fd0, fd1, fd2;
  in >> pid >> sid >> fd0 >> fd1 >> fd2;
  EXPECT_FALSE(pid.empty()) << report;
  EXPECT_EQ(sid, pid) << "not a session leader: " << report;
  EXPECT_NE(pid, std::to_string(getpid()));
  EXPECT_EQ(fd0, "/dev/null");
  EXPECT_EQ(fd1, "/dev/null");
  EXPECT_EQ(fd2, "/dev/null");
}

TEST(SpawnDetachedTest, ConfigReachesTheChildAsVhdsmConfig) {
  testutil::TempDir dir;
  std::string out = dir.Join("out");
  std::string script = "echo \"[$VHDSM_CONFIG]\" > '" + out + ".tmp' && mv '" +
                       out + ".tmp' '" + out + "'";
  // The given path replaces whatever this process has.
  setenv("VHDSM_CONFIG", "/parent/own.conf", 1);
  ASSERT_TRUE(base::SpawnDetached("/bin/sh", {"-c", script}, "/etc/x y.conf"));
  EXPECT_EQ(WaitForFile(out), "[/etc/x y.conf]\n");
  std::filesystem::remove(out);
  // Without one, the environment is passed on as it is.
  ASSERT_TRUE(base::SpawnDetached("/bin/sh", {"-c", script}));
  EXPECT_EQ(WaitForFile(out), "[/parent/own.conf]\n");
  unsetenv("VHDSM_CONFIG");
}

TEST(SpawnDetachedTest, MissingExecutableIsReported) {
  EXPECT_FALSE(
      base::SpawnDetached("/nonexistent/vhdsm-helper", {"--gc", "/x"}));
}

}  // namespace
}  // namespace vhdsm
