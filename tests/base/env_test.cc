// Tests of base/env.h (POSIX Env, helpers) and base/fault_env.h.
#include "base/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>

#include "base/confined_env.h"
#include "base/fault_env.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhd {
namespace {

TEST(EnvTest, ReadIsExactOrCorruption) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "0123456789");
  std::unique_ptr<base::File> f;
  ASSERT_OK(base::Env::Default()->Open(dir.Join("f"),
                                       base::Env::OpenMode::kReadOnly, &f));
  char buf[16];
  ASSERT_OK(f->Read(2, 5, buf));
  EXPECT_EQ(std::string(buf, 5), "23456");
  EXPECT_EQ(f->Read(8, 5, buf).code(), base::Code::kCorruption);
  size_t got = 0;
  ASSERT_OK(f->ReadSome(8, 5, buf, &got));
  EXPECT_EQ(got, 2u);
  EXPECT_EQ(f->Write(0, "x", 1).code(),
            base::Code::kIOError);  // opened read-only
}

TEST(EnvTest, WriteBackAndItsFallbackToSync) {
  testutil::TempDir dir;
  std::unique_ptr<base::File> f;
  ASSERT_OK(base::Env::Default()->Open(
      dir.Join("f"), base::Env::OpenMode::kCreateExclusive, &f));
  ASSERT_OK(f->Write(0, "abc", 3));
  base::Status s = f->WriteBack(0, 0);
  EXPECT_OK(s);
  EXPECT_EQ(testutil::ReadFile(dir.Join("f")), "abc");
  // A FIFO refuses sync_file_range (ESPIPE): WriteBack falls back to
  // fdatasync, which a FIFO refuses too (EINVAL), and says so.
  ASSERT_EQ(0, ::mkfifo(dir.Join("p").c_str(), 0600));
  std::unique_ptr<base::File> p;
  ASSERT_OK(base::Env::Default()->Open(dir.Join("p"),
                                       base::Env::OpenMode::kReadWrite, &p));
  s = p->WriteBack(0, 0);
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.ToString().find("sync " + dir.Join("p")), std::string::npos)
      << s.ToString();
}

TEST(EnvTest, OpenModes) {
  testutil::TempDir dir;
  base::Env* env = base::Env::Default();
  std::unique_ptr<base::File> f;
  EXPECT_EQ(
      env->Open(dir.Join("nope"), base::Env::OpenMode::kReadOnly, &f).code(),
      base::Code::kNotFound);
  ASSERT_OK(
      env->Open(dir.Join("a"), base::Env::OpenMode::kCreateExclusive, &f));
  EXPECT_EQ(env->Open(dir.Join("a"), base::Env::OpenMode::kCreateExclusive, &f)
                .code(),
            base::Code::kExists);
  EXPECT_EQ(env->Open(dir.path(), base::Env::OpenMode::kReadOnly, &f).code(),
            base::Code::kInvalidArgument);
}

TEST(EnvTest, CopyToCopiesInKernelOrNot) {
  testutil::TempDir dir;
  std::string data = testutil::RandomBytes(3 << 20, 1);
  testutil::WriteFile(dir.Join("src"), data);
  base::Env* env = base::Env::Default();
  std::unique_ptr<base::File> src, dst;
  ASSERT_OK(env->Open(dir.Join("src"), base::Env::OpenMode::kReadOnly, &src));
  ASSERT_OK(
      env->Open(dir.Join("dst"), base::Env::OpenMode::kCreateTruncate, &dst));
  ASSERT_OK(src->CopyTo(dst.get(), 4096, 100, 2 << 20));
  dst.reset();
  std::string out = testutil::ReadFile(dir.Join("dst"));
  ASSERT_EQ(out.size(), 100u + (2 << 20));
  EXPECT_EQ(out.substr(100), data.substr(4096, 2 << 20));
  EXPECT_EQ(out.substr(0, 100), std::string(100, '\0'));
  // Past the end of the source: an error, not a short copy.
  ASSERT_OK(env->Open(dir.Join("dst"), base::Env::OpenMode::kReadWrite, &dst));
  EXPECT_FALSE(src->CopyTo(dst.get(), (3 << 20) - 10, 0, 100).ok());
}

TEST(EnvTest, PathHelpers) {
  EXPECT_EQ(base::DirName("/a/b/c.vhd"), "/a/b");
  EXPECT_EQ(base::DirName("c.vhd"), ".");
  EXPECT_EQ(base::DirName("/c.vhd"), "/");
  EXPECT_EQ(base::BaseName("/a/b/c.vhd"), "c.vhd");
  EXPECT_EQ(base::JoinPath("/a", "./b.vhd"), "/a/./b.vhd");
  EXPECT_EQ(base::JoinPath("/a", "/x/b.vhd"), "/x/b.vhd");
  EXPECT_EQ(base::JoinPath(".", "b.vhd"), "b.vhd");
}

TEST(EnvTest, WriteFileAtomicReplacesWholeFile) {
  testutil::TempDir dir;
  base::Env* env = base::Env::Default();
  ASSERT_OK(base::WriteFileAtomic(env, dir.Join("m"), "first version"));
  ASSERT_OK(base::WriteFileAtomic(env, dir.Join("m"), "v2"));
  std::string s;
  ASSERT_OK(base::ReadFileToString(env, dir.Join("m"), &s));
  EXPECT_EQ(s, "v2");
  std::vector<std::string> names;
  ASSERT_OK(base::Env::Default()->ListDir(dir.path(), &names));
  EXPECT_EQ(names, std::vector<std::string>{"m"});  // no temp file left
}

TEST(EnvTest, WriteFileAtomicCrashLeavesOldOrNew) {
  testutil::TempDir dir;
  ASSERT_OK(base::WriteFileAtomic(base::Env::Default(), dir.Join("m"), "old"));
  base::FaultInjectionEnv count(base::Env::Default());
  ASSERT_OK(base::WriteFileAtomic(&count, dir.Join("m"), "new"));
  int64_t n = count.mutations();
  ASSERT_GE(n, 4);
  for (int64_t k = 0; k < n; ++k) {
    ASSERT_OK(
        base::WriteFileAtomic(base::Env::Default(), dir.Join("m"), "old"));
    base::FaultInjectionEnv env(base::Env::Default());
    env.CrashAt(k);
    EXPECT_FALSE(base::WriteFileAtomic(&env, dir.Join("m"), "new").ok());
    std::string s;
    ASSERT_OK(base::ReadFileToString(base::Env::Default(), dir.Join("m"), &s));
    EXPECT_TRUE(s == "old" || s == "new") << "crash at " << k << ": " << s;
  }
}

TEST(FaultEnvTest, CrashStopsAllLaterIo) {
  testutil::TempDir dir;
  base::FaultInjectionEnv env(base::Env::Default());
  env.CrashAt(1);
  std::unique_ptr<base::File> f;
  ASSERT_OK(env.Open(dir.Join("f"), base::Env::OpenMode::kCreateTruncate, &f));
  EXPECT_EQ(env.mutations(), 1);
  EXPECT_EQ(f->Write(0, "abc", 3).code(), base::Code::kIOError);
  EXPECT_TRUE(env.crashed());
  char c;
  EXPECT_FALSE(f->Read(0, 1, &c).ok());
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_EQ(testutil::FileSize(dir.Join("f")), 0u);  // the write never landed
}

TEST(FaultEnvTest, TornWriteAppliesPrefix) {
  testutil::TempDir dir;
  base::FaultInjectionEnv env(base::Env::Default());
  env.CrashAt(1, 2);
  std::unique_ptr<base::File> f;
  ASSERT_OK(env.Open(dir.Join("f"), base::Env::OpenMode::kCreateTruncate, &f));
  EXPECT_FALSE(f->Write(0, "abcdef", 6).ok());
  EXPECT_EQ(testutil::ReadFile(dir.Join("f")), "ab");
}

TEST(FaultEnvTest, FailAtFailsOnceWithGivenStatus) {
  testutil::TempDir dir;
  base::FaultInjectionEnv env(base::Env::Default());
  env.FailAt(1, base::Status::NoSpace("disk full"));
  std::unique_ptr<base::File> f;
  ASSERT_OK(env.Open(dir.Join("f"), base::Env::OpenMode::kCreateTruncate, &f));
  EXPECT_EQ(f->Write(0, "a", 1).code(), base::Code::kNoSpace);
  EXPECT_OK(f->Write(0, "b", 1));
  EXPECT_FALSE(env.crashed());
}

// realpath(3) of an existing path, for the expected values.
std::string Real(const std::string& p) {
  char* r = ::realpath(p.c_str(), nullptr);
  std::string s = r ? r : "";
  std::free(r);
  return s;
}

// dir/sub/f, dir/link -> sub, dir/out -> a file outside dir.
struct RealpathTree {
  testutil::TempDir dir;
  testutil::TempDir other;
  RealpathTree() {
    EXPECT_EQ(::mkdir(dir.Join("sub").c_str(), 0755), 0);
    testutil::WriteFile(dir.Join("sub/f"), "x");
    testutil::WriteFile(other.Join("secret"), "s");
    EXPECT_EQ(::symlink("sub", dir.Join("link").c_str()), 0);
    EXPECT_EQ(::symlink(other.Join("secret").c_str(), dir.Join("out").c_str()),
              0);
  }
};

TEST(EnvRealpathTest, PosixResolvesSymlinksAndDots) {
  RealpathTree t;
  base::Env* env = base::Env::Default();
  const std::string want = Real(t.dir.path()) + "/sub/f";
  std::string got;
  ASSERT_OK(env->Realpath(t.dir.Join("link/f"), &got));
  EXPECT_EQ(got, want);
  ASSERT_OK(env->Realpath(t.dir.Join("sub/./../sub/f"), &got));
  EXPECT_EQ(got, want);
  ASSERT_OK(env->Realpath(t.dir.Join("out"), &got));
  EXPECT_EQ(got, Real(t.other.Join("secret")));
  EXPECT_EQ(env->Realpath(t.dir.Join("missing"), &got).code(),
            base::Code::kNotFound);
}

TEST(EnvStatFsTest, PosixReportsTheFileSystemsBytes) {
  testutil::TempDir dir;
  base::FsInfo info;
  ASSERT_OK(base::Env::Default()->StatFs(dir.path(), &info));
  struct statvfs st;
  ASSERT_EQ(::statvfs(dir.path().c_str(), &st), 0);
  EXPECT_EQ(info.total, uint64_t{st.f_blocks} * st.f_frsize);
  EXPECT_GT(info.total, 0u);
  EXPECT_LE(info.free, info.total);
  EXPECT_LE(info.available, info.free);
  EXPECT_EQ(base::Env::Default()->StatFs(dir.Join("missing"), &info).code(),
            base::Code::kNotFound);
}

TEST(FaultEnvTest, FailQueriesFailsRealpathAndStatFsUncounted) {
  testutil::TempDir dir;
  testutil::WriteFile(dir.Join("f"), "x");
  base::FaultInjectionEnv env(base::Env::Default());
  std::string got;
  base::FsInfo info;
  ASSERT_OK(env.Realpath(dir.Join("f"), &got));
  EXPECT_EQ(got, Real(dir.Join("f")));
  ASSERT_OK(env.StatFs(dir.path(), &info));
  EXPECT_GT(info.total, 0u);

  env.FailQueries(base::Status::IOError("injected"));
  EXPECT_EQ(env.Realpath(dir.Join("f"), &got).code(), base::Code::kIOError);
  EXPECT_EQ(env.StatFs(dir.path(), &info).code(), base::Code::kIOError);
  EXPECT_EQ(env.mutations(), 0);
  env.FailQueries(base::Status::OK());
  EXPECT_OK(env.Realpath(dir.Join("f"), &got));

  // After a simulated crash nothing answers, these included.
  env.CrashAt(0);
  EXPECT_FALSE(env.Unlink(dir.Join("f")).ok());
  EXPECT_EQ(env.Realpath(dir.Join("f"), &got).code(), base::Code::kIOError);
  EXPECT_EQ(env.StatFs(dir.path(), &info).code(), base::Code::kIOError);
}

TEST(ConfinedEnvRealpathTest, InsideIsCanonicalEscapesAreRefused) {
  RealpathTree t;
  for (bool walk : {false, true}) {
    SCOPED_TRACE(walk ? "walk" : "openat2");
    base::ConfinedEnv::Options o;
    o.force_walk = walk;
    std::unique_ptr<base::ConfinedEnv> env;
    ASSERT_OK(base::ConfinedEnv::Open(t.dir.path(), o, &env));
    const std::string root = Real(t.dir.path());
    std::string got;
    ASSERT_OK(env->Realpath(t.dir.Join("sub/./f"), &got));
    EXPECT_EQ(got, root + "/sub/f");
    ASSERT_OK(env->Realpath("sub/f", &got));
    EXPECT_EQ(got, root + "/sub/f");
    ASSERT_OK(env->Realpath(t.dir.path(), &got));
    EXPECT_EQ(got, root);
    // Out by "..", by an absolute name, by a symlinked directory on the way,
    // by a last component that is a symlink to a file outside.
    for (const std::string& p :
         {t.dir.Join("sub/../../x"), t.other.Join("secret"),
          t.dir.Join("link/f"), t.dir.Join("out"), std::string("/etc")}) {
      EXPECT_EQ(env->Realpath(p, &got).code(), base::Code::kUnsafePath) << p;
    }
    EXPECT_EQ(env->Realpath(t.dir.Join("sub/missing"), &got).code(),
              base::Code::kNotFound);
  }
}

TEST(ConfinedEnvStatFsTest, TheRootsFileSystemForPathsInside) {
  testutil::TempDir dir;
  testutil::TempDir other;
  std::unique_ptr<base::ConfinedEnv> env;
  ASSERT_OK(base::ConfinedEnv::Open(dir.path(), &env));
  base::FsInfo want, got;
  ASSERT_OK(base::Env::Default()->StatFs(dir.path(), &want));
  ASSERT_OK(env->StatFs(dir.path(), &got));
  EXPECT_EQ(got.total, want.total);
  ASSERT_OK(env->StatFs("anything/below", &got));
  EXPECT_EQ(got.total, want.total);
  uint64_t total = 0, avail = 0;
  ASSERT_OK(env->Space(&total, &avail));
  EXPECT_EQ(total, want.total);
  EXPECT_LE(avail, total);
  EXPECT_EQ(env->StatFs(other.path(), &got).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env->StatFs("../x", &got).code(), base::Code::kUnsafePath);
}

}  // namespace
}  // namespace vhd
