// Tests of vhd/unicode.h (UTF-8 <-> UTF-16, strict).
#include "vhd/unicode.h"

#include <gtest/gtest.h>

namespace vhd {
namespace {

TEST(UnicodeTest, RoundTripsBothByteOrders) {
  const std::string s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/.\\x";
  for (Utf16Order o : {Utf16Order::kBig, Utf16Order::kLittle}) {
    std::vector<uint8_t> u;
    ASSERT_TRUE(Utf8ToUtf16(s, o, &u));
    EXPECT_EQ(u.size(), 2u * 9);  // the emoji takes a surrogate pair
    std::string back;
    ASSERT_TRUE(Utf16ToUtf8(u.data(), u.size(), o, &back));
    EXPECT_EQ(back, s);
  }
}

TEST(UnicodeTest, ByteOrderIsAsRequested) {
  std::vector<uint8_t> u;
  ASSERT_TRUE(Utf8ToUtf16("A", Utf16Order::kLittle, &u));
  EXPECT_EQ(u, (std::vector<uint8_t>{'A', 0}));
  ASSERT_TRUE(Utf8ToUtf16("A", Utf16Order::kBig, &u));
  EXPECT_EQ(u, (std::vector<uint8_t>{0, 'A'}));
}

TEST(UnicodeTest, StopsAtNul) {
  const uint8_t d[] = {'a', 0, 0, 0, 'b', 0};
  std::string s;
  ASSERT_TRUE(Utf16ToUtf8(d, sizeof(d), Utf16Order::kLittle, &s));
  EXPECT_EQ(s, "a");
}

TEST(UnicodeTest, RejectsMalformedInput) {
  std::vector<uint8_t> u;
  EXPECT_FALSE(Utf8ToUtf16("\xff", Utf16Order::kBig, &u));
  EXPECT_FALSE(Utf8ToUtf16("\xc0\x80", Utf16Order::kBig, &u));      // overlong
  EXPECT_FALSE(Utf8ToUtf16("\xed\xa0\x80", Utf16Order::kBig, &u));  // surrogate
  EXPECT_FALSE(Utf8ToUtf16("\xe2\x82", Utf16Order::kBig, &u));      // truncated
  std::string s;
  const uint8_t odd[] = {'a', 0, 'b'};
  EXPECT_FALSE(Utf16ToUtf8(odd, 3, Utf16Order::kLittle, &s));
  const uint8_t lone[] = {0x00, 0xdc};  // LE low surrogate alone
  EXPECT_FALSE(Utf16ToUtf8(lone, 2, Utf16Order::kLittle, &s));
  const uint8_t high_end[] = {0x00, 0xd8};  // LE high surrogate at the end
  EXPECT_FALSE(Utf16ToUtf8(high_end, 2, Utf16Order::kLittle, &s));
}

}  // namespace
}  // namespace vhd
