#include "xmlrpc/xml_text.h"

#include <gtest/gtest.h>

namespace xmlrpc {
namespace {

TEST(XmlTextTest, AcceptsXmlChars) {
  EXPECT_TRUE(IsXmlText(""));
  EXPECT_TRUE(IsXmlText("plain ascii <&>\"'"));
  EXPECT_TRUE(IsXmlText("tab\tlf\ncr\r"));
  EXPECT_TRUE(IsXmlText("\xe4\xb8\xad\xe6\x96\x87"));  // 中文
  EXPECT_TRUE(IsXmlText("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_TRUE(IsXmlText("\xef\xbf\xbd"));              // U+FFFD
}

TEST(XmlTextTest, RejectsWhatXmlCannotCarry) {
  EXPECT_FALSE(IsXmlText(std::string("a\0b", 3)));
  EXPECT_FALSE(IsXmlText("\x01"));
  EXPECT_FALSE(IsXmlText("\x1f"));
  EXPECT_FALSE(IsXmlText("\xff"));              // not UTF-8
  EXPECT_FALSE(IsXmlText("\xc3"));              // truncated
  EXPECT_FALSE(IsXmlText("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsXmlText("\xed\xa0\x80"));      // surrogate D800
  EXPECT_FALSE(IsXmlText("\xef\xbf\xbe"));      // U+FFFE
  EXPECT_FALSE(IsXmlText("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(XmlTextTest, SanitizeReplacesBadPartsOnly) {
  EXPECT_EQ(SanitizeXmlText("ok \xe4\xb8\xad"), "ok \xe4\xb8\xad");
  EXPECT_EQ(SanitizeXmlText("a\x01z"), "a\xef\xbf\xbdz");
  EXPECT_EQ(SanitizeXmlText("a\xffz"), "a\xef\xbf\xbdz");
  EXPECT_TRUE(IsXmlText(SanitizeXmlText(std::string("\0\xc3\xed\xa0\x80", 5))));
}

TEST(XmlTextTest, EscapesLikeXapi) {
  std::string out;
  AppendEscaped("a<b>c&d\"e'f\rg", EscapeStyle::kXapi, &out);
  EXPECT_EQ(out, "a&lt;b&gt;c&amp;d&quot;e'f&#xD;g");
}

TEST(XmlTextTest, EscapesLikeCPython) {
  std::string out;
  AppendEscaped("a<b>c&d\"e'f\rg", EscapeStyle::kPython, &out);
  EXPECT_EQ(out, "a&lt;b&gt;c&amp;d\"e'f\rg");
}

}  // namespace
}  // namespace xmlrpc
