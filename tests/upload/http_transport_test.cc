// The transport-neutral pieces: response headers, URL encoding.
#include "upload/http_transport.h"

#include <gtest/gtest.h>

namespace upload {
namespace {

TEST(Http, UrlEncode) {
  EXPECT_EQ(UrlEncode("a b/c~d_e.f-g", true), "a%20b/c~d_e.f-g");
  EXPECT_EQ(UrlEncode("a/b?c&d", false), "a%2Fb%3Fc%26d");
  EXPECT_EQ(UrlEncode("\xc3\xa9", true), "%C3%A9");
}

TEST(Http, ResponseHeadersAnyCase) {
  HttpResponse r;
  r.headers["etag"] = "\"abc\"";
  r.headers["x-object-manifest"] = "c/p";
  EXPECT_EQ(r.Header("ETag"), "\"abc\"");
  EXPECT_EQ(r.Header("X-OBJECT-MANIFEST"), "c/p");
  EXPECT_EQ(r.Header("etag"), "\"abc\"");
  EXPECT_EQ(r.Header("Content-Length"), "");
}

TEST(UrlDecode, DecodesPairsOfHexDigitsAndKeepsTheRest) {
  EXPECT_EQ(UrlDecode("images_segments%2Fa%20b"), "images_segments/a b");
  EXPECT_EQ(UrlDecode(UrlEncode("caf\xc3\xa9 ?/x", false)), "caf\xc3\xa9 ?/x");
  EXPECT_EQ(UrlDecode("100%"), "100%");    // no digits after it
  EXPECT_EQ(UrlDecode("%zz%4"), "%zz%4");  // not hex, cut short
  EXPECT_EQ(UrlDecode("%00x"), std::string("\0x", 2));
}

TEST(UnquoteEtag, StripsOnlyASurroundingPair) {
  EXPECT_EQ(UnquoteEtag("\"d41d8cd9\""), "d41d8cd9");
  EXPECT_EQ(UnquoteEtag("d41d8cd9"), "d41d8cd9");
  EXPECT_EQ(UnquoteEtag("\""), "\"");
  EXPECT_EQ(UnquoteEtag("\"a"), "\"a");
}

}  // namespace
}  // namespace upload
