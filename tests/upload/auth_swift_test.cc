// Authentication against real services: v1.0 against Swift's tempauth;
// Keystone v2.0 (password and Rackspace API key) and v3 against the test
// identity service (identity_stub.py), whose catalog points at the real
// Swift. Each is proven by an upload and a download through it.
#include <gtest/gtest.h>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/auth.h"
#include "upload/http_client.h"
#include "upload/uploader.h"

namespace upload {
namespace {

using uploadtest::IdentityStub;
using uploadtest::Swift;

AuthResult MustAuth(const AuthOptions& o) {
  HttpClient http((HttpOptions()));
  AuthResult r;
  bool retryable = true;
  base::Status st = Authenticate(&http, o, &r, &retryable);
  EXPECT_OK(st);
  return r;
}

// Uploads a small object with `store` and downloads it with `swift`.
void UploadWorks(const SwiftStore& store) {
  std::string data = testutil::RandomBytes(300000, 7);
  UploadOptions o;
  o.container = uploadtest::TestContainer();
  o.object = "via-auth";
  o.segment_size = 100000;
  UploadResult r;
  base::Status st =
      uploadtest::UploadImage(store, o, data, ImageFormat::kRaw, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.segments_total, 3u);
  EXPECT_EQ(uploadtest::SwiftDownload(o.container, o.object), data);
}

TEST(AuthSwift, V1Tempauth) {
  const uploadtest::Saio& s = Swift();
  AuthOptions o;
  o.url = s.auth_url;
  o.user = s.user;
  o.key = s.key;
  AuthResult r = MustAuth(o);
  EXPECT_EQ(r.storage_url, s.storage_url);
  EXPECT_EQ(r.token.rfind("AUTH_tk", 0), 0u);
  UploadWorks(uploadtest::V1Store());
}

TEST(AuthSwift, V1WrongKey) {
  const uploadtest::Saio& s = Swift();
  AuthOptions o;
  o.url = s.auth_url;
  o.user = s.user;
  o.key = "wrong-secret-123";
  HttpClient http((HttpOptions()));
  AuthResult r;
  bool retryable = true;
  base::Status st = Authenticate(&http, o, &r, &retryable);
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthFailed);
  EXPECT_FALSE(retryable);
  EXPECT_EQ(st.message().find("wrong-secret-123"), std::string::npos);
}

class KeystoneAuth : public ::testing::Test {
 protected:
  SwiftStore Store(AuthVersion v) {
    SwiftStore store = uploadtest::V1Store();
    store.auth = AuthOptions();
    store.auth.version = v;
    store.auth.url = stub_.url() + (v == AuthVersion::kV2 ? "/v2.0" : "/v3");
    store.auth.user = "tester";
    store.auth.key = "testing";
    store.auth.region = "ORD";  // DFW, listed first, points nowhere
    return store;
  }
  IdentityStub stub_;
};

TEST_F(KeystoneAuth, V2Password) {
  SwiftStore store = Store(AuthVersion::kV2);
  store.auth.tenant = "test";
  AuthResult r = MustAuth(store.auth);
  EXPECT_EQ(r.storage_url, Swift().storage_url);
  UploadWorks(store);
}

TEST_F(KeystoneAuth, V2RackspaceApiKeyAndServiceNet) {
  SwiftStore store = Store(AuthVersion::kV2);
  store.auth.api_key = true;
  store.auth.interface = "internal";
  AuthResult r = MustAuth(store.auth);
  EXPECT_EQ(r.storage_url, Swift().storage_url);
  UploadWorks(store);
}

TEST_F(KeystoneAuth, V2WrongApiKey) {
  SwiftStore store = Store(AuthVersion::kV2);
  store.auth.api_key = true;
  store.auth.key = "bad-api-key-999";
  HttpClient http((HttpOptions()));
  AuthResult r;
  bool retryable = true;
  base::Status st = Authenticate(&http, store.auth, &r, &retryable);
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthFailed);
  EXPECT_EQ(st.message().find("bad-api-key-999"), std::string::npos);
}

TEST_F(KeystoneAuth, V2UnknownRegion) {
  SwiftStore store = Store(AuthVersion::kV2);
  store.auth.region = "SYD";
  HttpClient http((HttpOptions()));
  AuthResult r;
  bool retryable = true;
  base::Status st = Authenticate(&http, store.auth, &r, &retryable);
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthResponse) << st.ToString();
}

TEST_F(KeystoneAuth, V3PasswordWithProject) {
  SwiftStore store = Store(AuthVersion::kV3);
  store.auth.tenant = "test";
  AuthResult r = MustAuth(store.auth);
  EXPECT_EQ(r.storage_url, Swift().storage_url);
  EXPECT_EQ(r.token.rfind("AUTH_tk", 0), 0u);
  UploadWorks(store);
}

TEST_F(KeystoneAuth, V3WrongPassword) {
  SwiftStore store = Store(AuthVersion::kV3);
  store.auth.key = "nope";
  UploadOptions o;
  o.container = uploadtest::TestContainer();
  o.object = "x";
  UploadResult r;
  base::Status st =
      uploadtest::UploadImage(store, o, "data", ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kAuthFailed) << st.ToString();
}

TEST(TlsAuth, VerifiedByDefaultCaFileConfigurable) {
  IdentityStub stub(/*tls=*/true);
  AuthOptions o;
  o.version = AuthVersion::kV2;
  o.url = stub.url() + "/v2.0";
  o.user = "tester";
  o.key = "testing";
  o.region = "ORD";
  AuthResult r;
  bool retryable = true;
  {
    // A self-signed certificate is refused, and retrying cannot help.
    HttpClient http((HttpOptions()));
    base::Status st = Authenticate(&http, o, &r, &retryable);
    EXPECT_EQ(ErrorOf(st), UploadError::kTransport) << st.ToString();
    EXPECT_FALSE(retryable);
  }
  {
    HttpOptions h;
    h.tls.ca_file = stub.cert_path();  // trusted explicitly
    HttpClient http(h);
    base::Status st = Authenticate(&http, o, &r, &retryable);
    ASSERT_OK(st);
    EXPECT_EQ(r.storage_url, Swift().storage_url);
  }
  {
    HttpOptions h;
    h.tls.verify = false;  // the operator's explicit choice
    HttpClient http(h);
    EXPECT_OK(Authenticate(&http, o, &r, &retryable));
  }
}

TEST(DeleteLargeObject, RemovesSloAndDloWithTheirSegments) {
  for (ManifestKind kind : {ManifestKind::kSlo, ManifestKind::kDlo}) {
    UploadOptions o;
    o.container = uploadtest::TestContainer();
    o.object = kind == ManifestKind::kSlo ? "slo" : "dlo";
    o.segment_size = 100000;
    o.manifest = kind;
    UploadResult r;
    ASSERT_OK(uploadtest::UploadImage(uploadtest::V1Store(), o,
                                      testutil::RandomBytes(250000, 8),
                                      ImageFormat::kRaw, &r));
    EXPECT_EQ(
        uploadtest::ListObjects(o.container + "_segments", o.object).size(),
        3u);
    base::Status st =
        DeleteLargeObject(uploadtest::V1Store(), o.container, o.object);
    ASSERT_OK(st);
    EXPECT_TRUE(
        uploadtest::ListObjects(o.container + "_segments", o.object).empty());
    EXPECT_TRUE(uploadtest::ListObjects(o.container, o.object).empty());
    // Deleting what is gone is fine.
    EXPECT_OK(DeleteLargeObject(uploadtest::V1Store(), o.container, o.object));
  }
}

}  // namespace
}  // namespace upload
