// Tests of vhd/uuid.h: the canonical text form round-trips, malformed text
// is refused, and generated identifiers are non-null and distinct.
#include "vhd/uuid.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vhd {
namespace {

TEST(UuidTest, ParsesAndPrintsTheCanonicalForm) {
  Uuid u;
  ASSERT_TRUE(Uuid::Parse("00112233-4455-6677-8899-AABBCCDDEEFF", &u));
  // The bytes are in text order (as stored in a VHD footer).
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(u.bytes[i], static_cast<uint8_t>(i * 0x11)) << i;
  }
  EXPECT_EQ(u.ToString(), "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_FALSE(u.IsNull());
}

TEST(UuidTest, RefusesMalformedText) {
  const char* bad[] = {
      "",
      "00112233-4455-6677-8899-aabbccddeef",    // 35 characters
      "00112233-4455-6677-8899-aabbccddeeff0",  // 37 characters
      "00112233-4455-6677-8899-aabbccddeefg",   // not hex
      "00112233x4455-6677-8899-aabbccddeeff",   // dash missing
      "{0112233-4455-6677-8899-aabbccddeeff}",
  };
  for (const char* text : bad) {
    Uuid u;
    EXPECT_FALSE(Uuid::Parse(text, &u)) << text;
  }
  // An embedded NUL in 36 characters is not accepted either.
  Uuid u;
  EXPECT_FALSE(Uuid::Parse(
      std::string("00112233-4455-6677-8899-aabbccdd\0eff", 36), &u));
}

TEST(UuidTest, NullIsAllZero) {
  Uuid u;
  EXPECT_TRUE(u.IsNull());
  EXPECT_EQ(u.ToString(), "00000000-0000-0000-0000-000000000000");
  u.bytes[15] = 1;
  EXPECT_FALSE(u.IsNull());
  Uuid parsed;
  ASSERT_TRUE(Uuid::Parse("00000000-0000-0000-0000-000000000000", &parsed));
  EXPECT_TRUE(parsed.IsNull());
}

TEST(UuidTest, GeneratedAreDistinctAndRoundTrip) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    Uuid u = Uuid::Generate();
    EXPECT_FALSE(u.IsNull());
    std::string text = u.ToString();
    EXPECT_EQ(text.size(), 36u);
    EXPECT_TRUE(seen.insert(text).second) << text;
    Uuid back;
    ASSERT_TRUE(Uuid::Parse(text, &back)) << text;
    EXPECT_EQ(back, u);
    EXPECT_FALSE(back != u);
  }
}

}  // namespace
}  // namespace vhd
