// Tests of sm/file_lock.h: exclusion between open files and processes, the
// lock file's creation, and a lock path that would leave a confined SR.
#include "sm/file_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/confined_env.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

TEST(FileLockTest, TheLockFileIsCreatedAndHeldUntilReleased) {
  testutil::TempDir dir;
  std::string path = dir.Join("sr.lock");
  std::unique_ptr<FileLock> a, b;
  ASSERT_OK(FileLock::Acquire(base::Env::Default(), path, &a));
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  // flock belongs to the open file: a second open is refused, even here.
  base::Status s = FileLock::TryAcquire(base::Env::Default(), path, &b);
  EXPECT_EQ(s.code(), base::Code::kBusy) << s.ToString();
  EXPECT_EQ(b, nullptr);
  a.reset();
  ASSERT_OK(FileLock::TryAcquire(base::Env::Default(), path, &b));
  EXPECT_TRUE(std::filesystem::is_regular_file(path));  // the same inode
}

TEST(FileLockTest, AnotherProcessesLockExcludesAndItsExitReleases) {
  testutil::TempDir dir;
  std::string path = dir.Join("gc.lock");
  int to_child[2], to_parent[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(to_parent), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::unique_ptr<FileLock> l;
    char c = FileLock::Acquire(base::Env::Default(), path, &l).ok() ? 'y' : 'n';
    if (write(to_parent[1], &c, 1) != 1) _exit(2);
    if (read(to_child[0], &c, 1) != 1) _exit(3);
    _exit(0);  // the lock goes with the process
  }
  char c = 0;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  std::unique_ptr<FileLock> mine;
  EXPECT_EQ(FileLock::TryAcquire(base::Env::Default(), path, &mine).code(),
            base::Code::kBusy);
  ASSERT_EQ(write(to_child[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Acquire would block while the child held it; now it returns.
  ASSERT_OK(FileLock::Acquire(base::Env::Default(), path, &mine));
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) {
    close(fd);
  }
}

TEST(FileLockTest, AnSrsLockNeverLeavesTheSr) {
  testutil::TempDir dir, outside;
  std::unique_ptr<base::ConfinedEnv> env;
  ASSERT_OK(base::ConfinedEnv::Open(dir.path(), &env));
  std::filesystem::create_symlink(outside.path(), dir.Join("escape"));
  std::unique_ptr<FileLock> l;
  base::Status s = FileLock::Acquire(env.get(), dir.Join("escape/sr.lock"), &l);
  EXPECT_EQ(s.code(), base::Code::kUnsafePath) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(outside.Join("sr.lock")));
  // Inside, it works.
  ASSERT_OK(FileLock::Acquire(env.get(), dir.Join("sr.lock"), &l));
  EXPECT_TRUE(std::filesystem::exists(dir.Join("sr.lock")));
}

TEST(FileLockTest, ALockInAMissingDirectoryFails) {
  testutil::TempDir dir;
  std::unique_ptr<FileLock> l;
  base::Status s =
      FileLock::Acquire(base::Env::Default(), dir.Join("no/such/x.lock"), &l);
  EXPECT_EQ(s.code(), base::Code::kNotFound) << s.ToString();
  EXPECT_EQ(l, nullptr);
}

}  // namespace
}  // namespace vhdsm
