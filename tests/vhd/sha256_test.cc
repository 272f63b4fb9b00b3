// SHA-256 against the FIPS 180-4 examples and sha256sum.
#include "vhd/sha256.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/util/test_util.h"

namespace {

std::string Hex(const std::array<uint8_t, 32>& d) {
  static const char* x = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += x[b >> 4];
    s += x[b & 15];
  }
  return s;
}

std::string Digest(const std::string& m, size_t piece = 0) {
  vhd::Sha256 h;
  if (piece == 0) {
    h.Update(m.data(), m.size());
  } else {
    for (size_t i = 0; i < m.size(); i += piece) {
      h.Update(m.data() + i, std::min(piece, m.size() - i));
    }
  }
  return Hex(h.Finish());
}

TEST(Sha256Test, FipsExamples) {
  EXPECT_EQ(Digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(Digest(two),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Digest(two, 7), Digest(two));
  EXPECT_EQ(Digest(std::string(1000000, 'a'), 4096),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, AgreesWithSha256sumAroundBlockEdges) {
  testutil::TempDir dir;
  for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 4097u}) {
    std::string m = testutil::RandomBytes(n, n);
    testutil::WriteFile(dir.Join("m"), m);
    testutil::RunResult r = testutil::Run({"sha256sum", dir.Join("m")});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.substr(0, 64), Digest(m, 13)) << n;
  }
}

}  // namespace
