// vhdsm-util read: every option of vhd-util's read (-p -t -b -B -m -i -e -a
// -j -d -r -R -c -x), its usage and its errors, byte for byte; and that no
// argument vector makes it die on a signal.
#include <gtest/gtest.h>

#include "tests/util/spec_vhd.h"
#include "tests/util/test_util.h"
#include "tests/util/util_cli_fixture.h"

namespace {

using testutil::RunResult;

class CliReadTest : public testutil::UtilCliFixture {
 protected:
  void WriteData(const std::string& n, uint64_t off, const std::string& d) {
    testutil::WriteFile(P("in"), d);
    MustRun({"write", "-n", P(n), "-i", P("in"), "-o", std::to_string(off)});
  }
  // a.vhd (64 MiB): block 1 full of `full_`, block 2's first two sectors
  // from `part_` (1000 bytes), everything else unallocated.
  void MakeDisk() {
    MustRun({"create", "-n", P("a.vhd"), "-s", "64"});
    full_ = testutil::RandomBytes(2 << 20, 3);
    part_ = testutil::RandomBytes(1000, 4);
    WriteData("a.vhd", 2 << 20, full_);
    WriteData("a.vhd", 4 << 20, part_);
  }
  std::string full_, part_;
};

const char kUsage[] =
    "options:\n-h          help\n-n          name\n-p          print VHD "
    "headers\n";

TEST_F(CliReadTest, UsageIsExit22NeverASignal) {
  MakeDisk();
  for (std::vector<std::string> args : {std::vector<std::string>{"read", "-h"},
                                        {"read", "-n"},
                                        {"read"},
                                        {"read", "-n", P("a.vhd"), "-z"},
                                        {"read", "-n", P("a.vhd"), "extra"},
                                        {"read", "-n", P("a.vhd"), "-h"},
                                        {"read", "-n", P("a.vhd"), "-j"},
                                        {"read", "-n", P("a.vhd"), "-c"}}) {
    RunResult r = Util(args);
    EXPECT_EQ(r.signal, 0) << args.back();
    EXPECT_EQ(r.exit_code, 22) << args.back();
    EXPECT_EQ(r.out.rfind(kUsage, 0), 0u) << args.back() << r.out;
  }
}

TEST_F(CliReadTest, ExtentsAndBitmapTests) {
  MakeDisk();
  // Block 1 (sectors 4096..8191) and block 2's first two sectors: one run.
  RunResult r = Util({"read", "-n", P("a.vhd"), "-e", "4095", "-c", "4200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "4096 4098\n");
  r = Util({"read", "-n", P("a.vhd"), "-e", "4095", "-c", "4200", "-x"});
  EXPECT_EQ(r.out, "0x1000 0x1002\n");
  r = Util({"read", "-n", P("a.vhd"), "-e", "8190", "-c", "20"});
  EXPECT_EQ(r.out, "8190 4\n");
  // 64 MiB = 131072 sectors: one past the end is refused, on stdout.
  r = Util({"read", "-n", P("a.vhd"), "-e", "0", "-c", "131073"});
  EXPECT_EQ(r.exit_code, 34);
  EXPECT_EQ(r.out, "sector 0 past end of file\n");
  r = Util({"read", "-n", P("a.vhd"), "-i", "8191", "-c", "3"});
  EXPECT_EQ(r.out,
            "block 1: sec: 4095: 1\nblock 2: sec: 0: 1\nblock 2: sec: 1: 1\n");
  // Counts that wrap around 2^64 are past the end, not a wild read.
  r = Util({"read", "-n", P("a.vhd"), "-t", "18446744073709551614", "-c", "3"});
  EXPECT_EQ(r.exit_code, 34);
  EXPECT_EQ(r.signal, 0);
}

TEST_F(CliReadTest, BatmapTestOnStderr) {
  MakeDisk();
  RunResult r = Util({"read", "-n", P("a.vhd"), "-j", "0", "-c", "3"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "batmap for block 0: 0\nbatmap for block 1: 1\n"
            "batmap for block 2: 0\n");
  // 32 BAT entries: block + count may reach 32, not pass it.
  r = Util({"read", "-n", P("a.vhd"), "-j", "31", "-c", "1"});
  EXPECT_EQ(r.exit_code, 0);
  r = Util({"read", "-n", P("a.vhd"), "-j", "40", "-c", "3"});
  EXPECT_EQ(r.exit_code, 34);
  EXPECT_EQ(r.err, "block 43 past end of file\n");
}

TEST_F(CliReadTest, DataOfBlocksAndThroughTheChain) {
  MakeDisk();
  RunResult r = Util({"read", "-n", P("a.vhd"), "-d", "1"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, full_);
  // vhd-util's printf lines are buffered, its data written directly: to a
  // pipe the "not allocated" line comes after the data.
  r = Util({"read", "-n", P("a.vhd"), "-d", "0", "-c", "2"});
  EXPECT_EQ(r.out, full_ + "block 0 not allocated\n");
  r = Util({"read", "-n", P("a.vhd"), "-d", "2"});
  ASSERT_EQ(r.out.size(), 2u << 20);
  EXPECT_EQ(r.out.substr(0, 1000), part_);

  // -r and -R read the virtual disk through the chain.
  MustRun({"snapshot", "-n", P("c.vhd"), "-p", P("a.vhd")});
  std::string mine = testutil::RandomBytes(512, 9);
  WriteData("c.vhd", (2 << 20) + 512, mine);
  r = Util({"read", "-n", P("c.vhd"), "-r", "4096", "-c", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, full_.substr(0, 512) + mine + full_.substr(1024, 512));
  r = Util({"read", "-n", P("c.vhd"), "-R", std::to_string((2 << 20) + 500),
            "-c", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, full_.substr(500, 12) + mine.substr(0, 18));
  r = Util({"read", "-n", P("c.vhd"), "-r", "131071", "-c", "2"});
  EXPECT_EQ(r.exit_code, 34);
  EXPECT_EQ(r.out, "");
  r = Util(
      {"read", "-n", P("c.vhd"), "-R", std::to_string(64 << 20), "-c", "1"});
  EXPECT_EQ(r.exit_code, 34);
}

TEST_F(CliReadTest, WindowsParentNamesAsLibvhdDecodesThem) {
  specvhd::Disk parent;
  parent.virtual_size = 4 << 20;
  specvhd::Image pi = specvhd::Build(parent);
  specvhd::Disk child;
  child.type = specvhd::Type::kDifferencing;
  child.virtual_size = 4 << 20;
  child.parent_uuid = pi.uuid;
  child.parent_name = "C:\\Projects\\disks\\p.vhd";
  child.locators = {
      {specvhd::kW2ku, "C:\\Projects\\disks\\p.vhd", false, "", 0},
      {specvhd::kW2ru, ".\\p.vhd", false, "", 0}};
  testutil::WriteFile(P("c.vhd"), specvhd::Build(child, pi.raw).file);
  RunResult r = Util({"read", "-p", "-n", P("c.vhd")});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Parent name         : /Projects/disks/p.vhd\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("       decoded name : /Projects/disks/p.vhd\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("       decoded name : ./p.vhd\n"), std::string::npos);
  EXPECT_EQ(r.out.find('\\'), std::string::npos);
}

}  // namespace
