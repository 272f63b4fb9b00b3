// Cancel, clean-up and resume: in-process (UploadOptions::cancelled) and
// with the vhdsm-upload command line killed by SIGKILL or stopped by
// SIGTERM in the middle of an upload.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/uploader.h"

namespace upload {
namespace {

using uploadtest::ListObjects;
using uploadtest::SetFault;
using uploadtest::SwiftDownload;
using uploadtest::TestContainer;
using uploadtest::UploadImage;
using uploadtest::V1Store;

class Resume : public ::testing::Test {
 protected:
  void SetUp() override { uploadtest::Swift(); }
  void TearDown() override { SetFault("clear"); }
};

UploadOptions CancelAfter(const std::string& object, uint64_t segments,
                          std::atomic<bool>* cancel) {
  UploadOptions o;
  o.container = TestContainer();
  o.object = object;
  o.segment_size = 1 << 20;
  o.run_id = "run1";
  o.progress = [cancel, segments](const ProgressInfo& p) {
    if (p.segments_done >= segments) cancel->store(true);
  };
  o.cancelled = [cancel] { return cancel->load(); };
  return o;
}

TEST_F(Resume, CancelRemovesTheSegments) {
  std::string image = uploadtest::DiskLikeImage(24 << 20, 41);
  std::atomic<bool> cancel{false};
  UploadOptions o = CancelAfter("cancel.gz", 3, &cancel);
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  EXPECT_EQ(r.error, UploadError::kCancelled) << st.ToString();
  EXPECT_GE(r.segments_deleted, 3u);
  EXPECT_TRUE(ListObjects(o.container + "_segments", "").empty());
  EXPECT_TRUE(ListObjects(o.container, "").empty());  // no manifest
}

TEST_F(Resume, KeptSegmentsAreNotSentAgain) {
  std::string image = uploadtest::DiskLikeImage(24 << 20, 42);
  std::atomic<bool> cancel{false};
  UploadOptions o = CancelAfter("resume.gz", 3, &cancel);
  o.keep_segments_on_failure = true;
  UploadResult first;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &first);
  ASSERT_EQ(first.error, UploadError::kCancelled) << st.ToString();
  EXPECT_EQ(first.segments_deleted, 0u);
  const uint64_t kept = ListObjects(o.container + "_segments", "").size();
  ASSERT_GE(kept, 3u);

  cancel = false;
  o.progress = nullptr;
  o.cancelled = nullptr;
  UploadResult second;
  st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &second);
  ASSERT_OK(st);
  EXPECT_EQ(second.segments_skipped, kept);
  EXPECT_EQ(second.segments_uploaded, second.segments_total - kept);
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST_F(Resume, ChangedSegmentsAreSentAgain) {
  // A stored segment whose MD5 differs (different data under the same run)
  // is overwritten, not trusted.
  std::string a = testutil::RandomBytes(3 << 20, 43);
  std::string b = a;
  b[(1 << 20) + 5] ^= 1;  // segment 1 differs
  UploadOptions o;
  o.container = TestContainer();
  o.object = "changed.bin";
  o.segment_size = 1 << 20;
  o.run_id = "run1";
  UploadResult r;
  ASSERT_OK(UploadImage(V1Store(), o, a, ImageFormat::kRaw, &r));
  base::Status st = UploadImage(V1Store(), o, b, ImageFormat::kRaw, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.segments_skipped, 2u);
  EXPECT_EQ(r.segments_uploaded, 1u);
  EXPECT_EQ(SwiftDownload(o.container, o.object), b);
}

TEST_F(Resume, StaleSegmentsPastTheEndAreRemoved) {
  // Same run, same source size, but a shorter stream the second time (raw,
  // then gzip): the extra segments of the first attempt would otherwise
  // become part of the DLO.
  std::string image = uploadtest::DiskLikeImage(2 << 20, 46);
  UploadOptions o;
  o.container = TestContainer();
  o.object = "stale";
  o.segment_size = 64 << 10;
  o.manifest = ManifestKind::kDlo;
  o.run_id = "same";
  UploadResult first, second;
  ASSERT_OK(UploadImage(V1Store(), o, image, ImageFormat::kRaw, &first));
  base::Status st =
      UploadImage(V1Store(), o, image, ImageFormat::kVhd, &second);
  ASSERT_OK(st);
  ASSERT_LT(second.segments_total, first.segments_total);
  EXPECT_EQ(ListObjects(o.container + "_segments", "").size(),
            second.segments_total);
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

std::vector<std::string> CliArgs(const std::string& input,
                                 const std::string& container) {
  const uploadtest::Saio& s = uploadtest::Swift();
  return {testutil::Built("bin/vhdsm-upload"),
          "--input",
          input,
          "--format",
          "tgz",
          "--auth-url",
          s.auth_url,
          "--allow-insecure",
          "--user",
          s.user,
          "--key",
          s.key,
          "--container",
          container,
          "--object",
          "cli.tgz",
          "--segment-size",
          "1M",
          "--run-id",
          "cli-run",
          "--retry-delay",
          "0.01",
          "--json"};
}

TEST_F(Resume, KilledCliResumesWithOnlyTheMissingSegments) {
  testutil::TempDir tmp;
  std::string image = uploadtest::DiskLikeImage(40 << 20, 44);
  testutil::WriteFile(tmp.Join("disk.vhd"), image);
  std::string container = TestContainer();
  // Slow segment PUTs down so that the kill lands mid-upload.
  SetFault(R"({"delay": 0.3, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  auto args = CliArgs(tmp.Join("disk.vhd"), container);
  {
    uploadtest::Child cli(args, tmp.Join("out1"), tmp.Join("err1"));
    std::map<std::string, std::string> stored;
    for (int i = 0; i < 300 && stored.size() < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      stored = ListObjects(container + "_segments", "");
    }
    ASSERT_GE(stored.size(), 4u) << testutil::ReadFile(tmp.Join("err1"));
    cli.Kill(SIGKILL);
    EXPECT_EQ(cli.Wait(), -1);
  }
  SetFault("clear");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t kept = ListObjects(container + "_segments", "").size();
  ASSERT_GE(kept, 4u);

  std::string out, err;
  int rc = uploadtest::RunWithEnv(args, {}, &out, &err);
  ASSERT_EQ(rc, 0) << out << err;
  nlohmann::json r = nlohmann::json::parse(out);
  EXPECT_EQ(r["status"], "OK");
  EXPECT_EQ(r["segments_skipped"].get<uint64_t>(), kept);
  EXPECT_EQ(r["segments_uploaded"].get<uint64_t>(),
            r["segments_total"].get<uint64_t>() - kept);
  EXPECT_GT(r["segments_uploaded"].get<uint64_t>(), 0u);

  testutil::WriteFile(tmp.Join("img.tgz"), SwiftDownload(container, "cli.tgz"));
  std::string unpack = tmp.Join("unpack");
  testutil::Run({"mkdir", unpack});
  testutil::RunResult t =
      testutil::Run({"tar", "-xzf", tmp.Join("img.tgz"), "-C", unpack});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(testutil::ReadFile(unpack + "/0.vhd"), image);
}

TEST_F(Resume, SigtermCancelsTheCliAndRemovesItsSegments) {
  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("disk.vhd"),
                      uploadtest::DiskLikeImage(24 << 20, 45));
  std::string container = TestContainer();
  SetFault(R"({"delay": 0.3, "methods": ["PUT"],
               "path_contains": "_segments/"})");
  uploadtest::Child cli(CliArgs(tmp.Join("disk.vhd"), container),
                        tmp.Join("out"), tmp.Join("err"));
  std::map<std::string, std::string> stored;
  for (int i = 0; i < 300 && stored.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stored = ListObjects(container + "_segments", "");
  }
  ASSERT_GE(stored.size(), 2u);
  cli.Kill(SIGTERM);
  EXPECT_EQ(cli.Wait(), static_cast<int>(UploadError::kCancelled))
      << testutil::ReadFile(tmp.Join("err"));
  nlohmann::json r = nlohmann::json::parse(testutil::ReadFile(tmp.Join("out")));
  EXPECT_EQ(r["status"], "CANCELLED");
  EXPECT_GE(r["segments_deleted"].get<uint64_t>(), 2u);
  SetFault("clear");
  EXPECT_TRUE(ListObjects(container + "_segments", "").empty());
}

}  // namespace
}  // namespace upload
