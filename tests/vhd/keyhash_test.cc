// Keyhashes (vhd/keyhash.h) and `vhdsm-util key`: where blktap keeps them
// (batmap header, else the xattr), sha256(nonce || key), and vhd-util's
// messages and exit codes for every refusal.
#include "vhd/keyhash.h"

#include <gtest/gtest.h>

#include "base/env.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "tests/util/util_cli_fixture.h"

namespace {

using testutil::RunResult;

const char kHash[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const char kNonce[] =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

class KeyTest : public testutil::UtilCliFixture {
 protected:
};

TEST_F(KeyTest, SetPrintAndKeepInTheBatmapHeader) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  RunResult r = Util({"key", "-p", "-n", P("a.vhd")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "none\n");
  std::string before = testutil::ReadFile(P("a.vhd"));
  MustRun({"key", "-s", "-n", P("a.vhd"), "-H", kHash, "-N", kNonce});
  r = Util({"key", "-p", "-n", P("a.vhd")});
  EXPECT_EQ(r.out, std::string(kNonce) + " " + kHash + "\n");
  // Only the batmap header's keyhash bytes changed (cookie, nonce, hash at
  // offset 29 of the header, which follows the one-sector BAT at 1536).
  std::string after = testutil::ReadFile(P("a.vhd"));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    bool in_keyhash = i >= 2048 + 29 && i < 2048 + 29 + 65;
    if (!in_keyhash) {
      ASSERT_EQ(after[i], before[i]) << i;
    }
  }
  EXPECT_EQ(after[2048 + 29], 1);
  EXPECT_EQ(static_cast<uint8_t>(after[2048 + 30]), 0xff);
  EXPECT_EQ(Util({"check", "-n", P("a.vhd")}).exit_code, 0);
  vhd::Keyhash kh;
  ASSERT_OK(vhd::ReadKeyhash(base::Env::Default(), P("a.vhd"), &kh));
  EXPECT_EQ(kh.cookie, 1);
  EXPECT_EQ(kh.hash[1], 0x11);
  EXPECT_EQ(kh.nonce[0], 0xff);
}

TEST_F(KeyTest, KeyFilesHashedAsSha256OfNonceAndKey) {
  MustRun({"create", "-n", P("d.vhd"), "-s", "8"});
  std::string key = testutil::RandomBytes(64, 7);
  std::string kp = P("d,aes-xts-plain,512.key");
  testutil::WriteFile(kp, key);
  // The reference: sha256sum of the nonce's bytes then the key.
  std::string nonce_bytes;
  for (int i = 0; i < 32; ++i) {
    nonce_bytes += static_cast<char>(
        std::stoi(std::string(kNonce + 2 * i, 2), nullptr, 16));
  }
  testutil::WriteFile(P("msg"), nonce_bytes + key);
  std::string want = testutil::Run({"sha256sum", P("msg")}).out.substr(0, 64);
  RunResult r = Util({"key", "-C", "-k", kp, "-N", kNonce});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want + "\n");
  EXPECT_EQ(r.err,
            "vhd_util_read_key: using keyfile " + kp + ", Size (bytes) 64\n");
  MustRun({"key", "-s", "-n", P("d.vhd"), "-k", kp, "-N", kNonce});
  EXPECT_EQ(Util({"key", "-p", "-n", P("d.vhd")}).out,
            std::string(kNonce) + " " + want + "\n");
  EXPECT_EQ(Util({"key", "-c", "-n", P("d.vhd"), "-k", kp}).exit_code, 0);
  // A different key of the right name and size does not match.
  testutil::WriteFile(kp, testutil::RandomBytes(64, 8));
  r = Util({"key", "-c", "-n", P("d.vhd"), "-k", kp});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_NE(r.err.find("vhd_util_check_key: vhd hash doesn't match key hash\n"
                       "key check failed: -22\n"),
            std::string::npos);
  // A 256-bit name with a 64-byte file: the size is wrong.
  std::string k256 = P("d,aes-xts-plain,256.key");
  testutil::WriteFile(k256, key);
  r = Util({"key", "-c", "-n", P("d.vhd"), "-k", k256});
  EXPECT_EQ(r.exit_code, 5);  // vhd-util: read 32 of 64 bytes, -EIO
  // A badly named key file: vhd-util's -1.
  r = Util({"key", "-c", "-n", P("d.vhd"), "-k", P("other.key")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Invalid key name"), std::string::npos);
}

TEST_F(KeyTest, RefusalsWithVhdUtilCodes) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  MustRun({"create", "-n", P("f.vhd"), "-s", "2", "-r"});
  RunResult r = Util({"key", "-s", "-n", P("f.vhd"), "-H", kHash});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.err,
            "vhd_util_set_key: can't save key hashes for fixed vhds\n"
            "setting key failed: -22\n");
  testutil::WriteFile(P("in"), "x");
  MustRun({"write", "-n", P("a.vhd"), "-i", P("in")});
  r = Util({"key", "-s", "-n", P("a.vhd"), "-H", kHash});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.err,
            "vhd_util_set_key: can't save key hashes for non-empty vhds\n"
            "setting key failed: -22\n");
  MustRun({"create", "-n", P("e.vhd"), "-s", "8"});
  r = Util({"key", "-s", "-n", P("e.vhd"), "-H", "0011"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.err,
            "vhd_util_set_hex: invalid size for hex string\n"
            "setting key failed: -22\n");
  std::string bad(kHash);
  bad[0] = 'z';
  r = Util({"key", "-s", "-n", P("e.vhd"), "-H", bad});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(Util({"key", "-p", "-n", P("e.vhd")}).out, "none\n");
  // Usage: no name, no action, both -k and -H, unknown option: 22 on
  // stderr; -h: 0.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"key"},
        {"key", "-n", P("e.vhd")},
        {"key", "-s", "-n", P("e.vhd"), "-H", kHash, "-k", "x"},
        {"key", "-c", "-n", P("e.vhd")},
        {"key", "-x"}}) {
    r = Util(args);
    EXPECT_EQ(r.exit_code, 22) << args.back();
    EXPECT_NE(r.err.find("usage:\n-C -k KEYPATH"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Util({"key", "-h"}).exit_code, 0);
  r = Util({"key", "-p", "-n", P("missing.vhd")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "failed to open " + P("missing.vhd") + ": -2\n");
}

TEST_F(KeyTest, MarkerInTheBatmapHeaderElseTheXattr) {
  MustRun({"create", "-n", P("a.vhd"), "-s", "8"});
  EXPECT_EQ(Util({"query", "-m", "-n", P("a.vhd")}).out, "marker: 0\n");
  std::string before = testutil::ReadFile(P("a.vhd"));
  MustRun({"set", "-n", P("a.vhd"), "-f", "marker", "-v", "7"});
  EXPECT_EQ(Util({"query", "-m", "-n", P("a.vhd")}).out, "marker: 7\n");
  std::string after = testutil::ReadFile(P("a.vhd"));
  // One byte changed: the marker, byte 28 of the batmap header at 2048.
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    if (i != 2048 + 28) {
      ASSERT_EQ(after[i], before[i]) << i;
    }
  }
  EXPECT_EQ(after[2048 + 28], 7);
  EXPECT_EQ(Util({"check", "-n", P("a.vhd")}).exit_code, 0);
  uint8_t m = 0;
  ASSERT_OK(vhd::ReadMarker(base::Env::Default(), P("a.vhd"), &m));
  EXPECT_EQ(m, 7);
  // A fixed disk has no batmap: the xattr, where the file system has them.
  MustRun({"create", "-n", P("f.vhd"), "-s", "2", "-r"});
  testutil::RunResult r =
      Util({"set", "-n", P("f.vhd"), "-f", "marker", "-v", "3"});
  if (r.exit_code == 95) GTEST_SKIP() << "no user xattrs here";
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Util({"query", "-m", "-n", P("f.vhd")}).out, "marker: 3\n");
}

}  // namespace
