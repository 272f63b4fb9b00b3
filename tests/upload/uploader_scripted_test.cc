// The uploader's retry, resume, re-authentication and checksum logic against
// a scripted store (fake_swift.h): faults on cue, every request asserted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/upload/fake_swift.h"
#include "tests/upload/scripted_transport.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/md5.h"
#include "upload/segment_names.h"
#include "upload/uploader.h"

namespace upload {
namespace {

using uploadtest::Exchange;
using uploadtest::FakeSwift;
using uploadtest::HttpScript;
using uploadtest::Reply;

constexpr uint64_t kSegment = 64 << 10;  // filled by one Append: sealed
constexpr char kRun[] = "1700000000.000001";

class ScriptedUpload : public ::testing::Test {
 protected:
  ScriptedUpload()
      : swift_(&script_), data_(testutil::RandomBytes(5 * kSegment - 100, 7)) {
    options_.container = "c";
    options_.object = "images/disk.vhd";
    options_.segment_size = kSegment;
    options_.parallel_segments = 1;  // one request at a time: exact order
    options_.run_id = kRun;
    store_ = swift_.Store();
  }

  base::Status Run() {
    StringSource src(data_);
    return Upload(store_, options_, &src, &result_);
  }
  SegmentNames Names() const {
    return SegmentNames(options_.object, kRun, data_.size(), kSegment);
  }
  std::string SegmentData(uint64_t i) const {
    return data_.substr(i * kSegment, kSegment);
  }
  // The PUTs of segment i.
  std::vector<Exchange> SegmentPuts(uint64_t i) const {
    return script_.Requests("PUT",
                            "/c_segments/.*/0000000" + std::to_string(i) + "$");
  }
  // Reassembles the stored SLO from its manifest.
  std::string Download() const {
    auto objects = swift_.Objects();
    auto it = objects.find("c/" + options_.object);
    if (it == objects.end() || !it->second.slo) return "<no SLO>";
    std::string out;
    for (const auto& seg : nlohmann::json::parse(it->second.data)) {
      out += objects[seg["path"].get<std::string>().substr(1)].data;
    }
    return out;
  }
  size_t StoredSegments() const {
    size_t n = 0;
    for (const auto& [key, o] : swift_.Objects()) {
      n += key.rfind("c_segments/", 0) == 0;
    }
    return n;
  }

  HttpScript script_;
  FakeSwift swift_;
  std::string data_;
  SwiftStore store_;
  UploadOptions options_;
  UploadResult result_;
};

TEST_F(ScriptedUpload, RoundTripMakesTheDocumentedRequests) {
  ASSERT_OK(Run());
  EXPECT_EQ(Download(), data_);
  EXPECT_EQ(result_.segments_total, 5u);
  EXPECT_EQ(result_.segments_uploaded, 5u);
  EXPECT_EQ(result_.object_md5, Md5::Of(data_));
  std::vector<std::string> seen;
  for (const Exchange& e : script_.Requests()) {
    seen.push_back(e.method + " " + e.path.substr(0, e.path.find('?')));
  }
  const std::string seg = "/v1/AUTH_t/c_segments/" + Names().prefix();
  std::vector<std::string> want = {
      "GET /auth/v1.0", "GET /info", "PUT /v1/AUTH_t/c",
      "PUT /v1/AUTH_t/c_segments",
      "GET /v1/AUTH_t/c_segments"};  // resume: the run's listing
  for (int i = 0; i < 5; ++i)
    want.push_back("PUT " + seg + "0000000" + std::to_string(i));
  want.push_back("PUT /v1/AUTH_t/c/images/disk.vhd");
  want.push_back("HEAD /v1/AUTH_t/c/images/disk.vhd");
  EXPECT_EQ(seen, want);
  for (uint64_t i = 0; i < 5; ++i) {
    auto puts = SegmentPuts(i);
    ASSERT_EQ(puts.size(), 1u);
    EXPECT_EQ(puts[0].body, SegmentData(i));
    EXPECT_EQ(puts[0].Header("ETag"), Md5::Of(SegmentData(i)));
    EXPECT_EQ(puts[0].Header("X-Auth-Token"), "tok-1");
  }
  EXPECT_TRUE(script_.Unmatched().empty());
}

TEST_F(ScriptedUpload, ServerErrorStormRunsOutOfRetries) {
  store_.retry.max_attempts = 4;
  script_.Queue("PUT", "/00000002$",
                std::vector<Reply>(100, Reply::Status(503, "busy")));
  base::Status st = Run();
  EXPECT_EQ(ErrorOf(st), UploadError::kRetriesExhausted) << st.ToString();
  EXPECT_EQ(result_.error, UploadError::kRetriesExhausted);
  EXPECT_NE(st.message().find("after 4 attempts"), std::string::npos);
  auto puts = SegmentPuts(2);
  ASSERT_EQ(puts.size(), 4u);  // the first try and 3 retries, no more
  for (const Exchange& e : puts) EXPECT_EQ(e.body, SegmentData(2));
  EXPECT_EQ(result_.http.retries, 3u);
  EXPECT_TRUE(SegmentPuts(3).empty());
  // No manifest, and the segments stored before the storm are removed.
  EXPECT_TRUE(script_.Requests("PUT", "^/v1/AUTH_t/c/").empty());
  EXPECT_EQ(script_.Requests("DELETE", "/c_segments/").size(), 2u);
  EXPECT_EQ(result_.segments_deleted, 2u);
  EXPECT_EQ(StoredSegments(), 0u);
}

TEST_F(ScriptedUpload, AStormThatEndsIsRiddenOut) {
  script_.Queue("PUT", "/00000001$",
                {Reply::Status(503), Reply::Reset(), Reply::Status(500)});
  ASSERT_OK(Run());
  EXPECT_EQ(SegmentPuts(1).size(), 4u);
  EXPECT_EQ(result_.http.retries, 3u);
  EXPECT_EQ(Download(), data_);
}

TEST_F(ScriptedUpload, ResumeSendsOnlyWhatIsMissing) {
  SegmentNames names = Names();
  for (uint64_t i : {0, 1, 3}) {
    swift_.PutObject("c_segments", names.Segment(i), SegmentData(i));
  }
  // Segment 2 stored with other bytes (another attempt's), and one past the
  // end of this stream.
  swift_.PutObject("c_segments", names.Segment(2), "other bytes");
  swift_.PutObject("c_segments", names.Segment(9), "stale");
  ASSERT_OK(Run());
  EXPECT_EQ(Download(), data_);
  EXPECT_EQ(result_.segments_skipped, 3u);
  EXPECT_EQ(result_.segments_uploaded, 2u);
  for (uint64_t i : {0, 1, 3}) EXPECT_TRUE(SegmentPuts(i).empty()) << i;
  for (uint64_t i : {2, 4}) EXPECT_EQ(SegmentPuts(i).size(), 1u) << i;
  auto lists = script_.Requests("GET", "^/v1/AUTH_t/c_segments\\?");
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_NE(lists[0].path.find("prefix=" + UrlEncode(names.prefix(), false)),
            std::string::npos);
  EXPECT_EQ(script_.Requests("DELETE", "/00000009$").size(), 1u);
  EXPECT_EQ(StoredSegments(), 5u);
}

TEST_F(ScriptedUpload, AListingThatDoesNotAdvanceIsRejected) {
  const std::string seg = Names().Segment(0);
  nlohmann::json page = {{{"name", seg}, {"hash", "x"}, {"bytes", 1}},
                         {{"name", seg}, {"hash", "x"}, {"bytes", 1}}};
  script_.Queue("GET", "^/v1/AUTH_t/c_segments\\?",
                {Reply::Status(200, page.dump())});
  base::Status st = Run();
  EXPECT_EQ(ErrorOf(st), UploadError::kRejected) << st.ToString();
  EXPECT_TRUE(SegmentPuts(0).empty());
}

TEST_F(ScriptedUpload, ATokenExpiringMidUploadIsRenewedOnce) {
  script_.Queue("PUT", "/00000002$", {Reply::Status(401)});
  ASSERT_OK(Run());
  EXPECT_EQ(Download(), data_);
  EXPECT_EQ(script_.Requests("GET", "^/auth/").size(), 2u);
  EXPECT_EQ(result_.http.reauths, 1u);
  auto puts = SegmentPuts(2);
  ASSERT_EQ(puts.size(), 2u);
  EXPECT_EQ(puts[0].Header("X-Auth-Token"), "tok-1");
  EXPECT_EQ(puts[1].Header("X-Auth-Token"), "tok-2");
  EXPECT_EQ(SegmentPuts(1)[0].Header("X-Auth-Token"), "tok-1");
  EXPECT_EQ(SegmentPuts(3)[0].Header("X-Auth-Token"), "tok-2");
  auto heads = script_.Requests("HEAD", "/c/images/disk.vhd$");
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].Header("X-Auth-Token"), "tok-2");
}

TEST_F(ScriptedUpload, A401AfterReauthenticatingFails) {
  script_.Queue("PUT", "/00000001$", {Reply::Status(401), Reply::Status(401)});
  base::Status st = Run();
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthFailed) << st.ToString();
  EXPECT_EQ(script_.Requests("GET", "^/auth/").size(), 2u);
  EXPECT_EQ(SegmentPuts(1).size(), 2u);
  EXPECT_TRUE(SegmentPuts(2).empty());
}

TEST_F(ScriptedUpload, ACorruptedSegmentIsResentOnce) {
  script_.Queue("PUT", "/00000001$", {Reply::Status(422)});
  ASSERT_OK(Run());
  auto puts = SegmentPuts(1);
  ASSERT_EQ(puts.size(), 2u);
  for (const Exchange& e : puts) {
    EXPECT_EQ(e.Header("ETag"), Md5::Of(SegmentData(1)));
    EXPECT_EQ(e.body, SegmentData(1));
  }
  EXPECT_EQ(result_.http.resends, 1u);
  EXPECT_EQ(Download(), data_);
}

TEST_F(ScriptedUpload, CorruptedTwiceIsAChecksumMismatch) {
  script_.Queue("PUT", "/00000001$", {Reply::Status(422), Reply::Status(422)});
  base::Status st = Run();
  EXPECT_EQ(ErrorOf(st), UploadError::kChecksumMismatch) << st.ToString();
  EXPECT_EQ(SegmentPuts(1).size(), 2u);
  EXPECT_EQ(result_.http.resends, 1u);
  EXPECT_EQ(StoredSegments(), 0u);  // segment 0 removed again
}

TEST_F(ScriptedUpload, AStoredEtagThatDiffersIsAChecksumMismatch) {
  Reply wrong = Reply::Status(201).Set("ETag", "\"" + Md5::Of("x") + "\"");
  script_.Queue("PUT", "/00000000$", {wrong, wrong});
  base::Status st = Run();
  EXPECT_EQ(ErrorOf(st), UploadError::kChecksumMismatch) << st.ToString();
  EXPECT_NE(st.message().find("twice"), std::string::npos);
  EXPECT_EQ(SegmentPuts(0).size(), 2u);
}

}  // namespace
}  // namespace upload
