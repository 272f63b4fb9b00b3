// The exit status of every vhdsm-util command in every case the README's
// exit-code table lists, checked row by row: each row here must be in the
// table (and the table must hold no other row), and the command must exit
// with the row's code. With VHD_UTIL naming blktap's vhd-util, each row that
// the table marks "same" is also run through it, on the same fixtures, and
// must give the same code.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "tests/util/test_util.h"

namespace {

struct Row {
  const char* command;
  const char* when;
  std::vector<std::string> args;  // @ = the fixture dir
  int code;
  const char* vhd_util;  // "same", or how vhd-util differs
};

// Fixtures (in @): a.vhd dynamic 8 MiB with no data, d.vhd dynamic with
// data, c.vhd a child of d.vhd, o.vhd a child whose parent is gone, f.vhd
// fixed 2 MiB, junk.vhd (1 KiB of text), short.vhd (100 bytes), empty.vhd,
// dir.vhd (a directory), in (a 4 KiB file).
const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"create", "created", {"create", "-n", "@/n.vhd", "-s", "8"}, 0, "same"},
      {"create",
       "usage, bad option, `-S` below `-s`",
       {"create", "-n", "@/n.vhd"},
       22,
       "same"},
      {"create",
       "the file exists",
       {"create", "-n", "@/a.vhd", "-s", "8"},
       17,
       "0: overwrites it (deliberate)"},
      {"create",
       "over 2040 GiB",
       {"create", "-n", "@/n.vhd", "-s", "2088961"},
       27,
       "0: creates it (deliberate)"},
      {"snapshot",
       "created",
       {"snapshot", "-n", "@/s.vhd", "-p", "@/c.vhd"},
       0,
       "same"},
      {"snapshot", "usage", {"snapshot", "-n", "@/s.vhd"}, 22, "same"},
      {"snapshot",
       "the file exists",
       {"snapshot", "-n", "@/c.vhd", "-p", "@/d.vhd"},
       17,
       "0: overwrites it (deliberate)"},
      {"snapshot",
       "parent missing",
       {"snapshot", "-n", "@/s.vhd", "-p", "@/none.vhd"},
       2,
       "same"},
      {"snapshot",
       "`-l` depth exceeded",
       {"snapshot", "-n", "@/s.vhd", "-p", "@/c.vhd", "-l", "1"},
       28,
       "same"},
      {"query", "answered", {"query", "-n", "@/c.vhd", "-vsafpd"}, 0, "same"},
      {"query", "usage", {"query", "-v"}, 22, "same"},
      {"query", "no such file", {"query", "-n", "@/none.vhd", "-v"}, 2, "same"},
      {"query",
       "parent missing (`-p`, `-d`)",
       {"query", "-n", "@/o.vhd", "-p"},
       2,
       "same"},
      {"query",
       "not a VHD (512 bytes or more)",
       {"query", "-n", "@/junk.vhd", "-v"},
       22,
       "same"},
      {"query",
       "shorter than a footer",
       {"query", "-n", "@/short.vhd", "-v"},
       5,
       "same"},
      {"query", "empty file", {"query", "-n", "@/empty.vhd", "-v"}, 32, "same"},
      {"query", "a directory", {"query", "-n", "@/dir.vhd", "-v"}, 21, "same"},
      {"read", "dumped", {"read", "-n", "@/c.vhd", "-p", "-b", "0"}, 0, "same"},
      {"read", "usage, `-h`, unknown option", {"read", "-h"}, 22, "same"},
      {"read",
       "a fixed disk (no BAT)",
       {"read", "-n", "@/f.vhd", "-p"},
       22,
       "same"},
      {"read",
       "block or sector past the end",
       {"read", "-n", "@/a.vhd", "-b", "40"},
       34,
       "same"},
      {"read", "no such file", {"read", "-n", "@/none.vhd", "-p"}, 2, "same"},
      {"set",
       "set",
       {"set", "-n", "@/a.vhd", "-f", "hidden", "-v", "1"},
       0,
       "same"},
      {"set",
       "usage, unknown field, value over 255",
       {"set", "-n", "@/a.vhd", "-f", "x", "-v", "1"},
       22,
       "same"},
      {"set",
       "field `marker`",
       {"set", "-n", "@/a.vhd", "-f", "marker", "-v", "1"},
       0,
       "same"},
      {"check", "valid", {"check", "-n", "@/c.vhd", "-p"}, 0, "same"},
      {"check", "usage", {"check", "-n", "@/a.vhd", "-z"}, 22, "same"},
      {"check", "invalid", {"check", "-n", "@/junk.vhd"}, 22, "same"},
      {"check", "parent missing", {"check", "-n", "@/o.vhd"}, 2, "same"},
      {"coalesce", "merged", {"coalesce", "-n", "@/c.vhd"}, 0, "same"},
      {"coalesce", "usage", {"coalesce"}, 22, "same"},
      {"coalesce",
       "not a differencing disk",
       {"coalesce", "-n", "@/a.vhd"},
       22,
       "same"},
      {"coalesce", "no such file", {"coalesce", "-n", "@/none.vhd"}, 2, "same"},
      {"modify",
       "changed",
       {"modify", "-n", "@/a.vhd", "-s", "1048576"},
       0,
       "same"},
      {"modify", "usage", {"modify", "-s", "1048576"}, 22, "same"},
      {"modify",
       "`-s` below the data (fixed disks too)",
       {"modify", "-n", "@/f.vhd", "-s", "4096"},
       22,
       "same"},
      {"modify",
       "no such file",
       {"modify", "-n", "@/none.vhd", "-s", "1048576"},
       2,
       "same"},
      {"scan", "scanned", {"scan", "-f", "-m", "@/[acdo].vhd"}, 0, "same"},
      {"scan", "usage (`-h`: 0)", {"scan", "-f"}, 22, "same"},
      {"scan", "`-l` (LVM)", {"scan", "-l", "VG", "-m", "x"}, 22, "same"},
      {"scan",
       "a target missing, without `-c`",
       {"scan", "@/none.vhd"},
       2,
       "same"},
      {"scan",
       "a file fails to open, without `-c`: its code (as query)",
       {"scan", "@/short.vhd"},
       5,
       "same"},
      {"scan",
       "`-f` of a fixed disk, without `-c`",
       {"scan", "-f", "@/f.vhd"},
       22,
       "same"},
      {"scan",
       "failures with `-c`",
       {"scan", "-c", "@/short.vhd", "@/none.vhd"},
       0,
       "same"},
      {"repair",
       "repaired or nothing to do",
       {"repair", "-n", "@/a.vhd"},
       0,
       "same"},
      {"repair", "usage", {"repair"}, 22, "same"},
      {"resize", "usage", {"resize"}, 22, "same"},
      {"revert", "usage", {"revert"}, 22, "same"},
      {"key", "printed or set", {"key", "-p", "-n", "@/a.vhd"}, 0, "same"},
      {"key", "usage", {"key", "-n", "@/a.vhd"}, 22, "same"},
      {"key",
       "fixed or non-empty disk, bad hex, hash mismatch",
       {"key", "-s", "-n", "@/d.vhd", "-H", "00"},
       22,
       "same"},
      {"key",
       "key file not named after the disk",
       {"key", "-s", "-n", "@/a.vhd", "-k", "@/in"},
       1,
       "same"},
      {"key", "no such file", {"key", "-p", "-n", "@/none.vhd"}, 2, "same"},
      {"write",
       "written",
       {"write", "-n", "@/c.vhd", "-i", "@/in"},
       0,
       "ours only"},
      {"write",
       "usage, range past the end",
       {"write", "-n", "@/c.vhd", "-i", "@/in", "-o", "8388608"},
       22,
       "ours only"},
      {"export",
       "exported",
       {"export", "-n", "@/c.vhd", "-o", "@/out.raw"},
       0,
       "ours only"},
      {"export", "usage", {"export", "-n", "@/c.vhd"}, 22, "ours only"},
      {"(unknown)", "usage printed", {"frobnicate"}, 0, "same"},
  };
  return rows;
}

std::string TableLine(const Row& r) {
  std::ostringstream o;
  o << "| `" << r.command << "` | " << r.when << " | " << r.code << " | "
    << r.vhd_util << " |";
  return o.str();
}

int RunRow(const std::string& tool, const std::string& dir, const Row& row) {
  std::vector<std::string> argv = {tool};
  for (std::string a : row.args) {
    if (a.rfind("@", 0) == 0) a = dir + a.substr(1);
    argv.push_back(a);
  }
  testutil::RunResult r = testutil::Run(argv);
  EXPECT_EQ(r.signal, 0) << TableLine(row);
  return r.exit_code;
}

void MakeFixtures(const std::string& dir) {
  std::string u = testutil::Built("bin/vhdsm-util");
  auto must = [&](std::vector<std::string> args) {
    args.insert(args.begin(), u);
    testutil::RunResult r = testutil::Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[1] << r.out << r.err;
  };
  testutil::WriteFile(dir + "/in", testutil::RandomBytes(4096, 1));
  must({"create", "-n", dir + "/a.vhd", "-s", "8"});
  must({"create", "-n", dir + "/d.vhd", "-s", "8"});
  must({"write", "-n", dir + "/d.vhd", "-i", dir + "/in"});
  must({"snapshot", "-n", dir + "/c.vhd", "-p", dir + "/d.vhd"});
  must({"write", "-n", dir + "/c.vhd", "-i", dir + "/in", "-o", "65536"});
  must({"create", "-n", dir + "/q.vhd", "-s", "8"});
  must({"snapshot", "-n", dir + "/o.vhd", "-p", dir + "/q.vhd"});
  ASSERT_EQ(::unlink((dir + "/q.vhd").c_str()), 0);
  must({"create", "-n", dir + "/f.vhd", "-s", "2", "-r"});
  testutil::WriteFile(dir + "/junk.vhd", std::string(1024, 'j'));
  testutil::WriteFile(dir + "/short.vhd", std::string(100, 's'));
  testutil::WriteFile(dir + "/empty.vhd", "");
  ASSERT_EQ(::mkdir((dir + "/dir.vhd").c_str(), 0755), 0);
}

TEST(CliExitCodesTest, ReadmeTableHoldsExactlyTheseRows) {
  std::string readme = testutil::ReadFile(testutil::Built("../README.md"));
  const std::string begin = "<!-- exit-codes:begin -->\n";
  const std::string end = "<!-- exit-codes:end -->";
  size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  std::set<std::string> in_readme;
  std::istringstream in(readme.substr(b + begin.size(), e - b - begin.size()));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (++n <= 2 || line.empty()) continue;  // header and separator
    in_readme.insert(line);
  }
  std::set<std::string> mine;
  for (const Row& r : Rows()) mine.insert(TableLine(r));
  for (const std::string& l : mine) {
    EXPECT_TRUE(in_readme.count(l)) << "missing from README: " << l;
  }
  for (const std::string& l : in_readme) {
    EXPECT_TRUE(mine.count(l)) << "README row not checked here: " << l;
  }
}

TEST(CliExitCodesTest, EveryRowExitsWithItsCode) {
  const char* peer = std::getenv("VHD_UTIL");
  for (const Row& row : Rows()) {
    testutil::TempDir dir;
    MakeFixtures(dir.path());
    EXPECT_EQ(RunRow(testutil::Built("bin/vhdsm-util"), dir.path(), row),
              row.code)
        << TableLine(row);
    if (peer != nullptr && *peer && std::string(row.vhd_util) == "same") {
      testutil::TempDir vdir;
      MakeFixtures(vdir.path());
      EXPECT_EQ(RunRow(peer, vdir.path(), row), row.code)
          << "vhd-util: " << TableLine(row);
    }
  }
}

}  // namespace
