// ParseSize / ParseCount: every boundary of the one size syntax.
#include "base/size.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/util/status_matchers.h"

namespace vhd {
namespace {

uint64_t Ok(std::string_view text) {
  uint64_t v = 12345;
  base::Status s = base::ParseSize(text, &v);
  EXPECT_OK(s) << text << ": " << s.ToString();
  return v;
}

base::Code Err(std::string_view text) {
  uint64_t v = 12345;
  base::Status s = base::ParseSize(text, &v);
  EXPECT_FALSE(s.ok()) << text;
  EXPECT_EQ(v, 12345u) << "output written on failure: " << text;
  return s.code();
}

TEST(ParseSizeTest, PlainBytes) {
  EXPECT_EQ(Ok("0"), 0u);
  EXPECT_EQ(Ok("1"), 1u);
  EXPECT_EQ(Ok("000017"), 17u);
  EXPECT_EQ(Ok("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(Ok("0000000000000000000000018446744073709551615"), UINT64_MAX);
}

TEST(ParseSizeTest, Suffixes) {
  EXPECT_EQ(Ok("1K"), 1024u);
  EXPECT_EQ(Ok("1k"), 1024u);
  EXPECT_EQ(Ok("100M"), 100ull << 20);
  EXPECT_EQ(Ok("3m"), 3ull << 20);
  EXPECT_EQ(Ok("5G"), 5ull << 30);
  EXPECT_EQ(Ok("2g"), 2ull << 30);
  EXPECT_EQ(Ok("2T"), 2ull << 40);
  EXPECT_EQ(Ok("7t"), 7ull << 40);
  EXPECT_EQ(Ok("0T"), 0u);
}

TEST(ParseSizeTest, MaxForEachSuffixAndOnePast) {
  EXPECT_EQ(Ok("18014398509481983K"), (UINT64_MAX >> 10) << 10);
  EXPECT_EQ(Err("18014398509481984K"), base::Code::kTooLarge);
  EXPECT_EQ(Ok("17592186044415M"), (UINT64_MAX >> 20) << 20);
  EXPECT_EQ(Err("17592186044416M"), base::Code::kTooLarge);
  EXPECT_EQ(Ok("17179869183G"), (UINT64_MAX >> 30) << 30);
  EXPECT_EQ(Err("17179869184G"), base::Code::kTooLarge);
  EXPECT_EQ(Ok("16777215T"), (UINT64_MAX >> 40) << 40);
  // The reported case: it used to wrap to 1 TiB.
  EXPECT_EQ(Err("16777216T"), base::Code::kTooLarge);
  EXPECT_EQ(Err("16777217T"), base::Code::kTooLarge);
  EXPECT_EQ(Err("18446744073709551616"), base::Code::kTooLarge);
  EXPECT_EQ(Err("99999999999999999999"), base::Code::kTooLarge);
}

TEST(ParseSizeTest, HugeDigitStrings) {
  EXPECT_EQ(Err(std::string(100000, '9')), base::Code::kTooLarge);
  EXPECT_EQ(Err(std::string(100000, '9') + "x"), base::Code::kInvalidArgument);
  EXPECT_EQ(Ok(std::string(100000, '0') + "1"), 1u);
}

TEST(ParseSizeTest, Malformed) {
  for (const char* bad :
       {"",     " ",   "K",   "k",     "T",     " 1", "1 ",
        "1 K",  "\t1", "1\n", "+1",    "-1",    "-0", "0x10",
        "1.5G", "1e3", "1KB", "1KiB",  "1B",    "1P", "1E",
        "1KK",  "1GK", "K1",  "1_000", "1,000", "١",  "1\xef\xbc\x90"}) {
    EXPECT_EQ(Err(bad), base::Code::kInvalidArgument) << "'" << bad << "'";
  }
  // A NUL inside is junk, not the end of the text.
  EXPECT_EQ(Err(std::string_view("12\0"
                                 "3",
                                 4)),
            base::Code::kInvalidArgument);
}

TEST(ParseSizeTest, MessageIsBoundedAndEscaped) {
  uint64_t v = 0;
  base::Status s = base::ParseSize(std::string(5000, 'x') + "\x1b[2J", &v);
  ASSERT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_LT(s.message().size(), 200u);
  EXPECT_EQ(s.message().find('\x1b'), std::string::npos);
  s = base::ParseSize("1\x1b", &v);
  EXPECT_NE(s.message().find("\\x1b"), std::string::npos) << s.message();
}

TEST(ParseCountTest, Bounds) {
  uint64_t v = 7;
  EXPECT_OK(base::ParseCount("0", 9, &v));
  EXPECT_EQ(v, 0u);
  EXPECT_OK(base::ParseCount("9", 9, &v));
  EXPECT_EQ(v, 9u);
  EXPECT_EQ(base::ParseCount("10", 9, &v).code(), base::Code::kTooLarge);
  EXPECT_OK(base::ParseCount("18446744073709551615", UINT64_MAX, &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_EQ(base::ParseCount("18446744073709551616", UINT64_MAX, &v).code(),
            base::Code::kTooLarge);
  EXPECT_OK(base::ParseCount("17592186044415", UINT64_MAX >> 20, &v));
  EXPECT_EQ(v, UINT64_MAX >> 20);
  EXPECT_EQ(base::ParseCount("17592186044416", UINT64_MAX >> 20, &v).code(),
            base::Code::kTooLarge);
  for (const char* bad : {"", "1K", "-1", "+1", " 1", "1 ", "0x1", "1.0"}) {
    EXPECT_EQ(base::ParseCount(bad, UINT64_MAX, &v).code(),
              base::Code::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(v, UINT64_MAX >> 20) << "output written on failure";
}

}  // namespace
}  // namespace vhd
