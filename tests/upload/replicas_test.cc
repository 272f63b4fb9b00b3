// The uploader against a Swift that stores three replicas on three object
// servers, as production does: one object server is SIGKILLed in the middle
// of an upload and restarted. Swift's write quorum (2 of 3) must absorb the
// loss, the object read back with python-swiftclient must be the image, and
// once the replicators have run, the restarted server alone must serve it.
//
// Runs only when the test program's Swift has 3 replicas
// (SAIO_REPLICAS=3); tests/integration/swift_replicas_test.sh runs this
// suite that way in `make test`.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/uploader.h"

namespace upload {
namespace {

using uploadtest::SaioCommand;
using uploadtest::SwiftDownload;
using uploadtest::TestContainer;
using uploadtest::UploadImage;
using uploadtest::V1Store;

// Object files (.data) stored on node N's device (srv/N/dN).
size_t DataFilesOnNode(int node) {
  namespace fs = std::filesystem;
  std::error_code ec;
  size_t n = 0;
  fs::path dev = fs::path(uploadtest::Swift().root) / "srv" /
                 std::to_string(node) / ("d" + std::to_string(node));
  for (fs::recursive_directory_iterator it(dev, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".data") ++n;
  }
  return n;
}

// The object read back by python-swiftclient, gunzipped, is `image`.
::testing::AssertionResult DownloadsAs(const UploadOptions& o,
                                       const std::string& image) {
  std::string got = uploadtest::Gunzip(SwiftDownload(o.container, o.object));
  if (got == image) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << got.size() << " bytes read back,"
                                       << " not the image's " << image.size();
}

class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    if (uploadtest::Swift().replicas != 3) {
      GTEST_SKIP() << "needs a 3-replica Swift (SAIO_REPLICAS=3): "
                      "tests/integration/swift_replicas_test.sh";
    }
  }
  void TearDown() override {
    if (uploadtest::Swift().replicas != 3) return;
    SaioCommand({"start-daemon", "object"});  // every object server runs
  }
};

TEST_F(Replicas, ObjectServerKilledMidUploadQuorumKeepsTheImage) {
  // ~2.7 MiB of gzip in 256 KiB segments, one PUT at a time. The progress
  // callback runs on the thread that PUTs the segments, so the upload waits
  // in it: object2 is SIGKILLed once 2 segments are stored and restarted
  // once 5 are, and exactly segments 3 to 5 are PUT while it is gone.
  const std::string image = uploadtest::DiskLikeImage(8 << 20, 301);
  UploadOptions o;
  o.container = TestContainer();
  o.object = "disk.vhd.gz";
  o.segment_size = 256 << 10;
  o.parallel_segments = 1;
  int killed = -1, restarted = -1;
  o.progress = [&](const ProgressInfo& p) {
    if (p.segments_done >= 2 && killed < 0) {
      killed = SaioCommand({"kill-daemon", "object2"});
    } else if (p.segments_done >= 5 && restarted < 0) {
      restarted = SaioCommand({"start-daemon", "object2"});
    }
  };
  const size_t before1 = DataFilesOnNode(1), before2 = DataFilesOnNode(2),
               before3 = DataFilesOnNode(3);
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kVhd, &r);
  ASSERT_EQ(killed, 0);
  ASSERT_EQ(restarted, 0);
  ASSERT_OK(st);
  ASSERT_GT(r.segments_total, 5u);
  // Swift's quorum absorbed the loss: no request failed, none was retried.
  EXPECT_EQ(r.http.retries, 0u);
  // The segments and the manifest are on object1 and object3; object2
  // lacks exactly the three segments PUT while it was down.
  const size_t new1 = DataFilesOnNode(1) - before1;
  EXPECT_EQ(new1, r.segments_total + 1);
  EXPECT_EQ(DataFilesOnNode(3) - before3, new1);
  EXPECT_EQ(DataFilesOnNode(2) - before2, new1 - 3);

  // An independent client reads back the image.
  EXPECT_TRUE(DownloadsAs(o, image));

  // One replication pass restores the third replica: object2 then serves
  // the object with first one and then both other object servers stopped.
  ASSERT_EQ(SaioCommand({"replicate"}), 0);
  EXPECT_EQ(DataFilesOnNode(2), DataFilesOnNode(1));
  EXPECT_EQ(DataFilesOnNode(3), DataFilesOnNode(1));
  ASSERT_EQ(SaioCommand({"stop-daemon", "object1"}), 0);
  EXPECT_TRUE(DownloadsAs(o, image));
  ASSERT_EQ(SaioCommand({"stop-daemon", "object3"}), 0);
  EXPECT_TRUE(DownloadsAs(o, image));
}

TEST_F(Replicas, OneObjectServerDownUploadsAndReads) {
  // Down from the start: every PUT reaches two of three servers, every
  // GET is served by whichever replica answers.
  ASSERT_EQ(SaioCommand({"stop-daemon", "object3"}), 0);
  const std::string image = testutil::RandomBytes(1 << 20, 302);
  UploadOptions o;
  o.container = TestContainer();
  o.object = "raw.bin";
  o.segment_size = 128 << 10;
  UploadResult r;
  base::Status st = UploadImage(V1Store(), o, image, ImageFormat::kRaw, &r);
  ASSERT_OK(st);
  EXPECT_EQ(r.segments_total, 8u);
  EXPECT_EQ(r.http.retries, 0u);
  std::string got = SwiftDownload(o.container, o.object);
  EXPECT_TRUE(got == image) << got.size() << " bytes read back";
}

}  // namespace
}  // namespace upload
