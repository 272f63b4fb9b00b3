// Tests of image/image_store.h: which params a task may be created with,
// and the store a run uploads to.
#include "image/image_store.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"

namespace vhdsm {
namespace {

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_.container = "images";
    p_.object = "vm.vhd";
    p_.store = "s";
    StoreConfig sc;
    sc.name = "s";
    sc.auth_url = "https://swift.example/auth/v1.0";
    sc.auth_version = "2";
    sc.user = "u";
    sc.key = "k";
    sc.tenant = "t";
    sc.region = "r";
    sc.ca_bundle = "/etc/ca.pem";
    sc.connect_timeout_s = 3;
    sc.stall_timeout_s = 4;
    sc.retries = 5;
    stores_["s"] = sc;
  }
  base::Code Check(bool inline_key = false) {
    return CheckImageParams(p_, stores_, inline_key).code();
  }
  ImageParams p_;
  StoreMap stores_;
};

TEST_F(ImageStoreTest, AValidTaskPasses) {
  EXPECT_OK(CheckImageParams(p_, stores_, false));
  p_.store.clear();
  p_.auth_url = "https://swift.example/auth/v1.0";
  p_.user = "u";
  EXPECT_OK(CheckImageParams(p_, stores_, true));
}

TEST_F(ImageStoreTest, BadShapesAreInvalidArgument) {
  const ImageParams good = p_;
  auto bad = [&](auto change) {
    p_ = good;
    change(p_);
    return Check();
  };
  const base::Code kInvalid = base::Code::kInvalidArgument;
  EXPECT_EQ(bad([](ImageParams& p) { p.container.clear(); }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.object.clear(); }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.object = "a/../../AUTH_x/c/o"; }),
            kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.container = "a/b"; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.format = "qcow2"; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.manifest = "x"; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.segment_size = 0; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.segment_size = (5ull << 30) + 1; }),
            kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.compression_level = 10; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.compression_level = -1; }), kInvalid);
  EXPECT_EQ(bad([](ImageParams& p) { p.store = "nope"; }), kInvalid);
}

TEST_F(ImageStoreTest, InlineAuthNeedsUrlUserAndKey) {
  p_.store.clear();
  p_.auth_url = "https://swift.example/auth/v1.0";
  p_.user = "u";
  EXPECT_EQ(Check(false), base::Code::kInvalidArgument);
  p_.user.clear();
  EXPECT_EQ(Check(true), base::Code::kInvalidArgument);
}

TEST_F(ImageStoreTest, InsecureUrlsOnlyWhenAllowed) {
  stores_["s"].auth_url = "HTTP://swift.example/auth/v1.0";
  base::Status s = CheckImageParams(p_, stores_, false);
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("[store s]"), std::string::npos) << s.ToString();
  stores_["s"].allow_insecure = true;
  EXPECT_OK(CheckImageParams(p_, stores_, false));

  p_.store.clear();
  p_.auth_url = "http://swift.example/auth/v1.0";
  p_.user = "u";
  s = CheckImageParams(p_, stores_, true);
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("--allow-insecure"), std::string::npos);
  p_.allow_insecure = true;
  EXPECT_OK(CheckImageParams(p_, stores_, true));
  upload::SwiftStore store;
  p_.allow_insecure = false;
  EXPECT_EQ(ResolveStore(p_, stores_, "key", 1, &store).code(),
            base::Code::kInvalidArgument);
}

TEST_F(ImageStoreTest, ANamedStoreIsCopiedWhole) {
  upload::SwiftStore store;
  ASSERT_OK(ResolveStore(p_, stores_, "ignored", 1, &store));
  EXPECT_EQ(store.auth.url, "https://swift.example/auth/v1.0");
  EXPECT_EQ(store.auth.version, upload::AuthVersion::kV2);
  EXPECT_EQ(store.auth.user, "u");
  EXPECT_EQ(store.auth.key, "k");
  EXPECT_EQ(store.auth.tenant, "t");
  EXPECT_EQ(store.auth.region, "r");
  EXPECT_EQ(store.http.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(store.http.connect_timeout_s, 3);
  EXPECT_EQ(store.http.stall_timeout_s, 4);
  EXPECT_EQ(store.retry.max_attempts, 5);
  EXPECT_DOUBLE_EQ(store.retry.initial_delay_s,
                   upload::RetryPolicy().initial_delay_s);
  p_.store = "other";
  EXPECT_EQ(ResolveStore(p_, stores_, "", 1, &store).code(),
            base::Code::kInvalidArgument);
}

TEST_F(ImageStoreTest, InlineAuthUsesTheTasksKeyAndTheScale) {
  p_.store.clear();
  p_.auth_url = "https://swift.example/v2.0";
  p_.auth_version = "2";
  p_.user = "u2";
  p_.api_key = true;
  upload::SwiftStore store;
  ASSERT_OK(ResolveStore(p_, stores_, "task-key", 0.5, &store));
  EXPECT_EQ(store.auth.url, "https://swift.example/v2.0");
  EXPECT_EQ(store.auth.user, "u2");
  EXPECT_EQ(store.auth.key, "task-key");
  EXPECT_TRUE(store.auth.api_key);
  // The scale reaches the uploader's one knob; the policy stays swiftclient's.
  EXPECT_DOUBLE_EQ(store.retry.delay_scale, 0.5);
  EXPECT_DOUBLE_EQ(store.retry.initial_delay_s,
                   upload::RetryPolicy().initial_delay_s);
  EXPECT_DOUBLE_EQ(store.retry.max_delay_s, upload::RetryPolicy().max_delay_s);
}

}  // namespace
}  // namespace vhdsm
