// Tests of base/env_posix.cc beyond tests/base/env_test.cc: the OpenMode
// flags every Env shares, and the POSIX Env's file and directory calls.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/env.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace base {
namespace {

using Mode = Env::OpenMode;

// What File::Size says (0, and a failure, when it fails).
uint64_t SizeOf(File* f) {
  uint64_t size = 0;
  EXPECT_OK(f->Size(&size));
  return size;
}

TEST(OpenFlagsTest, EachModeMeansItsOpenFlags) {
  EXPECT_EQ(OpenFlags(Mode::kReadOnly), O_CLOEXEC | O_RDONLY);
  EXPECT_EQ(OpenFlags(Mode::kReadWrite), O_CLOEXEC | O_RDWR);
  EXPECT_EQ(OpenFlags(Mode::kCreateExclusive),
            O_CLOEXEC | O_RDWR | O_CREAT | O_EXCL);
  EXPECT_EQ(OpenFlags(Mode::kCreateTruncate),
            O_CLOEXEC | O_RDWR | O_CREAT | O_TRUNC);
}

TEST(PosixEnvTest, OpenedFilesAreCloseOnExec) {
  testutil::TempDir dir;
  std::unique_ptr<File> f;
  ASSERT_OK(Env::Default()->Open(dir.Join("f"), Mode::kCreateTruncate, &f));
  ASSERT_GE(f->fd(), 0);
  EXPECT_NE(::fcntl(f->fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(f->path(), dir.Join("f"));
}

TEST(PosixEnvTest, CreateTruncateEmptiesAnExistingFile) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "old contents");
  std::unique_ptr<File> f;
  ASSERT_OK(Env::Default()->Open(dir.Join("f"), Mode::kCreateTruncate, &f));
  EXPECT_EQ(SizeOf(f.get()), 0u);
  ASSERT_OK(f->Write(3, "xy", 2));  // a hole before the write reads as zeros
  ASSERT_OK(f->Sync());
  EXPECT_EQ(testutil::ReadFile(dir.Join("f")), std::string("\0\0\0xy", 5));
}

TEST(PosixEnvTest, ReadWriteKeepsContentsAndTruncateCuts) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "0123456789");
  std::unique_ptr<File> f;
  ASSERT_OK(Env::Default()->Open(dir.Join("f"), Mode::kReadWrite, &f));
  ASSERT_OK(f->Write(2, "ab", 2));
  ASSERT_OK(f->Truncate(6));
  EXPECT_EQ(SizeOf(f.get()), 6u);
  EXPECT_EQ(testutil::ReadFile(dir.Join("f")), "01ab45");
}

TEST(PosixEnvTest, ReserveAllocatesWithoutGrowingTheFile) {
  testutil::TempDir dir;
  std::unique_ptr<File> f;
  ASSERT_OK(Env::Default()->Open(dir.Join("f"), Mode::kCreateExclusive, &f));
  ASSERT_OK(f->Write(0, "abc", 3));
  ASSERT_OK(f->Reserve(0, 1 << 20));
  EXPECT_EQ(SizeOf(f.get()), 3u);
  EXPECT_EQ(testutil::ReadFile(dir.Join("f")), "abc");
}

TEST(PosixEnvTest, StatTellsKinds) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "12345");
  ASSERT_EQ(0, ::symlink("f", dir.Join("l").c_str()));
  Env* env = Env::Default();
  FileInfo info;
  ASSERT_OK(env->Stat(dir.Join("f"), &info));
  EXPECT_TRUE(info.is_regular);
  EXPECT_FALSE(info.is_dir);
  EXPECT_FALSE(info.is_symlink);
  EXPECT_EQ(info.size, 5u);
  // The POSIX Env follows a symlink and says that it did.
  ASSERT_OK(env->Stat(dir.Join("l"), &info));
  EXPECT_TRUE(info.is_regular);
  EXPECT_TRUE(info.is_symlink);
  ASSERT_OK(env->Stat(dir.path(), &info));
  EXPECT_TRUE(info.is_dir);
  EXPECT_EQ(env->Stat(dir.Join("none"), &info).code(), Code::kNotFound);
  EXPECT_TRUE(env->Exists(dir.Join("f")));
  EXPECT_FALSE(env->Exists(dir.Join("none")));
}

TEST(PosixEnvTest, RenameLinkUnlinkAndTheirErrors) {
  testutil::TempDir dir;
  Env* env = Env::Default();
  testutil::WriteFile(dir.Join("a"), "A");
  ASSERT_OK(env->Link(dir.Join("a"), dir.Join("b")));
  EXPECT_EQ(env->Link(dir.Join("a"), dir.Join("b")).code(), Code::kExists);
  ASSERT_OK(env->Rename(dir.Join("b"), dir.Join("c")));
  EXPECT_FALSE(testutil::FileExists(dir.Join("b")));
  EXPECT_EQ(testutil::ReadFile(dir.Join("c")), "A");
  EXPECT_EQ(env->Rename(dir.Join("b"), dir.Join("d")).code(), Code::kNotFound);
  ASSERT_OK(env->Unlink(dir.Join("c")));
  EXPECT_FALSE(testutil::FileExists(dir.Join("c")));
  EXPECT_EQ(env->Unlink(dir.Join("c")).code(), Code::kNotFound);
}

TEST(PosixEnvTest, MkdirListDirSyncDir) {
  testutil::TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->Mkdir(dir.Join("sub"), 0750));
  EXPECT_EQ(env->Mkdir(dir.Join("sub"), 0750).code(), Code::kExists);
  struct stat st;
  ASSERT_EQ(0, ::stat(dir.Join("sub").c_str(), &st));
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  testutil::WriteFile(dir.Join("sub/x"), "");
  testutil::WriteFile(dir.Join("sub/y"), "");
  std::vector<std::string> names = {"stale"};
  ASSERT_OK(env->ListDir(dir.Join("sub"), &names));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"x", "y"}));  // no . or ..
  EXPECT_OK(env->SyncDir(dir.Join("sub")));
  EXPECT_EQ(env->ListDir(dir.Join("none"), &names).code(), Code::kNotFound);
  EXPECT_EQ(env->SyncDir(dir.Join("none")).code(), Code::kNotFound);
}

TEST(PosixEnvTest, ListDirFdReadsAndAlwaysClosesTheDescriptor) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("a"), "");
  int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<std::string> names;
  ASSERT_OK(ListDirFd(fd, dir.path(), &names));
  EXPECT_EQ(names, std::vector<std::string>{"a"});
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed with the listing

  // Not a directory: refused, named, and closed all the same.
  fd = ::open(dir.Join("a").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Status s = ListDirFd(fd, dir.Join("a"), &names);
  EXPECT_EQ(s.code(), Code::kIOError) << s.ToString();  // ENOTDIR
  EXPECT_NE(s.ToString().find("open dir " + dir.Join("a")), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(names.empty());
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST(PosixEnvTest, NewFdFileOwnsTheDescriptor) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "hello");
  int fd = ::open(dir.Join("f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    std::unique_ptr<File> f = NewFdFile(fd, "named");
    EXPECT_EQ(f->fd(), fd);
    EXPECT_EQ(f->path(), "named");
    char buf[5];
    ASSERT_OK(f->Read(0, 5, buf));
    EXPECT_EQ(std::string(buf, 5), "hello");
    Status s = f->Read(1, 5, buf);
    EXPECT_EQ(s.code(), Code::kCorruption);
    EXPECT_NE(s.ToString().find("named"), std::string::npos) << s.ToString();
  }
  // Closed with the File.
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace base
