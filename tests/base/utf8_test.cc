#include "base/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace base {
namespace {

// Decodes s at pos; returns the length and leaves the code point in *cp.
size_t Decode(std::string_view s, uint32_t* cp, size_t pos = 0) {
  *cp = 0xDEADBEEF;
  return DecodeUtf8(s, pos, cp);
}

TEST(Utf8Test, DecodesEachLength) {
  uint32_t cp;
  EXPECT_EQ(Decode("A", &cp), 1u);
  EXPECT_EQ(cp, 0x41u);
  EXPECT_EQ(Decode(std::string_view("\0", 1), &cp), 1u);
  EXPECT_EQ(cp, 0u);
  EXPECT_EQ(Decode("\xc3\xa9", &cp), 2u);  // U+00E9
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(Decode("\xe4\xb8\xad", &cp), 3u);  // U+4E2D
  EXPECT_EQ(cp, 0x4E2Du);
  EXPECT_EQ(Decode("\xf0\x9f\x98\x80", &cp), 4u);  // U+1F600
  EXPECT_EQ(cp, 0x1F600u);
}

TEST(Utf8Test, DecodesAtOffsetAndIgnoresWhatFollows) {
  uint32_t cp;
  EXPECT_EQ(Decode("ab\xc3\xa9\xff", &cp, 2), 2u);
  EXPECT_EQ(cp, 0xE9u);
}

TEST(Utf8Test, AcceptsTheBoundaries) {
  uint32_t cp;
  EXPECT_EQ(Decode("\xc2\x80", &cp), 2u);  // smallest 2-byte
  EXPECT_EQ(cp, 0x80u);
  EXPECT_EQ(Decode("\xe0\xa0\x80", &cp), 3u);  // smallest 3-byte
  EXPECT_EQ(cp, 0x800u);
  EXPECT_EQ(Decode("\xed\x9f\xbf", &cp), 3u);  // just below the surrogates
  EXPECT_EQ(cp, 0xD7FFu);
  EXPECT_EQ(Decode("\xee\x80\x80", &cp), 3u);  // just above them
  EXPECT_EQ(cp, 0xE000u);
  EXPECT_EQ(Decode("\xf0\x90\x80\x80", &cp), 4u);  // smallest 4-byte
  EXPECT_EQ(cp, 0x10000u);
  EXPECT_EQ(Decode("\xf4\x8f\xbf\xbf", &cp), 4u);  // U+10FFFF
  EXPECT_EQ(cp, 0x10FFFFu);
}

TEST(Utf8Test, RejectsIllFormedAndLeavesCodePointAlone) {
  const char* bad[] = {
      "\x80",              // lone continuation byte
      "\xbf",              // another
      "\xf8\x88\x80\x80",  // 5-byte lead
      "\xff",              // never valid
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong 0x7F
      "\xe0\x9f\xbf",      // overlong 0x7FF
      "\xf0\x8f\xbf\xbf",  // overlong 0xFFFF
      "\xed\xa0\x80",      // U+D800
      "\xed\xbf\xbf",      // U+DFFF
      "\xf4\x90\x80\x80",  // U+110000
      "\xc3",              // cut by the end
      "\xe4\xb8",          // cut by the end
      "\xf0\x9f\x98",      // cut by the end
      "\xc3(",             // continuation missing
      "\xe4\xb8(",         // continuation missing
  };
  for (const char* s : bad) {
    uint32_t cp;
    EXPECT_EQ(Decode(s, &cp), 0u) << "input " << testing::PrintToString(s);
    EXPECT_EQ(cp, 0xDEADBEEFu);
  }
}

TEST(Utf8Test, CutSequenceAtTheEndOfALongerString) {
  uint32_t cp;
  EXPECT_EQ(Decode("abc\xe4\xb8", &cp, 3), 0u);
}

TEST(Utf8Test, ReplacementIsUFFFD) {
  uint32_t cp;
  ASSERT_EQ(Decode(kUtf8Replacement, &cp), kUtf8Replacement.size());
  EXPECT_EQ(cp, 0xFFFDu);
}

}  // namespace
}  // namespace base
