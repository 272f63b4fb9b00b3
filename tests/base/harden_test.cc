// ProtectCredentials: after it, the process is not dumpable and its core
// limit is 0 (soft and hard). Run in a forked child: it cannot be undone.
#include "base/harden.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vhd {
namespace {

// Exit status of a child that runs `body`: 0 when every check held.
template <typename F>
int InChild(F body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(ProtectCredentialsTest, NotDumpableAndNoCore) {
  ASSERT_EQ(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  EXPECT_EQ(InChild([] {
              struct rlimit some = {4096, RLIM_INFINITY};
              if (setrlimit(RLIMIT_CORE, &some) != 0) return 1;
              if (prctl(PR_GET_DUMPABLE) != 1) return 2;
              if (!base::ProtectCredentials().ok()) return 3;
              if (prctl(PR_GET_DUMPABLE) != 0) return 4;
              struct rlimit r;
              if (getrlimit(RLIMIT_CORE, &r) != 0) return 5;
              if (r.rlim_cur != 0 || r.rlim_max != 0) return 6;
              // Again: idempotent.
              if (!base::ProtectCredentials().ok()) return 7;
              return prctl(PR_GET_DUMPABLE) == 0 ? 0 : 8;
            }),
            0);
}

TEST(ProtectCredentialsTest, ACrashLeavesNoCore) {
  // SIGABRT would dump core: the child dies by the signal without one.
  char dir[] = "/tmp/vhdsm-core-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(1);
    struct rlimit some = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_CORE, &some);
    if (!base::ProtectCredentials().ok()) _exit(2);
    abort();
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  EXPECT_FALSE(WCOREDUMP(status));
  rmdir(dir);  // fails if a core file was left in it
  EXPECT_NE(access(dir, F_OK), 0) << dir << " is not empty";
}

}  // namespace
}  // namespace vhd
