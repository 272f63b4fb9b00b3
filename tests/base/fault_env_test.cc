// Tests of base/fault_env.h beyond the crash/torn/fail basics in
// tests/base/env_test.cc: what counts as a mutation, in which order, and
// what a crash leaves on disk.
#include "base/fault_env.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace base {
namespace {

using Mode = Env::OpenMode;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  FaultInjectionEnvTest() : env_(Env::Default()) {}
  std::string P(const std::string& name) const { return dir_.Join(name); }

  testutil::TempDir dir_;
  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionEnvTest, HistoryListsMutationsInOrderAndNoReads) {
  testutil::WriteFile(P("old"), "x");
  std::unique_ptr<File> f;
  ASSERT_OK(env_.Open(P("old"), Mode::kReadOnly, &f));  // a read
  char c;
  ASSERT_OK(f->Read(0, 1, &c));
  uint64_t size;
  ASSERT_OK(f->Size(&size));
  FileInfo info;
  ASSERT_OK(env_.Stat(P("old"), &info));
  std::vector<std::string> names;
  ASSERT_OK(env_.ListDir(dir_.path(), &names));
  EXPECT_EQ(env_.mutations(), 0);

  ASSERT_OK(env_.Open(P("a"), Mode::kCreateExclusive, &f));
  ASSERT_OK(f->Write(0, "abc", 3));
  ASSERT_OK(f->Truncate(2));
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->WriteBack(0, 2));
  ASSERT_OK(env_.Link(P("a"), P("b")));
  ASSERT_OK(env_.Rename(P("b"), P("c")));
  ASSERT_OK(env_.Unlink(P("c")));
  ASSERT_OK(env_.Mkdir(P("d"), 0755));
  ASSERT_OK(env_.SyncDir(dir_.path()));
  EXPECT_EQ(env_.history(),
            (std::vector<std::string>{
                "create " + P("a"), "write " + P("a"), "truncate " + P("a"),
                "sync " + P("a"), "writeback " + P("a"), "link " + P("a"),
                "rename " + P("b"), "unlink " + P("c"), "mkdir " + P("d"),
                "syncdir " + dir_.path()}));
  EXPECT_EQ(env_.mutations(), 10);
  EXPECT_EQ(testutil::ReadFile(P("a")), "ab");
}

TEST_F(FaultInjectionEnvTest, CopyToCountsTheDestinationsWrites) {
  std::string data = testutil::RandomBytes(100, 7);
  testutil::WriteFile(P("src"), data);
  std::unique_ptr<File> src, dst;
  ASSERT_OK(env_.Open(P("src"), Mode::kReadOnly, &src));
  ASSERT_OK(env_.Open(P("dst"), Mode::kCreateTruncate, &dst));
  ASSERT_OK(src->CopyTo(dst.get(), 10, 0, 50));
  ASSERT_EQ(env_.history().size(), 2u);
  EXPECT_EQ(env_.history()[1], "write " + P("dst"));
  EXPECT_EQ(testutil::ReadFile(P("dst")), data.substr(10, 50));
}

TEST_F(FaultInjectionEnvTest, CrashLeavesTheDiskAsBeforeTheCall) {
  testutil::WriteFile(P("a"), "A");
  env_.CrashAt(1);
  ASSERT_OK(env_.Rename(P("a"), P("b")));  // mutation 0 lands
  Status s = env_.Unlink(P("b"));          // mutation 1 crashes
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_NE(s.ToString().find("simulated crash at mutation 1"),
            std::string::npos)
      << s.ToString();
  EXPECT_TRUE(testutil::FileExists(P("b")));
  // After the crash nothing works, reads included, and nothing lands.
  FileInfo info;
  EXPECT_EQ(env_.Stat(P("b"), &info).code(), Code::kIOError);
  std::vector<std::string> names;
  EXPECT_EQ(env_.ListDir(dir_.path(), &names).code(), Code::kIOError);
  std::unique_ptr<File> f;
  EXPECT_EQ(env_.Open(P("b"), Mode::kReadOnly, &f).code(), Code::kIOError);
  EXPECT_EQ(env_.Mkdir(P("d"), 0755).code(), Code::kIOError);
  EXPECT_FALSE(testutil::FileExists(P("d")));
  EXPECT_EQ(env_.mutations(), 3);  // failed calls count too
}

TEST_F(FaultInjectionEnvTest, TornBytesNeverExceedTheWrite) {
  std::unique_ptr<File> f;
  ASSERT_OK(env_.Open(P("f"), Mode::kCreateTruncate, &f));
  env_.Reset();
  env_.CrashAt(0, 100);
  EXPECT_FALSE(f->Write(0, "abc", 3).ok());
  EXPECT_EQ(testutil::ReadFile(P("f")), "abc");
}

TEST_F(FaultInjectionEnvTest, FailedCallDoesNothingAndSaysWhat) {
  testutil::WriteFile(P("a"), "A");
  env_.FailAt(0, Status::ReadOnly("read-only filesystem"));
  Status s = env_.Rename(P("a"), P("b"));
  EXPECT_EQ(s.code(), Code::kReadOnly);
  EXPECT_NE(s.ToString().find("rename " + P("a")), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(testutil::FileExists(P("a")));
  EXPECT_FALSE(testutil::FileExists(P("b")));
  ASSERT_OK(env_.Rename(P("a"), P("b")));  // only once
}

TEST_F(FaultInjectionEnvTest, NoSpaceFailsReserveWithoutCounting) {
  std::unique_ptr<File> f;
  ASSERT_OK(env_.Open(P("f"), Mode::kCreateTruncate, &f));
  env_.SetNoSpace(true);
  EXPECT_EQ(f->Reserve(0, 4096).code(), Code::kNoSpace);
  EXPECT_EQ(env_.mutations(), 1);  // the create only
  env_.SetNoSpace(false);
  EXPECT_OK(f->Reserve(0, 4096));
}

TEST_F(FaultInjectionEnvTest, ResetForgetsCountsHistoryAndCrash) {
  std::unique_ptr<File> f;
  env_.CrashAt(0);
  EXPECT_FALSE(env_.Open(P("f"), Mode::kCreateTruncate, &f).ok());
  ASSERT_TRUE(env_.crashed());
  env_.Reset();
  EXPECT_FALSE(env_.crashed());
  EXPECT_EQ(env_.mutations(), 0);
  EXPECT_TRUE(env_.history().empty());
  ASSERT_OK(env_.Open(P("f"), Mode::kCreateTruncate, &f));
  EXPECT_OK(f->Write(0, "x", 1));
}

TEST_F(FaultInjectionEnvTest, ForwardsToTheWrappedEnv) {
  EXPECT_EQ(env_.follows_locators(), Env::Default()->follows_locators());
  std::unique_ptr<File> f;
  EXPECT_EQ(env_.Open(P("none"), Mode::kReadOnly, &f).code(), Code::kNotFound);
}

}  // namespace
}  // namespace base
