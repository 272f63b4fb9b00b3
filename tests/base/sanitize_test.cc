#include "base/sanitize.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vhd {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// The property every caller relies on: nlohmann can serialize the result.
void ExpectDumps(const std::string& s) {
  nlohmann::json j = {{"m", s}};
  EXPECT_NO_THROW(j.dump());
  std::string back = nlohmann::json::parse(j.dump())["m"];
  EXPECT_EQ(back, s);
}

TEST(SanitizeTest, KeepsPlainAndMultibyteText) {
  EXPECT_EQ(base::SanitizeText("ok \xe4\xb8\xad \xf0\x9f\x98\x80 \\"),
            "ok \xe4\xb8\xad \xf0\x9f\x98\x80 \\");
}

TEST(SanitizeTest, ReplacesInvalidBytesOnePerByte) {
  std::string s = base::SanitizeText("403 \xff\xfe body");
  EXPECT_EQ(s, "403 " + kFffd + kFffd + " body");
  ExpectDumps(s);
  // nlohmann itself refuses the raw bytes: the reason for this function.
  EXPECT_THROW(nlohmann::json({{"m", "a\xff"}}).dump(),
               nlohmann::json::type_error);
}

TEST(SanitizeTest, ReplacesOverlongSurrogateAndOutOfRange) {
  EXPECT_EQ(base::SanitizeText("\xc0\xaf"), kFffd + kFffd);  // overlong '/'
  EXPECT_EQ(base::SanitizeText("\xe0\x80\xaf"), kFffd + kFffd + kFffd);
  EXPECT_EQ(base::SanitizeText("\xed\xa0\x80"), kFffd + kFffd + kFffd);  // D800
  EXPECT_EQ(base::SanitizeText("\xf4\x90\x80\x80"),
            kFffd + kFffd + kFffd + kFffd);
  ExpectDumps(base::SanitizeText("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"));
}

TEST(SanitizeTest, EscapesControlCharacters) {
  EXPECT_EQ(base::SanitizeText("a\nb\r\x1b[31m\x7f"),
            "a\\x0Ab\\x0D\\x1B[31m\\x7F");
  EXPECT_EQ(base::SanitizeText(std::string("n\0l", 3)), "n\\x00l");
  EXPECT_EQ(base::SanitizeText("c1\xc2\x9b"), "c1\\x9B");  // C1 CSI
  EXPECT_EQ(base::SanitizeText("bidi\xe2\x80\xae"), "bidi\\u{202E}");
}

TEST(SanitizeTest, BoundsLengthWithoutCuttingACharacter) {
  // Valid UTF-8 cut at 512 bytes inside a 3-byte character: the reply body
  // of defect 2, cut by a byte-wise substr.
  std::string body;
  while (body.size() < 600) body += "\xe4\xb8\xad";  // 3 bytes each
  std::string cut = body.substr(0, 512);             // 170 chars + 2 bytes
  std::string s = base::SanitizeText(cut);
  EXPECT_EQ(s.size(), 510 + kFffd.size() * 2);
  ExpectDumps(s);

  std::string bounded = base::SanitizeText(body, 512);
  EXPECT_LE(bounded.size(), 512u);
  EXPECT_EQ(bounded.substr(bounded.size() - 3), "...");
  EXPECT_EQ(bounded.size(), 507u + 3);  // 169 whole characters + "..."
  ExpectDumps(bounded);
}

TEST(SanitizeTest, ExactFitIsNotMarked) {
  std::string s(100, 'x');
  EXPECT_EQ(base::SanitizeText(s, 100), s);
  EXPECT_EQ(base::SanitizeText(s + "y", 100), std::string(97, 'x') + "...");
}

TEST(SanitizeTest, EscapesCountTowardTheBound) {
  std::string s(1000, '\n');
  std::string out = base::SanitizeText(s, 64);
  EXPECT_LE(out.size(), 64u);
  EXPECT_EQ(out.substr(out.size() - 3), "...");
  EXPECT_EQ(out.substr(0, 4), "\\x0A");
}

TEST(SanitizeTest, RandomBytesAlwaysDump) {
  uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    int n = round % 97;
    for (int i = 0; i < n; ++i) {
      x = x * 1103515245 + 12345;
      s.push_back(static_cast<char>(x >> 16));
    }
    std::string out = base::SanitizeText(s, 16 + round % 64);
    ASSERT_LE(out.size(), 16u + round % 64);
    nlohmann::json j = {{"m", out}};
    ASSERT_NO_THROW(j.dump());
  }
}

}  // namespace
}  // namespace vhd
