// Tests of vhd/confined_env.h: every call stays inside its directory, with
// openat2 and with the component walk (forced), and FindParent's confined
// rule.
#include "base/confined_env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/create.h"
#include "vhd/format.h"
#include "vhd/image.h"

namespace vhd {
namespace {

class ConfinedEnvTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = top_.Join("sr");
    out_ = top_.Join("out");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(out_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0755), 0);
    testutil::WriteFile(out_ + "/secret", "outside");
    testutil::WriteFile(root_ + "/f", "inside");
    // Symlinks planted in the directory: to a file outside, to a directory
    // outside, and a relative one that climbs out.
    ASSERT_EQ(::symlink((out_ + "/secret").c_str(), (root_ + "/lf").c_str()),
              0);
    ASSERT_EQ(::symlink(out_.c_str(), (root_ + "/ld").c_str()), 0);
    ASSERT_EQ(::symlink("../out/secret", (root_ + "/rel").c_str()), 0);
    base::ConfinedEnv::Options o;
    o.force_walk = GetParam();
    ASSERT_OK(base::ConfinedEnv::Open(root_, o, &env_));
  }
  std::string In(const std::string& rel) { return root_ + "/" + rel; }
  // Nothing outside changed.
  void ExpectOutsideIntact() {
    EXPECT_EQ(testutil::ReadFile(out_ + "/secret"), "outside");
    std::vector<std::string> names;
    ASSERT_OK(base::Env::Default()->ListDir(out_, &names));
    EXPECT_EQ(names, std::vector<std::string>{"secret"});
  }

  testutil::TempDir top_;
  std::string root_, out_;
  std::unique_ptr<base::ConfinedEnv> env_;
};

TEST_P(ConfinedEnvTest, WorksForNormalNames) {
  EXPECT_EQ(env_->uses_openat2(), !GetParam());  // this kernel has openat2
  std::unique_ptr<base::File> f;
  ASSERT_OK(env_->Open(In("sub/a"), base::Env::OpenMode::kCreateExclusive, &f));
  ASSERT_OK(f->Write(0, "abc", 3));
  f.reset();
  EXPECT_EQ(testutil::ReadFile(In("sub/a")), "abc");
  ASSERT_OK(env_->Open("sub/a", base::Env::OpenMode::kReadOnly, &f));
  char buf[3];
  ASSERT_OK(f->Read(0, 3, buf));
  EXPECT_EQ(std::string(buf, 3), "abc");
  base::FileInfo fi;
  ASSERT_OK(env_->Stat(In("sub/a"), &fi));
  EXPECT_TRUE(fi.is_regular);
  EXPECT_EQ(fi.size, 3u);
  ASSERT_OK(env_->Stat(root_, &fi));
  EXPECT_TRUE(fi.is_dir);
  ASSERT_OK(env_->Link(In("sub/a"), In("b")));
  ASSERT_OK(env_->Rename(In("b"), In("sub/c")));
  ASSERT_OK(env_->Unlink(In("sub/a")));
  EXPECT_EQ(testutil::ReadFile(In("sub/c")), "abc");
  ASSERT_OK(env_->Mkdir(In("d"), 0700));
  EXPECT_EQ(env_->Mkdir(In("d"), 0700).code(), base::Code::kExists);
  ASSERT_OK(env_->SyncDir(In("d")));
  ASSERT_OK(env_->SyncDir(root_));
  std::vector<std::string> names;
  ASSERT_OK(env_->ListDir(In("sub"), &names));
  EXPECT_EQ(names, std::vector<std::string>{"c"});
  ASSERT_OK(base::WriteFileAtomic(env_.get(), In("d/j"), "journal"));
  std::string text;
  ASSERT_OK(base::ReadFileToString(env_.get(), In("d/j"), &text));
  EXPECT_EQ(text, "journal");
  // "//" and "." components are harmless.
  ASSERT_OK(env_->Stat(root_ + "//./sub/./c", &fi));
  EXPECT_EQ(env_->Stat(In("missing"), &fi).code(), base::Code::kNotFound);
  uint64_t total = 0, avail = 0;
  ASSERT_OK(env_->Space(&total, &avail));
  EXPECT_GT(total, 0u);
  EXPECT_FALSE(env_->follows_locators());
}

TEST_P(ConfinedEnvTest, EveryCallRefusesDotDot) {
  const std::string up = In("sub/../../out/secret");
  const std::string up_dir = In("../out");
  std::unique_ptr<base::File> f;
  base::FileInfo fi;
  std::vector<std::string> names;
  for (auto mode :
       {base::Env::OpenMode::kReadOnly, base::Env::OpenMode::kReadWrite,
        base::Env::OpenMode::kCreateTruncate}) {
    EXPECT_EQ(env_->Open(up, mode, &f).code(), base::Code::kUnsafePath);
  }
  EXPECT_EQ(
      env_->Open(In("../out/new"), base::Env::OpenMode::kCreateExclusive, &f)
          .code(),
      base::Code::kUnsafePath);
  EXPECT_EQ(env_->Stat(up, &fi).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Rename(In("f"), In("../out/f")).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(env_->Rename(up, In("g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Link(up, In("g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Link(In("f"), In("../out/g")).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(env_->Unlink(up).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Mkdir(In("../out/d"), 0700).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->SyncDir(up_dir).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->ListDir(up_dir, &names).code(), base::Code::kUnsafePath);
  EXPECT_EQ(
      env_->Open("../out/secret", base::Env::OpenMode::kReadOnly, &f).code(),
      base::Code::kUnsafePath);
  ExpectOutsideIntact();
  EXPECT_EQ(testutil::ReadFile(In("f")), "inside");
}

TEST_P(ConfinedEnvTest, EveryCallRefusesAbsolutePathsElsewhere) {
  const std::string abs = out_ + "/secret";
  std::unique_ptr<base::File> f;
  base::FileInfo fi;
  std::vector<std::string> names;
  EXPECT_EQ(env_->Open(abs, base::Env::OpenMode::kReadWrite, &f).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(
      env_->Open(out_ + "/n", base::Env::OpenMode::kCreateExclusive, &f).code(),
      base::Code::kUnsafePath);
  EXPECT_EQ(env_->Stat(abs, &fi).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Rename(In("f"), abs).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Link(abs, In("g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Unlink(abs).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Mkdir(out_ + "/d", 0700).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->SyncDir(out_).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->ListDir(out_, &names).code(), base::Code::kUnsafePath);
  // A sibling whose name starts with the root's is not inside it.
  EXPECT_EQ(env_->Stat(root_ + "x/f", &fi).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Stat("", &fi).code(), base::Code::kUnsafePath);
  ExpectOutsideIntact();
}

TEST_P(ConfinedEnvTest, EveryCallRefusesSymlinkedComponents) {
  // ld -> the outside directory: any path through it is refused.
  const std::string via = In("ld/secret");
  std::unique_ptr<base::File> f;
  base::FileInfo fi;
  std::vector<std::string> names;
  EXPECT_EQ(env_->Open(via, base::Env::OpenMode::kReadOnly, &f).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(env_->Open(via, base::Env::OpenMode::kCreateTruncate, &f).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(
      env_->Open(In("ld/n"), base::Env::OpenMode::kCreateExclusive, &f).code(),
      base::Code::kUnsafePath);
  EXPECT_EQ(env_->Stat(via, &fi).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Rename(In("f"), In("ld/f")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Rename(via, In("g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Link(via, In("g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Link(In("f"), In("ld/g")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Unlink(via).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->Mkdir(In("ld/d"), 0700).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->SyncDir(In("ld")).code(), base::Code::kUnsafePath);
  EXPECT_EQ(env_->ListDir(In("ld"), &names).code(), base::Code::kUnsafePath);
  ASSERT_TRUE(base::WriteFileAtomic(env_.get(), In("ld/x"), "x").code() ==
              base::Code::kUnsafePath);
  ExpectOutsideIntact();
}

TEST_P(ConfinedEnvTest, SymlinkedFinalComponentIsNeverFollowed) {
  std::unique_ptr<base::File> f;
  for (const char* name : {"lf", "rel"}) {
    for (auto mode :
         {base::Env::OpenMode::kReadOnly, base::Env::OpenMode::kReadWrite,
          base::Env::OpenMode::kCreateTruncate,
          base::Env::OpenMode::kCreateExclusive}) {
      base::Status s = env_->Open(In(name), mode, &f);
      EXPECT_TRUE(s.code() == base::Code::kUnsafePath ||
                  s.code() == base::Code::kExists)
          << name << ": " << s.ToString();
    }
    // Stat reports the link itself; not a regular file.
    base::FileInfo fi;
    ASSERT_OK(env_->Stat(In(name), &fi));
    EXPECT_TRUE(fi.is_symlink);
    EXPECT_FALSE(fi.is_regular);
  }
  // A rename over a symlink replaces the link, not its target; an unlink
  // removes the link.
  ASSERT_OK(env_->Rename(In("f"), In("lf")));
  ASSERT_OK(env_->Unlink(In("rel")));
  // A link of a symlink links the symlink (never the outside file).
  ASSERT_OK(env_->Link(In("ld"), In("ld2")));
  base::FileInfo fi;
  ASSERT_OK(env_->Stat(In("ld2"), &fi));
  EXPECT_TRUE(fi.is_symlink);
  ExpectOutsideIntact();
}

TEST_P(ConfinedEnvTest, OpensRegularFilesOnly) {
  ASSERT_EQ(::mkfifo(In("fifo").c_str(), 0600), 0);
  std::unique_ptr<base::File> f;
  // Would block forever without O_NONBLOCK.
  EXPECT_EQ(env_->Open(In("fifo"), base::Env::OpenMode::kReadOnly, &f).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(env_->Open(In("sub"), base::Env::OpenMode::kReadOnly, &f).code(),
            base::Code::kInvalidArgument);
  // The descriptor of a file it does open blocks as usual (O_NONBLOCK off).
  ASSERT_OK(env_->Open(In("f"), base::Env::OpenMode::kReadOnly, &f));
  EXPECT_EQ(::fcntl(f->fd(), F_GETFL) & O_NONBLOCK, 0);
}

INSTANTIATE_TEST_SUITE_P(Resolution, ConfinedEnvTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "Walk" : "Openat2";
                         });

TEST(ConfinedEnvOpenTest, RootMustBeADirectoryNotASymlink) {
  testutil::TempDir top;
  ASSERT_EQ(::mkdir(top.Join("d").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(top.Join("d").c_str(), top.Join("l").c_str()), 0);
  testutil::WriteFile(top.Join("file"), "x");
  std::unique_ptr<base::ConfinedEnv> env;
  EXPECT_EQ(base::ConfinedEnv::Open(top.Join("l"), &env).code(),
            base::Code::kUnsafePath);
  EXPECT_EQ(base::ConfinedEnv::Open(top.Join("file"), &env).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(base::ConfinedEnv::Open(top.Join("none"), &env).code(),
            base::Code::kNotFound);
  ASSERT_OK(base::ConfinedEnv::Open(top.Join("d") + "/", &env));
  EXPECT_EQ(env->root(), top.Join("d"));
}

// FindParent under a confined Env: the header's name next to the child, a
// VHD with the recorded uuid; never a locator, a raw parent or a symlink.
class ConfinedParentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = top_.Join("sr");
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_OK(base::ConfinedEnv::Open(root_, &env_));
  }
  base::Status Find(const std::string& child, std::string* parent) {
    std::unique_ptr<Image> img;
    RETURN_IF_ERROR(
        OpenImage(env_.get(), root_ + "/" + child, OpenOptions(), &img));
    bool raw = false;
    return FindParent(env_.get(), img.get(), parent, &raw);
  }
  testutil::TempDir top_;
  std::string root_;
  std::unique_ptr<base::ConfinedEnv> env_;
};

TEST_F(ConfinedParentTest, ResolvesByHeaderNameOnly) {
  CreateParams cp;
  cp.size = 4 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), root_ + "/p.vhd", cp));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), root_ + "/c.vhd",
                               root_ + "/p.vhd", SnapshotParams()));
  std::string parent;
  ASSERT_OK(Find("c.vhd", &parent));
  EXPECT_EQ(parent, root_ + "/p.vhd");
  std::unique_ptr<Chain> chain;
  ChainOptions co;
  co.env = env_.get();
  ASSERT_OK(Chain::Open(root_ + "/c.vhd", co, &chain));
  EXPECT_EQ(chain->depth(), 2u);

  // The parent replaced by a symlink to a copy outside: refused, although
  // the locators and the uuid would lead there.
  std::string copy = top_.Join("p.vhd");
  testutil::WriteFile(copy, testutil::ReadFile(root_ + "/p.vhd"));
  ASSERT_EQ(::unlink((root_ + "/p.vhd").c_str()), 0);
  ASSERT_EQ(::symlink(copy.c_str(), (root_ + "/p.vhd").c_str()), 0);
  EXPECT_EQ(Find("c.vhd", &parent).code(), base::Code::kUnsafePath);
  EXPECT_EQ(Chain::Open(root_ + "/c.vhd", co, &chain).code(),
            base::Code::kUnsafePath);
  // And the parent simply gone: missing (the POSIX Env follows the link).
  ASSERT_EQ(::unlink((root_ + "/p.vhd").c_str()), 0);
  EXPECT_EQ(Find("c.vhd", &parent).code(), base::Code::kParentMissing);
}

TEST_F(ConfinedParentTest, RefusesNamesThatAreNotPlainFileNames) {
  CreateParams cp;
  cp.size = 4 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), root_ + "/p.vhd", cp));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), root_ + "/c.vhd",
                               root_ + "/p.vhd", SnapshotParams()));
  ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(::link((root_ + "/p.vhd").c_str(), (root_ + "/sub/p.vhd").c_str()),
            0);
  for (const std::string& name :
       {std::string("../sr/p.vhd"), std::string("sub/p.vhd"),
        std::string("sub\\p.vhd"), std::string(".."),
        std::string("p\x1b[2J.vhd")}) {
    std::string d = testutil::ReadFile(root_ + "/c.vhd");
    auto* u = reinterpret_cast<uint8_t*>(d.data());
    DynamicHeader h = DynamicHeader::Decode(u + 512);
    ASSERT_OK(h.SetParentName(name)) << name;
    h.Seal();
    h.Encode(u + 512);
    testutil::WriteFile(root_ + "/c.vhd", d);
    std::string parent;
    base::Status s = Find("c.vhd", &parent);
    EXPECT_EQ(s.code(), base::Code::kCorruption)
        << name << ": " << s.ToString();
    EXPECT_EQ(s.message().find('\x1b'), std::string::npos);  // escaped
  }
}

TEST_F(ConfinedParentTest, RefusesRawParentAndWrongUuid) {
  testutil::WriteFile(root_ + "/raw", std::string(4 << 20, 'r'));
  SnapshotParams sp;
  sp.raw_parent = true;
  ASSERT_OK(CreateDifferencing(base::Env::Default(), root_ + "/c.vhd",
                               root_ + "/raw", sp));
  std::string parent;
  base::Status s = Find("c.vhd", &parent);
  EXPECT_EQ(s.code(), base::Code::kCorruption);
  EXPECT_NE(s.message().find("raw parent"), std::string::npos) << s.message();

  CreateParams cp;
  cp.size = 4 << 20;
  ASSERT_OK(CreateVhd(base::Env::Default(), root_ + "/p.vhd", cp));
  ASSERT_OK(CreateDifferencing(base::Env::Default(), root_ + "/d.vhd",
                               root_ + "/p.vhd", SnapshotParams()));
  // Another disk under the parent's name.
  ASSERT_EQ(::unlink((root_ + "/p.vhd").c_str()), 0);
  ASSERT_OK(CreateVhd(base::Env::Default(), root_ + "/p.vhd", cp));
  EXPECT_EQ(Find("d.vhd", &parent).code(), base::Code::kParentMismatch);
}

}  // namespace
}  // namespace vhd
