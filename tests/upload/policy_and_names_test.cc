// Unit tests of the small pieces: segment names, SLO
// manifests, auth request/response JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/status_matchers.h"
#include "upload/auth.h"
#include "upload/http_client.h"
#include "upload/md5.h"
#include "upload/segment_names.h"
#include "upload/slo_manifest.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

TEST(SegmentNames, Scheme) {
  SegmentNames n("images/disk.vhd.gz", "1700000000.123456", 1073741824,
                 104857600);
  EXPECT_EQ(n.prefix(),
            "images/disk.vhd.gz/1700000000.123456/1073741824/104857600/");
  EXPECT_EQ(n.Segment(0), n.prefix() + "00000000");
  EXPECT_EQ(n.Segment(1234), n.prefix() + "00001234");
  EXPECT_EQ(n.Segment(123456789), n.prefix() + "123456789");
  EXPECT_EQ(n.SubManifest(2), n.prefix() + "manifest/00000002");
  uint64_t i = 0;
  EXPECT_TRUE(n.ParseSegment(n.Segment(42), &i));
  EXPECT_EQ(i, 42u);
  EXPECT_TRUE(n.ParseSegment(n.Segment(123456789), &i));
  EXPECT_EQ(i, 123456789u);
  EXPECT_FALSE(n.ParseSegment(n.prefix() + "0042", &i));
  EXPECT_FALSE(n.ParseSegment(n.prefix() + "000000042", &i));
  EXPECT_FALSE(n.ParseSegment(n.SubManifest(1), &i));
  EXPECT_FALSE(n.ParseSegment("other/00000001", &i));
}

TEST(SegmentNames, RunIdsAreTimestamps) {
  std::string a = NewRunId();
  ASSERT_EQ(a.size(), 17u);  // 10 digits, '.', 6 digits (until 2286)
  EXPECT_EQ(a[10], '.');
}

TEST(SloManifest, JsonAndEtag) {
  std::vector<ManifestEntry> e = {
      {"/c_segments/o/1/00000000", Md5::Of("a"), 1},
      {"/c_segments/o/1/00000001", Md5::Of("bc"), 2}};
  nlohmann::json j = nlohmann::json::parse(SloManifestJson(e));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["path"], "/c_segments/o/1/00000001");
  EXPECT_EQ(j[1]["etag"], Md5::Of("bc"));
  EXPECT_EQ(j[1]["size_bytes"], 2);
  EXPECT_EQ(LargeObjectEtag(e), Md5::Of(Md5::Of("a") + Md5::Of("bc")));
  EXPECT_EQ(TotalSize(e), 3u);
}

TEST(Auth, RequestBodies) {
  AuthOptions o;
  o.user = "joe";
  o.key = "s3cret";
  o.tenant = "t1";
  nlohmann::json j = nlohmann::json::parse(V2RequestBody(o));
  EXPECT_EQ(j["auth"]["passwordCredentials"]["password"], "s3cret");
  EXPECT_EQ(j["auth"]["tenantName"], "t1");
  o.api_key = true;
  j = nlohmann::json::parse(V2RequestBody(o));
  EXPECT_EQ(j["auth"]["RAX-KSKEY:apiKeyCredentials"]["apiKey"], "s3cret");
  EXPECT_EQ(j["auth"]["RAX-KSKEY:apiKeyCredentials"]["username"], "joe");
  j = nlohmann::json::parse(V3RequestBody(o));
  EXPECT_EQ(j["auth"]["identity"]["methods"][0], "password");
  EXPECT_EQ(j["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "Default");
  EXPECT_EQ(j["auth"]["scope"]["project"]["name"], "t1");
}

const char kV2Access[] = R"({"access": {
  "token": {"id": "tok123"},
  "serviceCatalog": [
    {"type": "rax:object-cdn", "endpoints": [{"region": "ORD", "publicURL": "https://cdn"}]},
    {"type": "object-store", "endpoints": [
      {"region": "DFW", "publicURL": "https://dfw/v1/A", "internalURL": "https://snet-dfw/v1/A"},
      {"region": "ORD", "publicURL": "https://ord/v1/A/", "internalURL": "https://snet-ord/v1/A"}]}]}})";

TEST(Auth, V2CatalogRegionAndInterface) {
  AuthOptions o;
  AuthResult r;
  ASSERT_OK(ParseV2Access(kV2Access, o, &r));
  EXPECT_EQ(r.token, "tok123");
  EXPECT_EQ(r.storage_url, "https://dfw/v1/A");  // first region
  o.region = "ORD";
  ASSERT_OK(ParseV2Access(kV2Access, o, &r));
  EXPECT_EQ(r.storage_url, "https://ord/v1/A");  // trailing '/' dropped
  o.interface = "internal";                      // ServiceNet
  ASSERT_OK(ParseV2Access(kV2Access, o, &r));
  EXPECT_EQ(r.storage_url, "https://snet-ord/v1/A");
  o.region = "SYD";
  base::Status st = ParseV2Access(kV2Access, o, &r);
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthResponse);
  EXPECT_NE(st.message().find("SYD"), std::string::npos);
  EXPECT_EQ(ErrorOf(ParseV2Access("not json", o, &r)),
            UploadError::kAuthResponse);
  EXPECT_EQ(ErrorOf(ParseV2Access("{\"access\": 5}", o, &r)),
            UploadError::kAuthResponse);
}

TEST(Auth, V3Catalog) {
  const char body[] = R"({"token": {"catalog": [
    {"type": "object-store", "endpoints": [
      {"interface": "admin", "region": "R1", "url": "http://admin"},
      {"interface": "public", "region": "R1", "url": "http://pub1"},
      {"interface": "public", "region_id": "R2", "url": "http://pub2"}]}]}})";
  AuthOptions o;
  AuthResult r;
  ASSERT_OK(ParseV3Catalog(body, o, &r));
  EXPECT_EQ(r.storage_url, "http://pub1");
  o.region = "R2";
  ASSERT_OK(ParseV3Catalog(body, o, &r));
  EXPECT_EQ(r.storage_url, "http://pub2");
  o.interface = "internal";
  EXPECT_EQ(ErrorOf(ParseV3Catalog(body, o, &r)), UploadError::kAuthResponse);
}

TEST(Auth, Versions) {
  AuthVersion v;
  EXPECT_TRUE(ParseAuthVersion("1.0", &v));
  EXPECT_EQ(v, AuthVersion::kV1);
  EXPECT_TRUE(ParseAuthVersion("v2.0", &v));
  EXPECT_EQ(v, AuthVersion::kV2);
  EXPECT_TRUE(ParseAuthVersion("3", &v));
  EXPECT_EQ(v, AuthVersion::kV3);
  EXPECT_FALSE(ParseAuthVersion("4", &v));
}

TEST(Http, UrlEncode) {
  EXPECT_EQ(UrlEncode("a b/c~d_e.f-g", true), "a%20b/c~d_e.f-g");
  EXPECT_EQ(UrlEncode("a/b?c&d", false), "a%2Fb%3Fc%26d");
  EXPECT_EQ(UrlEncode("\xc3\xa9", true), "%C3%A9");
}

}  // namespace
}  // namespace upload
