// vhdsm-util's chain-operation commands as xapi-project/sm's vhdutil.py
// runs them: coalesce, scan (parsed like _parseVHDInfo), modify, resize,
// revert, repair; exact lines and exit codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "tests/util/test_util.h"

namespace {

class CliOpsTest : public ::testing::Test {
 protected:
  testutil::RunResult Util(std::vector<std::string> args) {
    args.insert(args.begin(), testutil::Built("bin/vhdsm-util"));
    return testutil::Run(args);
  }
  void MustRun(std::vector<std::string> args) {
    testutil::RunResult r = Util(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string P(const std::string& n) { return dir_.Join(n); }
  std::string Export(const std::string& n) {
    MustRun({"export", "-n", P(n), "-o", P(n + ".raw")});
    return testutil::ReadFile(P(n + ".raw"));
  }
  void WriteData(const std::string& n, uint64_t off, const std::string& d) {
    testutil::WriteFile(P("in"), d);
    MustRun({"write", "-n", P(n), "-i", P("in"), "-o", std::to_string(off)});
  }
  // sm's _parseVHDInfo: space-separated key=value, vhd= first.
  std::map<std::string, std::string> Parse(const std::string& line) {
    std::map<std::string, std::string> m;
    std::istringstream in(line);
    std::string kv;
    while (in >> kv) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) break;
      m[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return m;
  }
  testutil::TempDir dir_;
};

TEST_F(CliOpsTest, CoalesceAsSmParsesIt) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "16"});
  MustRun({"snapshot", "-n", P("child.vhd"), "-p", P("base.vhd")});
  WriteData("child.vhd", 4096, testutil::RandomBytes(10000, 1));
  std::string view = Export("child.vhd");
  testutil::RunResult r = Util({"coalesce", "--debug", "-n", P("child.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Coalesced 20 sectors");  // no newline, as vhd-util
  EXPECT_EQ(Export("base.vhd"), view);
  r = Util({"coalesce", "-p", "-n", P("child.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("100.00% 10240/10240 bytes"), std::string::npos)
      << r.out;
  r = Util({"coalesce", "-n", P("base.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(
      r.out.rfind("coalescing of non-differencing disks is not supported\n", 0),
      0u);
  r = Util({"coalesce", "-o", "x", "-n", P("child.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "options: <-n name> [-s sparse] [-p progress] [-h help]\n");
}

TEST_F(CliOpsTest, ScanLinesParseAsSmExpects) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "64"});
  MustRun({"snapshot", "-n", P("a.vhd"), "-p", P("base.vhd")});
  MustRun({"snapshot", "-n", P("b.vhd"), "-p", P("base.vhd")});
  MustRun({"set", "-n", P("base.vhd"), "-f", "hidden", "-v", "1"});
  testutil::RunResult r = Util({"scan", "-f", "-m", P("*.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::map<std::string, std::map<std::string, std::string>> by;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto m = Parse(line);
    by[m["vhd"]] = m;
  }
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by["base.vhd"]["capacity"], std::to_string(64 << 20));
  EXPECT_EQ(by["base.vhd"]["size"],
            std::to_string(testutil::FileSize(P("base.vhd"))));
  EXPECT_EQ(by["base.vhd"]["hidden"], "1");
  EXPECT_EQ(by["base.vhd"]["parent"], "none");
  EXPECT_EQ(by["a.vhd"]["parent"], "base.vhd");
  EXPECT_EQ(by["a.vhd"]["hidden"], "0");
  // Exact line format.
  EXPECT_NE(
      r.out.find(
          "vhd=a.vhd capacity=67108864 size=5120 hidden=0 parent=base.vhd\n"),
      std::string::npos);
}

TEST_F(CliOpsTest, ScanErrorsStopUnlessDashC) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  testutil::WriteFile(P("b.vhd"), "not a vhd at all");
  testutil::RunResult r = Util({"scan", "-m", P("*.vhd")});
  // Shorter than a footer: libvhd's short read, EIO (as vhd-util).
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.out.find("vhd=" + P("b.vhd") +
                       " scan-error=-5 error-message='opening file'\n"),
            std::string::npos)
      << r.out;
  r = Util({"scan", "-c", "-m", P("*.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("vhd=a.vhd capacity="), std::string::npos);
  r = Util({"scan", "-l", "VG_XenStorage", "-m", "*"});
  EXPECT_EQ(r.exit_code, 22);  // vhd-util's code when it cannot scan a VG
  EXPECT_NE(r.err.find("not supported"), std::string::npos);
  EXPECT_NE(r.err.find("scan failed: -22. Check syslog for details\n"),
            std::string::npos);
}

TEST_F(CliOpsTest, ScanReportsAMissingParentAsVhdUtil) {
  MustRun({"create", "-n", P("p.vhd"), "-s", "8"});
  MustRun({"snapshot", "-n", P("c.vhd"), "-p", P("p.vhd")});
  ASSERT_EQ(::unlink(P("p.vhd").c_str()), 0);
  // sm's getAllVHDs(..., exitOnError) finds broken chains by this line; the
  // name is the child's locator (./p.vhd), or the header's name with -f.
  testutil::RunResult r = Util({"scan", "-a", P("c.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "vhd=c.vhd capacity=8388608 size=5120 hidden=0 parent=p.vhd\n"
            "vhd=./p.vhd scan-error=-2 error-message='failure scanning "
            "target'\n");
  r = Util({"scan", "-a", "-f", P("c.vhd")});
  EXPECT_NE(r.out.find("vhd=p.vhd scan-error=-2 error-message='failure "
                       "scanning target'\n"),
            std::string::npos)
      << r.out;
  // A named target that is not there: its line, then the scan stops.
  r = Util({"scan", P("gone.vhd"), P("c.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "vhd=" + P("gone.vhd") +
                       " scan-error=-2 error-message='failure scanning "
                       "target'\n");
  EXPECT_EQ(r.err, "scan failed: -2. Check syslog for details\n");
  r = Util({"scan", "-c", P("gone.vhd"), P("c.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("vhd=c.vhd capacity="), std::string::npos);
  // A fixed disk under -f: vhd-util's fast open fails on it.
  MustRun({"create", "-n", P("f.vhd"), "-s", "2", "-r"});
  r = Util({"scan", "-f", P("f.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "vhd=" + P("f.vhd") +
                       " scan-error=-22 error-message='opening file'\n");
  r = Util({"scan", P("f.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  // Not VHDs: the code depends on the size, as libvhd's footer read.
  testutil::WriteFile(P("e.vhd"), "");
  testutil::WriteFile(P("j.vhd"), std::string(2048, 'j'));
  // The same under -f, which sm uses: every failure to read the footer and
  // header is 'opening file'.
  r = Util({"scan", "-f", "-c", P("e.vhd"), P("j.vhd")});
  EXPECT_EQ(r.out, "vhd=" + P("e.vhd") +
                       " scan-error=-32 error-message='opening file'\n"
                       "vhd=" +
                       P("j.vhd") +
                       " scan-error=-22 error-message='opening file'\n");
  // check names the parent it cannot resolve, and exits 2 (ENOENT).
  r = Util({"check", "-n", P("c.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.rfind("error resolving ./p.vhd: -2\n" + P("c.vhd") +
                            " appears invalid; dumping metadata\n",
                        0),
            0u)
      << r.out;
  r = Util({"scan", "-c", P("e.vhd"), P("j.vhd")});
  EXPECT_EQ(r.out, "vhd=" + P("e.vhd") +
                       " scan-error=-32 error-message='opening file'\n"
                       "vhd=" +
                       P("j.vhd") +
                       " scan-error=-22 error-message='opening file'\n");
}

TEST_F(CliOpsTest, ScanTreeShowsHiddenBaseThenChildren) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "8"});
  MustRun({"snapshot", "-n", P("leaf.vhd"), "-p", P("base.vhd")});
  MustRun({"snapshot", "-n", P("snap.vhd"), "-p", P("base.vhd")});
  MustRun({"set", "-n", P("base.vhd"), "-f", "hidden", "-v", "1"});
  MustRun({"set", "-n", P("snap.vhd"), "-f", "hidden", "-v", "1"});
  MustRun({"create", "-n", P("other.vhd"), "-s", "8"});
  testutil::RunResult r = Util({"scan", "-p", "-m", P("*.vhd")});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(
      r.out,
      "vhd=base.vhd capacity=8388608 size=3584 hidden=1 parent=none\n"
      "   vhd=leaf.vhd capacity=8388608 size=5120 hidden=0 parent=base.vhd\n"
      "   vhd=snap.vhd capacity=8388608 size=5120 hidden=1 parent=base.vhd\n"
      "vhd=other.vhd capacity=8388608 size=3584 hidden=0 parent=none\n");
}

TEST_F(CliOpsTest, ModifyRelinkKillAndSize) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  MustRun({"snapshot", "-n", P("b.vhd"), "-p", P("a.vhd")});
  MustRun({"snapshot", "-n", P("c.vhd"), "-p", P("b.vhd")});
  MustRun({"modify", "--debug", "-p", P("a.vhd"), "-n", P("c.vhd")});
  EXPECT_EQ(Util({"query", "-p", "-n", P("c.vhd")}).out, P("a.vhd") + "\n");
  EXPECT_EQ(Util({"check", "-n", P("c.vhd")}).exit_code, 0);
  testutil::RunResult r =
      Util({"modify", "-p", P("nope.vhd"), "-n", P("c.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "failed to set parent to '" + P("nope.vhd") + "': -2\n");
  WriteData("a.vhd", 0, "data");
  MustRun({"modify", "-z", "-n", P("a.vhd")});
  EXPECT_EQ(Export("a.vhd").substr(0, 4), std::string(4, '\0'));
  r = Util({"modify", "-s", "abc", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.err, "Invalid size 'abc'\n");
  EXPECT_EQ(r.out.rfind("*** Dangerous operations, use with care ***\n", 0),
            0u);
  MustRun({"modify", "-s", std::to_string(8 << 20), "-n", P("a.vhd")});
  EXPECT_EQ(testutil::FileSize(P("a.vhd")), 8u << 20);
}

TEST_F(CliOpsTest, ResizeFastJournaledAndRevert) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "10", "-S", "100"});
  EXPECT_EQ(Util({"query", "-S", "-n", P("a.vhd")}).out, "100\n");
  MustRun({"resize", "--debug", "-s", "50", "-n", P("a.vhd"), "-f"});
  EXPECT_EQ(Util({"query", "-v", "-n", P("a.vhd")}).out, "50\n");
  testutil::RunResult r = Util({"resize", "-s", "200", "-n", P("a.vhd"), "-f"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "resize failed: -22\n");
  MustRun({"resize", "-s", "200", "-n", P("a.vhd"), "-j", P("a.journal")});
  EXPECT_EQ(Util({"query", "-vS", "-n", P("a.vhd")}).out, "200\n200\n");
  EXPECT_FALSE(testutil::FileExists(P("a.journal")));
  r = Util({"resize", "-s", "300", "-n", P("a.vhd")});  // neither -j nor -f
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(
      r.out.rfind(
          "options: <-n name> <-s size (in MB)> (<-j journal>|<-f fast>)", 0),
      0u);
  r = Util({"revert", "-n", P("a.vhd"), "-j", P("missing.journal")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "opening journal failed: -2\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliOpsTest, RepairFixesWhatCheckReports) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  WriteData("a.vhd", 0, "hello");
  std::string d = testutil::ReadFile(P("a.vhd"));
  d.resize(d.size() - 100);  // a torn EOF footer
  testutil::WriteFile(P("a.vhd"), d);
  EXPECT_NE(Util({"check", "-n", P("a.vhd")}).exit_code, 0);
  MustRun({"repair", "-n", P("a.vhd")});
  testutil::RunResult r = Util({"check", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Export("a.vhd").substr(0, 5), "hello");
  r = Util({"repair", "-n", P("nope.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "error opening " + P("nope.vhd") + ": -2\n");
}

}  // namespace
