// End-to-end uploads to the real Swift (scripts/saio.sh), downloaded back
// with python-swiftclient's `swift download` and checked byte for byte.
#include "upload/uploader.h"

#include <gtest/gtest.h>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/md5.h"

namespace upload {
namespace {

using uploadtest::SwiftDownload;
using uploadtest::TestContainer;
using uploadtest::UploadImage;
using uploadtest::V1Store;

UploadOptions SmallSegments(const std::string& object) {
  UploadOptions o;
  o.container = TestContainer();
  o.object = object;
  o.segment_size = 1 << 20;
  return o;
}

TEST(Upload, GzipSloRoundTripWithProgress) {
  std::string image = uploadtest::DiskLikeImage(24 << 20, 21);
  UploadOptions o = SmallSegments("images/disk one.vhd.gz");
  std::vector<ProgressInfo> seen;
  o.progress = [&](const ProgressInfo& p) { seen.push_back(p); };
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.error, UploadError::kNone);
  EXPECT_GE(r.segments_total, 5u);
  EXPECT_EQ(r.segments_uploaded, r.segments_total);
  EXPECT_EQ(r.segments_skipped, 0u);
  EXPECT_EQ(r.source_bytes, image.size());

  std::string gz = SwiftDownload(o.container, o.object);
  EXPECT_EQ(gz.size(), r.object_bytes);
  EXPECT_EQ(Md5::Of(gz), r.object_md5);
  EXPECT_EQ(uploadtest::Gunzip(gz), image);

  // Every segment is in <container>_segments under the documented prefix.
  auto segs =
      uploadtest::ListObjects(o.container + "_segments", r.segment_prefix);
  EXPECT_EQ(segs.size(), r.segments_total);
  EXPECT_EQ(r.segment_prefix, o.object + "/" + r.run_id + "/" +
                                  std::to_string(image.size()) + "/1048576/");

  // Progress: one call per segment plus the final one, all monotonic. Two
  // segments stored at the same moment may be reported with the same
  // figures (the second report reads the counters the first one saw).
  ASSERT_EQ(seen.size(), r.segments_total + 1);
  EXPECT_GT(seen.back().bytes_stored, seen.front().bytes_stored);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].source_bytes_done, seen[i - 1].source_bytes_done);
    EXPECT_GE(seen[i].bytes_stored, seen[i - 1].bytes_stored);
    EXPECT_GE(seen[i].segments_done, seen[i - 1].segments_done);
  }
  EXPECT_EQ(seen.back().source_bytes_done, image.size());
  EXPECT_EQ(seen.back().source_bytes_total, static_cast<int64_t>(image.size()));
  EXPECT_EQ(seen.back().bytes_stored, r.object_bytes);
  EXPECT_EQ(seen.back().segments_total, static_cast<int64_t>(r.segments_total));
  EXPECT_GT(seen.back().rate_bytes_per_s, 0);
  EXPECT_EQ(seen.back().eta_s, 0);
}

TEST(Upload, TgzUnpacksToZeroVhd) {
  std::string image = uploadtest::DiskLikeImage(12 << 20, 22);
  UploadOptions o = SmallSegments("images/disk.tgz");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kTgz, &r);
  ASSERT_OK(st);
  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("img.tgz"),
                      SwiftDownload(o.container, o.object));
  testutil::RunResult t =
      testutil::Run({"tar", "-xzf", tmp.Join("img.tgz"), "-C", tmp.path()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(testutil::ReadFile(tmp.Join("0.vhd")), image);
}

TEST(Upload, DloRoundTrip) {
  std::string image = uploadtest::DiskLikeImage(16 << 20, 23);
  UploadOptions o = SmallSegments("images/disk.dlo.gz");
  o.manifest = ManifestKind::kDlo;
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_OK(st);
  EXPECT_GE(r.segments_total, 3u);
  std::string gz = SwiftDownload(o.container, o.object);
  EXPECT_EQ(Md5::Of(gz), r.object_md5);
  EXPECT_EQ(uploadtest::Gunzip(gz), image);
}

TEST(Upload, RawStreamOfExactSegmentMultiple) {
  // No empty trailing segment when the stream ends on a segment boundary.
  std::string data = testutil::RandomBytes(3 << 20, 24);
  UploadOptions o = SmallSegments("raw.bin");
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, data, ImageFormat::kRaw, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.segments_total, 3u);
  EXPECT_EQ(r.object_md5, Md5::Of(data));
  EXPECT_EQ(SwiftDownload(o.container, o.object), data);
}

TEST(Upload, MoreThanAThousandSegmentsNestSloManifests) {
  // ~4 MiB of incompressible data in 4 KiB segments: 1,010 segments,
  // hence two sub-manifests under one top manifest.
  std::string data = testutil::RandomBytes(1009 * 4096 + 777, 25);
  UploadOptions o = SmallSegments("many.bin");
  o.segment_size = 4096;
  o.parallel_segments = 4;
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, data, ImageFormat::kRaw, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.segments_total, 1010u);
  EXPECT_EQ(r.sub_manifests, 2u);
  EXPECT_EQ(SwiftDownload(o.container, o.object), data);
}

TEST(Upload, TooManySegmentsFailsBeforeUploading) {
  std::string data = testutil::RandomBytes(1001 * 1024, 26);
  UploadOptions o = SmallSegments("toomany.bin");
  o.segment_size = 1024;
  o.allow_nested_manifests = false;
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, data, ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kTooLarge) << st.ToString();
  EXPECT_NE(st.message().find("1001 segments"), std::string::npos)
      << st.message();
  EXPECT_EQ(r.segments_uploaded, 0u);
  EXPECT_TRUE(uploadtest::ListObjects(o.container + "_segments", "").empty());
}

TEST(Upload, SegmentLargerThanClusterLimitFailsEarly) {
  UploadOptions o = SmallSegments("big.bin");
  o.segment_size = kMaxSegmentSize;
  UploadResult r;
  // Within 5 GiB: allowed by the options, checked against /info.
  base::Status st = UploadImage(V1Store(), o, "x", ImageFormat::kRaw, &r);
  EXPECT_OK(st);  // max_file_size is 5 GiB + 2
  o.segment_size = kMaxSegmentSize + 1;
  st = UploadImage(V1Store(), o, "x", ImageFormat::kRaw, &r);
  EXPECT_EQ(r.error, UploadError::kInvalidArgument) << st.ToString();
}

TEST(Upload, SpoolsLargeSegmentsToTempFiles) {
  std::string image = uploadtest::DiskLikeImage(10 << 20, 27);
  UploadOptions o = SmallSegments("spooled.gz");
  o.memory_segment_limit = 512 << 10;  // 1 MiB segments go to files
  testutil::TempDir spool;
  o.spool_dir = spool.path();
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_OK(st);
  EXPECT_EQ(uploadtest::Gunzip(SwiftDownload(o.container, o.object)), image);
}

TEST(Upload, BadOptionsAreRejectedBeforeAnyRequest) {
  UploadResult r;
  UploadOptions o;
  o.object = "x";
  SwiftStore store;  // no auth URL: any request would fail differently
  for (auto mutate : std::vector<std::function<void(UploadOptions*)>>{
           [](UploadOptions* u) { u->container = ""; },
           [](UploadOptions* u) { u->container = "a/b"; },
           [](UploadOptions* u) { u->object = ""; },
           [](UploadOptions* u) { u->segment_size = 0; },
           [](UploadOptions* u) { u->parallel_segments = 0; },
           [](UploadOptions* u) { u->run_id = "a/b"; },
           [](UploadOptions* u) { u->run_id = ".."; },
           [](UploadOptions* u) { u->container = ".."; },
           [](UploadOptions* u) { u->container = "c\n"; },
           [](UploadOptions* u) { u->object = "a/../../../AUTH_other/c2/obj"; },
           [](UploadOptions* u) { u->object = "a/./b"; },
           [](UploadOptions* u) { u->object = "a\xff"; }}) {
    UploadOptions bad = o;
    bad.container = "c";
    mutate(&bad);
    StringSource src("data");
    base::Status st = Upload(store, bad, &src, &r);
    EXPECT_EQ(r.error, UploadError::kInvalidArgument) << st.ToString();
  }
}

}  // namespace
}  // namespace upload
