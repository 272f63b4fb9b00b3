// End-to-end tests of build/bin/vhdsm-util: vhd-util's syntax, output lines
// and exit codes, as xapi-project/sm's vhdutil.py runs and parses them.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/util/test_util.h"
#include "tests/util/util_cli_fixture.h"
#include "vhd/endian.h"
#include "vhd/format.h"

namespace {

using testutil::RunResult;

class CliTest : public testutil::UtilCliFixture {
 protected:
  std::vector<std::string> Lines(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l)) v.push_back(l);
    return v;
  }
};

TEST_F(CliTest, UsageAndUnknownCommandsExitZeroAsVhdUtil) {
  RunResult r = Util({});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(
      r.out.rfind("usage: vhd-util COMMAND [OPTIONS]\nCOMMAND := { create", 0),
      0u);
  r = Util({"frobnicate"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "invalid COMMAND frobnicate\n");
  EXPECT_NE(r.out.find("usage: vhd-util"), std::string::npos);
}

TEST_F(CliTest, CreateValidatesArguments) {
  RunResult r = Util({"create", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out.rfind("options: <-n name> <-s size (MB)>", 0), 0u);
  r = Util({"create", "-n", P("a.vhd"), "-s", "100", "-S", "50"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "Error: <-S size> must be greater than <-s size>\n");
  r = Util({"create", "-n", P("a.vhd"), "-s", "100", "-z"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.err, "create: invalid option -- 'z'\n");
  MustRun({"create", "--debug", "-n", P("a.vhd"), "-s", "100"});
  EXPECT_EQ(testutil::FileSize(P("a.vhd")), 3584u);
  r = Util({"create", "-n", P("a.vhd"), "-s", "100"});  // exists
  EXPECT_EQ(r.exit_code, 17);
}

TEST_F(CliTest, SizeArgumentsInMbCannotWrap) {
  // 2^44 MB is 2^64 bytes: it wrapped to a 0-byte disk; "16x" was 16.
  for (const char* bad : {"17592186044416", "18446744073709551615", "16x", "-1",
                          "", " 16", "1G"}) {
    RunResult r = Util({"create", "-n", P("a.vhd"), "-s", bad});
    EXPECT_EQ(r.exit_code, 22) << "'" << bad << "'";
    EXPECT_EQ(r.out.rfind("options: <-n name> <-s size (MB)>", 0), 0u) << bad;
    r = Util({"create", "-n", P("a.vhd"), "-s", "8", "-S", bad});
    EXPECT_EQ(r.exit_code, 22) << "'" << bad << "'";
    EXPECT_FALSE(testutil::FileExists(P("a.vhd"))) << bad;
  }
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  RunResult r = Util(
      {"snapshot", "-n", P("b.vhd"), "-p", P("a.vhd"), "-S", "17592186044416"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_FALSE(testutil::FileExists(P("b.vhd")));
  r = Util({"resize", "-n", P("a.vhd"), "-s", "17592186044416", "-f"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out.rfind("options: <-n name> <-s size (in MB)>", 0), 0u);
  r = Util({"query", "-n", P("a.vhd"), "-v"});
  EXPECT_EQ(r.out, "8\n");
}

TEST_F(CliTest, QueryPrintsFieldsInVhdUtilOrderWhateverTheFlagOrder) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "100"});
  testutil::WriteFile(P("d"), testutil::RandomBytes(3 << 20, 1));
  MustRun({"write", "-n", P("base.vhd"), "-i", P("d"), "-o", "1048576"});
  RunResult r = Util({"query", "--debug", "-pfsav", "-n", P("base.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "100\n" + std::to_string(testutil::FileSize(P("base.vhd"))) +
                       "\n" + P("base.vhd") + " has no parent\nhidden: 0\n2\n");
  r = Util({"query", "-n", P("base.vhd"), "-S", "-d", "-m"});
  EXPECT_EQ(r.out, "marker: 0\nchain depth: 1\n100\n");
}

TEST_F(CliTest, QueryOfDifferencingChainAsSmParsesIt) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "64"});
  MustRun({"snapshot", "-n", P("mid.vhd"), "-p", P("base.vhd")});
  testutil::WriteFile(P("d"), "x");
  MustRun({"write", "-n", P("mid.vhd"), "-i", P("d")});
  MustRun({"snapshot", "-n", P("leaf.vhd"), "-p", P("mid.vhd")});
  // sm getVHDInfo: query --debug -vsafp -n PATH, positional lines.
  RunResult r = Util({"query", "--debug", "-vsafp", "-n", P("leaf.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto f = Lines(r.out);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(std::stoull(f[0]) << 20, 64ull << 20);
  EXPECT_EQ(std::stoull(f[1]), testutil::FileSize(P("leaf.vhd")));
  EXPECT_EQ(f[2], P("mid.vhd"));  // resolved, canonical
  EXPECT_EQ(f[3], "hidden: 0");
  EXPECT_EQ(f[4], "0");  // allocated blocks
  r = Util({"query", "-d", "-n", P("leaf.vhd")});
  EXPECT_EQ(r.out, "chain depth: 3\n");
  r = Util({"query", "-p", "-u", "-n", P("leaf.vhd")});
  EXPECT_EQ(r.out, "./mid.vhd\n");
}

TEST_F(CliTest, QueryErrors) {
  RunResult r = Util({"query", "-v", "-n", P("missing.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "error opening " + P("missing.vhd") + ": -2\n");
  MustRun({"create", "-n", P("f.vhd"), "-s", "4", "-r"});
  r = Util({"query", "-a", "-n", P("f.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "error reading bat: -22\n");
  r = Util({"query", "-vS", "-n", P("f.vhd")});
  EXPECT_EQ(r.out, "4\n0\n");
}

TEST_F(CliTest, SnapshotSkipsEmptyParentsAndHonoursDepthLimit) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "16"});
  MustRun({"snapshot", "-n", P("empty.vhd"), "-p", P("base.vhd")});
  MustRun({"snapshot", "-n", P("c1.vhd"), "-p", P("empty.vhd")});
  EXPECT_EQ(Util({"query", "-p", "-n", P("c1.vhd")}).out, P("base.vhd") + "\n");
  MustRun({"snapshot", "-e", "-n", P("c2.vhd"), "-p", P("empty.vhd")});
  EXPECT_EQ(Util({"query", "-p", "-n", P("c2.vhd")}).out,
            P("empty.vhd") + "\n");
  RunResult r = Util(
      {"snapshot", "-e", "-l", "2", "-n", P("c3.vhd"), "-p", P("empty.vhd")});
  EXPECT_EQ(r.exit_code, 28);
  EXPECT_EQ(r.out, "snapshot depth exceeded: current depth: 2, limit: 2\n");
  EXPECT_FALSE(testutil::FileExists(P("c3.vhd")));
  r = Util({"snapshot", "-n", P("c4.vhd"), "-p", P("nope.vhd")});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, ReadHeadersAsSmParsesThem) {
  MustRun({"create", "-n", P("base.vhd"), "-s", "100"});
  MustRun({"snapshot", "-n", P("leaf.vhd"), "-p", P("base.vhd")});
  RunResult r = Util({"read", "-p", "-n", P("leaf.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string& o = r.out;
  EXPECT_EQ(o.rfind("VHD Footer Summary:\n-------------------\nCookie          "
                    "    : conectix\n",
                    0),
            0u);
  EXPECT_NE(o.find("Features            : (0x00000002) <RESV>\n"),
            std::string::npos);
  EXPECT_NE(o.find("Creator Application : 'tap'\n"), std::string::npos);
  EXPECT_NE(o.find("Current disk size   : 100 MB (104857600 Bytes)\n"),
            std::string::npos);
  EXPECT_NE(o.find("Geometry            : Cyl: 1003, Hds: 12, Sctrs: 17\n"),
            std::string::npos);
  EXPECT_NE(o.find("Disk type           : Differencing hard disk\n"),
            std::string::npos);
  EXPECT_NE(o.find("Block size          : 2097152 (2 MB)\n"),
            std::string::npos);
  EXPECT_NE(o.find("Parent name         : base.vhd\n"), std::string::npos);
  EXPECT_NE(o.find("       code         : PLAT_CODE_MACX\n"),
            std::string::npos);
  EXPECT_NE(o.find("       decoded name : ./base.vhd\n"), std::string::npos);
  EXPECT_NE(o.find("Batmap version      : 0x00010002\n"), std::string::npos);
  EXPECT_EQ(o.find("Bad!"), std::string::npos);
  // sm getBlockSize: first line starting "Block size", field after ':'.
  for (const std::string& l : Lines(o)) {
    if (l.rfind("Block size", 0) == 0) {
      std::string v = l.substr(l.find(':') + 1);
      EXPECT_EQ(std::stoul(v), 2097152u);
      break;
    }
  }
  MustRun({"create", "-n", P("fixed.vhd"), "-s", "4", "-r"});
  r = Util({"read", "-p", "-n", P("fixed.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "Failed to get bat for " + P("fixed.vhd") + ": -22\n");
}

TEST_F(CliTest, ReadBatBitmap) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "40"});
  testutil::WriteFile(P("d"), "x");
  MustRun(
      {"write", "-n", P("a.vhd"), "-i", P("d"), "-o", std::to_string(2 << 20)});
  MustRun({"write", "-n", P("a.vhd"), "-i", P("d"), "-o",
           std::to_string(19 << 20)});
  RunResult r = Util({"read", "-B", "-n", P("a.vhd")});
  ASSERT_EQ(r.exit_code, 0);
  // 20 blocks: bits 1 and 9 set, MSB first, ceil(20/8) = 3 bytes.
  EXPECT_EQ(r.out, std::string("\x40\x40\x00", 3));
  r = Util({"read", "-b", "1", "-c", "2", "-n", P("a.vhd")});
  EXPECT_EQ(r.out, "block: 1: offset: 3584\nblock: 2: offset: not allocated\n");
}

TEST_F(CliTest, SetHidden) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  MustRun({"set", "-n", P("a.vhd"), "-f", "hidden", "-v", "1"});
  EXPECT_EQ(Util({"query", "-f", "-n", P("a.vhd")}).out, "hidden: 1\n");
  EXPECT_EQ(Util({"check", "-n", P("a.vhd")}).exit_code, 0);
  RunResult r = Util({"set", "-n", P("a.vhd"), "-f", "bogus", "-v", "1"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out.rfind("invalid field bogus\n", 0), 0u);
  r = Util({"set", "-n", P("a.vhd"), "-f", "hidden", "-v", "300"});
  EXPECT_EQ(r.out.rfind("invalid value 300\n", 0), 0u);
}

TEST_F(CliTest, CheckReportsAndDumps) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  RunResult r = Util({"check", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, P("a.vhd") + " is valid\n");
  // Corrupt the EOF footer's checksum; the copy at 0 stays good.
  std::string d = testutil::ReadFile(P("a.vhd"));
  d[d.size() - 512 + 64] ^= 1;
  testutil::WriteFile(P("a.vhd"), d);
  r = Util({"check", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out.rfind("primary footer invalid: invalid checksum\n" +
                            P("a.vhd") + " appears invalid; dumping metadata\n",
                        0),
            0u)
      << r.out;
  EXPECT_EQ(Util({"check", "-i", "-n", P("a.vhd")}).exit_code, 0);
  // Readers fall back to the copy at 0.
  EXPECT_EQ(Util({"query", "-v", "-n", P("a.vhd")}).out, "8\n");
  r = Util({"check", "-B", "-b", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 22);
}

TEST_F(CliTest, WriteAndExportRoundTrip) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  std::string d = testutil::RandomBytes(3000, 5);
  testutil::WriteFile(P("d"), d);
  MustRun({"write", "-n", P("a.vhd"), "-i", P("d"), "-o", "1000"});
  MustRun({"export", "-n", P("a.vhd"), "-o", P("out.raw")});
  std::string out = testutil::ReadFile(P("out.raw"));
  ASSERT_EQ(out.size(), 8u << 20);
  EXPECT_EQ(out.substr(1000, 3000), d);
  EXPECT_EQ(out.substr(0, 1000), std::string(1000, '\0'));
  RunResult r = Util(
      {"write", "-n", P("a.vhd"), "-i", P("d"), "-o", std::to_string(8 << 20)});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT"), std::string::npos);
}

}  // namespace
