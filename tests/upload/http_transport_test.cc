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

}  // namespace
}  // namespace upload
