// The identity requests and the parsing of their answers (the exchanges
// with a live service are in auth_swift_test.cc).
#include "upload/auth.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/status_matchers.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

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

}  // namespace
}  // namespace upload
