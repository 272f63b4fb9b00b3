// Faults on the real Swift: stopped daemons, injected proxy errors
// (scripts/saio/saio_fault.py), token loss, wrong credentials.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/uploader.h"

namespace upload {
namespace {

using uploadtest::FaultHits;
using uploadtest::SaioCommand;
using uploadtest::SetFault;
using uploadtest::SwiftDownload;
using uploadtest::TestContainer;
using uploadtest::UploadImage;
using uploadtest::V1Store;

class Faults : public ::testing::Test {
 protected:
  void SetUp() override { uploadtest::Swift(); }
  void TearDown() override { SetFault("clear"); }

  UploadOptions Options(const std::string& object) {
    UploadOptions o;
    o.container = TestContainer();
    o.object = object;
    o.segment_size = 1 << 20;
    return o;
  }
  // Nothing of the run is left in the segment container.
  void ExpectNoSegments(const UploadOptions& o) {
    EXPECT_TRUE(uploadtest::ListObjects(o.container + "_segments", "").empty());
  }
};

TEST_F(Faults, ObjectServerStoppedMidUploadThenRestarted) {
  std::string image = uploadtest::DiskLikeImage(16 << 20, 31);
  UploadOptions o = Options("obj-down.gz");
  SwiftStore store = V1Store();
  // 0.25 0.5 1 2 2 ... s: up to ~2 minutes of patience, for an object
  // server that takes its time to come back on a loaded machine (8 s was
  // not enough); the upload goes on as soon as it is back.
  store.retry.max_attempts = 60;
  store.retry.initial_delay_s = 0.25;
  store.retry.max_delay_s = 2;
  std::thread restarter;
  bool stopped = false;
  o.progress = [&](const ProgressInfo& p) {
    if (p.segments_done >= 2 && !stopped) {
      stopped = true;
      ASSERT_EQ(SaioCommand({"stop-daemon", "object"}), 0);
      restarter = std::thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        SaioCommand({"start-daemon", "object"});
      });
    }
  };
  UploadResult r;
  base::Status st = UploadImage(store, o, image, ImageFormat::kVhd, &r);
  if (restarter.joinable()) restarter.join();
  ASSERT_TRUE(stopped);
  ASSERT_OK(st);
  EXPECT_GE(r.http.retries, 1u);
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST_F(Faults, Proxy503ForAWhileThenSuccess) {
  std::string image = uploadtest::DiskLikeImage(8 << 20, 32);
  UploadOptions o = Options("p503.gz");
  SetFault(R"({"status": 503, "count": 4, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  UploadResult r;
  auto t0 = std::chrono::steady_clock::now();
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_OK(st);
  EXPECT_EQ(FaultHits(), 4);
  EXPECT_EQ(r.http.retries, 4u);
  // Backoff happened (10 ms doubling) but tests stay fast.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST_F(Faults, RetryAfterIsHonoured) {
  UploadOptions o = Options("retry-after.bin");
  SetFault(R"({"status": 429, "count": 1, "retry_after": "2",
               "methods": ["PUT"], "path_contains": "_segments/"})");
  UploadResult r;
  auto t0 = std::chrono::steady_clock::now();
  base::Status st = UploadImage(V1Store(), o, testutil::RandomBytes(1000, 1),
                                ImageFormat::kRaw, &r);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_OK(st);
  EXPECT_EQ(FaultHits(), 1);
  EXPECT_GE(secs, 2.0);  // the policy alone would wait 10 ms
}

TEST_F(Faults, RetriesRunOutWithAClearErrorAndNothingLeft) {
  std::string image = uploadtest::DiskLikeImage(6 << 20, 33);
  UploadOptions o = Options("always503.gz");
  // Segment 0 goes in; then every segment PUT answers 503.
  SetFault(R"({"status": 503, "methods": ["PUT"],
               "path_contains": "/00000001"})");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  EXPECT_EQ(r.error, UploadError::kRetriesExhausted) << st.ToString();
  EXPECT_NE(st.message().find("503 after 6 attempts"), std::string::npos)
      << st.message();
  EXPECT_EQ(FaultHits(), 6);
  SetFault("clear");
  EXPECT_GE(r.segments_deleted, 1u);
  ExpectNoSegments(o);
}

TEST_F(Faults, CorruptedInTransitIsResentOnce) {
  std::string image = uploadtest::DiskLikeImage(4 << 20, 34);
  UploadOptions o = Options("422-once.gz");
  // The proxy swaps the ETag header: the object server answers 422.
  SetFault(R"({"bad_etag": true, "count": 1, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.http.resends, 1u);
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST_F(Faults, CorruptedTwiceFails) {
  UploadOptions o = Options("422-always.bin");
  SetFault(R"({"bad_etag": true, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, testutil::RandomBytes(5000, 2),
                                ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kChecksumMismatch) << st.ToString();
  EXPECT_EQ(FaultHits(), 2);
  SetFault("clear");
  ExpectNoSegments(o);
}

TEST_F(Faults, OtherClientErrorsAreNotRetried) {
  UploadOptions o = Options("403.bin");
  SetFault(R"({"status": 403, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, testutil::RandomBytes(5000, 3),
                                ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kRejected) << st.ToString();
  EXPECT_NE(st.message().find(": 403"), std::string::npos) << st.message();
  EXPECT_EQ(FaultHits(), 1);
  EXPECT_EQ(r.http.retries, 0u);
}

TEST_F(Faults, MemcachedRestartForcesReauthentication) {
  std::string image = uploadtest::DiskLikeImage(8 << 20, 35);
  UploadOptions o = Options("reauth.gz");
  bool restarted = false;
  o.progress = [&](const ProgressInfo& p) {
    if (p.segments_done >= 1 && !restarted) {
      restarted = true;
      // tempauth keeps tokens only in memcached: every token dies.
      ASSERT_EQ(SaioCommand({"stop-daemon", "memcached"}), 0);
      ASSERT_EQ(SaioCommand({"start-daemon", "memcached"}), 0);
    }
  };
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_TRUE(restarted);
  ASSERT_OK(st);
  EXPECT_EQ(r.http.reauths, 1u);  // once, shared by both upload threads
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST_F(Faults, WrongKeyIsAClearErrorAndLeavesNothing) {
  UploadOptions o = Options("wrongkey.bin");
  SwiftStore store = V1Store();
  store.auth.key = "not-the-key-XYZ";
  UploadResult r;
  base::Status st = UploadImage(store, o, testutil::RandomBytes(5000, 4),
                                ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kAuthFailed) << st.ToString();
  EXPECT_EQ(st.message().find("not-the-key-XYZ"), std::string::npos);
  EXPECT_NE(st.message().find("401"), std::string::npos) << st.message();
  EXPECT_EQ(r.http.requests, 0u);  // never reached the storage
  // Not even the containers were created.
  EXPECT_TRUE(uploadtest::ListObjects(o.container, "").empty());
  ExpectNoSegments(o);
}

TEST_F(Faults, UnreachableStorageRetriesThenFails) {
  UploadOptions o = Options("nowhere.bin");
  SwiftStore store = V1Store();
  store.auth.storage_url = "http://127.0.0.1:9/v1/AUTH_test";  // closed port
  store.retry.max_attempts = 3;
  UploadResult r;
  base::Status st = UploadImage(store, o, "x", ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kRetriesExhausted) << st.ToString();
  EXPECT_EQ(r.http.requests, 3u);
}

}  // namespace
}  // namespace upload
