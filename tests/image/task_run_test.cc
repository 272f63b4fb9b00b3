// Tests of image/task_run.h, one phase at a time, on a real SR and without
// an object store: the upload phase talks to a port nothing listens on, or
// is cancelled or stopped before it sends a byte.
#include "image/task_run.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <map>
#include <vector>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/upload_error.h"

namespace vhdsm {
namespace {

const char kTaskId[] = "0a1b2c3d-0000-4000-8000-000000000001";

// The image streams are gzip (one member per chunk): all members inflated.
std::string Gunzip(const std::string& gz) {
  std::string out;
  size_t at = 0;
  while (at < gz.size()) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + at));
    z.avail_in = static_cast<uInt>(gz.size() - at);
    int rc = Z_OK;
    char buf[65536];
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof(buf) - z.avail_out);
    }
    EXPECT_EQ(rc, Z_STREAM_END);
    at = gz.size() - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) break;
  }
  return out;
}

class TaskRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(Sr::Open(sr_dir_.path(), &sr_));
    VdiMeta m;
    Vdi v;
    ASSERT_OK(sr_->CreateVdi(4 << 20, m, "", &v));
    r_.id = kTaskId;
    r_.sr_path = sr_dir_.path();
    r_.vdi_uuid = v.uuid;
    r_.image.container = "c";
    r_.image.object = "o";
    StoreConfig sc;
    sc.name = "s";
    sc.auth_url = "http://127.0.0.1:1/auth/v1.0";  // nothing listens
    sc.allow_insecure = true;
    sc.user = "u";
    sc.key = "k";
    sc.retries = 1;
    sc.connect_timeout_s = 2;
    stores_["s"] = sc;
    testutil::WriteFile(Secret(), "inline-key");
  }
  std::string Secret() const { return state_.Join("secret"); }
  std::string Marker() const {
    return sr_dir_.Join(std::string(".vhdsm/tasks/") + kTaskId + ".cancel");
  }
  std::unique_ptr<TaskRun> NewRun() {
    TaskRunContext c;
    c.env = base::Env::Default();
    c.secret_path = Secret();
    c.stores = &stores_;
    c.retry_delay_scale = 0.01;
    c.save = [this](TaskRecord* t) {
      saved_.push_back(*t);
      return base::Status::OK();
    };
    c.emit = [this](const TaskRecord& t) { emitted_.push_back(t.state); };
    c.stopping = [this] { return stopping_; };
    return std::make_unique<TaskRun>(sr_.get(), &r_, std::move(c));
  }
  size_t VdiCount() {
    std::map<std::string, Vdi> vdis;
    EXPECT_OK(sr_->Scan(&vdis));
    size_t n = 0;
    for (const auto& [uuid, vdi] : vdis) n += vdi.hidden ? 0 : 1;
    return n;
  }
  std::string ReadAll(upload::ByteSource* src) {
    std::string out;
    char buf[65536];
    size_t got = 0;
    do {
      EXPECT_OK(src->Read(reinterpret_cast<uint8_t*>(buf), sizeof(buf), &got));
      out.append(buf, got);
    } while (got > 0);
    return out;
  }

  testutil::TempDir sr_dir_, state_;
  std::unique_ptr<Sr> sr_;
  StoreMap stores_;
  TaskRecord r_;
  std::vector<TaskRecord> saved_;
  std::vector<TaskState> emitted_;
  bool stopping_ = false;
};

TEST_F(TaskRunTest, PrepareSnapshotRecordsThenTakesAReadOnlySnapshot) {
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  EXPECT_FALSE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kCreating);
  EXPECT_EQ(r_.progress, 25);
  ASSERT_FALSE(r_.snapshot_uuid.empty());
  Vdi snap;
  ASSERT_OK(sr_->GetVdi(r_.snapshot_uuid, &snap));
  EXPECT_TRUE(snap.meta.read_only);
  EXPECT_TRUE(snap.meta.is_a_snapshot);
  EXPECT_EQ(snap.meta.snapshot_of, r_.vdi_uuid);
  EXPECT_FALSE(r_.run_id.empty());
  EXPECT_FALSE(r_.image_uuid.empty());
  // The snapshot's uuid was saved before the snapshot was taken.
  bool named_first = false;
  for (const TaskRecord& t : saved_) {
    named_first |= t.snapshot_uuid == r_.snapshot_uuid && t.run_id.empty();
  }
  EXPECT_TRUE(named_first);
  ASSERT_FALSE(emitted_.empty());
  EXPECT_EQ(emitted_.front(), TaskState::kCreating);
}

TEST_F(TaskRunTest, PrepareSnapshotReusesTheRecordedSnapshot) {
  ASSERT_OK(NewRun()->PrepareSnapshot());
  TaskRecord first = r_;
  size_t vdis = VdiCount();
  ASSERT_OK(NewRun()->PrepareSnapshot());
  EXPECT_EQ(r_.snapshot_uuid, first.snapshot_uuid);
  EXPECT_EQ(r_.run_id, first.run_id);  // resumes the same upload
  EXPECT_EQ(r_.image_uuid, first.image_uuid);
  EXPECT_EQ(VdiCount(), vdis);
}

TEST_F(TaskRunTest, PrepareSnapshotOfAMissingVdiFailsTheTask) {
  r_.vdi_uuid = "0a1b2c3d-0000-4000-8000-0000000000ff";
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  EXPECT_TRUE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kFailed);
  EXPECT_EQ(r_.error_code, "NOT_FOUND");
  EXPECT_TRUE(r_.snapshot_uuid.empty());
  EXPECT_FALSE(testutil::FileExists(Secret()));
}

TEST_F(TaskRunTest, StoppingCheckpointsAfterTheSnapshot) {
  stopping_ = true;
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  EXPECT_TRUE(run->ended());
  EXPECT_FALSE(r_.finished());
  EXPECT_FALSE(r_.snapshot_uuid.empty());  // kept for the resume
  EXPECT_TRUE(testutil::FileExists(Secret()));
}

TEST_F(TaskRunTest, ACancelMarkerCancelsAndReleasesEverything) {
  size_t vdis = VdiCount();
  testutil::WriteFile(Marker(), "cancel\n");
  auto run = NewRun();
  ASSERT_OK(run->Run());
  EXPECT_EQ(r_.state, TaskState::kCancelled);
  EXPECT_TRUE(r_.error_code.empty());
  EXPECT_EQ(VdiCount(), vdis);
  EXPECT_FALSE(testutil::FileExists(Marker()));
  EXPECT_FALSE(testutil::FileExists(Secret()));
  EXPECT_EQ(emitted_.back(), TaskState::kCancelled);
}

TEST_F(TaskRunTest, OpenImageStreamServesTheSnapshotAsOneVhd) {
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  ASSERT_OK(run->OpenImageStream());
  EXPECT_FALSE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kUploading);
  EXPECT_EQ(r_.progress, 50);
  EXPECT_GT(r_.image_bytes, 1024u);  // footer, header, BAT
  EXPECT_EQ(r_.phase_bytes_total, r_.image_bytes);
  std::string bytes = Gunzip(ReadAll(run->image()));
  ASSERT_EQ(bytes.size(), r_.image_bytes);
  EXPECT_EQ(bytes.substr(0, 8), "conectix");
  EXPECT_EQ(bytes.substr(bytes.size() - 512, 8), "conectix");
}

TEST_F(TaskRunTest, OpenImageStreamGzipsATgz) {
  r_.image.format = "tgz";
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  ASSERT_OK(run->OpenImageStream());
  std::string tar = Gunzip(ReadAll(run->image()));
  ASSERT_GT(tar.size(), 512 + r_.image_bytes);
  EXPECT_EQ(tar.substr(0, 6), std::string("0.vhd\0", 6));
  EXPECT_EQ(tar.substr(257, 5), "ustar");
  EXPECT_EQ(tar.substr(512, 8), "conectix");
}

TEST_F(TaskRunTest, OpenImageStreamWithoutItsSnapshotFails) {
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  ASSERT_OK(sr_->DeleteVdi(r_.snapshot_uuid));
  ASSERT_OK(run->OpenImageStream());
  EXPECT_TRUE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kFailed);
  EXPECT_EQ(r_.error_code, "NOT_FOUND");
}

TEST_F(TaskRunTest, ResolveStoreUsesTheNamedStore) {
  r_.image.store = "s";
  auto run = NewRun();
  ASSERT_OK(run->ResolveStore());
  EXPECT_FALSE(run->ended());
  EXPECT_EQ(run->store().auth.url, "http://127.0.0.1:1/auth/v1.0");
  EXPECT_EQ(run->store().auth.key, "k");
  EXPECT_EQ(run->store().retry.max_attempts, 1);
  EXPECT_DOUBLE_EQ(run->store().retry.delay_scale, 0.01);
}

TEST_F(TaskRunTest, ResolveStoreReadsTheInlineKey) {
  r_.image.auth_url = "https://example.invalid/auth/v1.0";
  r_.image.user = "u";
  auto run = NewRun();
  ASSERT_OK(run->ResolveStore());
  EXPECT_EQ(run->store().auth.key, "inline-key");
}

TEST_F(TaskRunTest, ResolveStoreWithoutTheInlineKeyIsAuthFailed) {
  r_.image.auth_url = "https://example.invalid/auth/v1.0";
  testutil::Run({"rm", "-f", Secret()});
  auto run = NewRun();
  ASSERT_OK(run->ResolveStore());
  EXPECT_EQ(r_.state, TaskState::kFailed);
  EXPECT_EQ(r_.error_code, "AUTH_FAILED");
}

TEST_F(TaskRunTest, ResolveStoreOfAnUnknownStoreIsInvalidArgument) {
  r_.image.store = "gone";
  auto run = NewRun();
  ASSERT_OK(run->ResolveStore());
  EXPECT_EQ(r_.state, TaskState::kFailed);
  EXPECT_EQ(r_.error_code, "INVALID_ARGUMENT");
}

class TaskRunUploadTest : public TaskRunTest {
 protected:
  std::unique_ptr<TaskRun> ReadyRun() {
    r_.image.store = "s";
    auto run = NewRun();
    EXPECT_OK(run->PrepareSnapshot());
    EXPECT_OK(run->OpenImageStream());
    EXPECT_OK(run->ResolveStore());
    EXPECT_FALSE(run->ended());
    return run;
  }
};

TEST_F(TaskRunUploadTest, AnUnreachableStoreFailsWithTheUploadErrorCode) {
  size_t vdis = VdiCount();
  auto run = ReadyRun();
  ASSERT_OK(run->Upload());
  EXPECT_TRUE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kFailed);
  EXPECT_EQ(r_.error_code,
            upload::UploadErrorName(upload::UploadError::kRetriesExhausted));
  EXPECT_TRUE(r_.snapshot_uuid.empty());
  EXPECT_EQ(VdiCount(), vdis);
}

TEST_F(TaskRunUploadTest, ACancelDuringTheUploadCancels) {
  auto run = ReadyRun();
  testutil::WriteFile(Marker(), "cancel\n");
  ASSERT_OK(run->Upload());
  EXPECT_EQ(r_.state, TaskState::kCancelled);
  EXPECT_TRUE(r_.snapshot_uuid.empty());
  EXPECT_FALSE(testutil::FileExists(Marker()));
}

TEST_F(TaskRunUploadTest, StoppingDuringTheUploadCheckpoints) {
  auto run = ReadyRun();
  stopping_ = true;
  ASSERT_OK(run->Upload());
  EXPECT_TRUE(run->ended());
  EXPECT_EQ(r_.state, TaskState::kUploading);
  EXPECT_FALSE(r_.snapshot_uuid.empty());
}

TEST_F(TaskRunTest, FinishDoneReleasesTheSnapshotAndTheKey) {
  auto run = NewRun();
  ASSERT_OK(run->PrepareSnapshot());
  testutil::WriteFile(Marker(), "cancel\n");  // came too late
  ASSERT_OK(run->Finish(TaskState::kDone, base::Status::OK(), ""));
  EXPECT_EQ(r_.state, TaskState::kDone);
  EXPECT_EQ(r_.progress, 100);
  EXPECT_TRUE(r_.snapshot_uuid.empty());
  EXPECT_FALSE(testutil::FileExists(Secret()));
  EXPECT_FALSE(testutil::FileExists(Marker()));
  EXPECT_EQ(saved_.back().state, TaskState::kDone);
}

TEST_F(TaskRunTest, FinishFailedKeepsASanitizedMessage) {
  auto run = NewRun();
  ASSERT_OK(run->Finish(TaskState::kFailed,
                        base::Status::IOError("bad\nline\x01"), "IO_ERROR"));
  EXPECT_EQ(r_.error_code, "IO_ERROR");
  EXPECT_EQ(r_.error_message.find('\n'), std::string::npos);
  EXPECT_EQ(r_.error_message.find('\x01'), std::string::npos);
}

TEST_F(TaskRunTest, AnUnsavableRecordIsTheRunsError) {
  TaskRunContext c;
  c.env = base::Env::Default();
  c.secret_path = Secret();
  c.stores = &stores_;
  c.save = [](TaskRecord*) { return base::Status::IOError("disk full"); };
  c.emit = [](const TaskRecord&) {};
  c.stopping = [] { return false; };
  TaskRun run(sr_.get(), &r_, std::move(c));
  EXPECT_EQ(run.PrepareSnapshot().code(), base::Code::kIOError);
  EXPECT_TRUE(r_.snapshot_uuid.empty());  // nothing taken unrecorded
}

}  // namespace
}  // namespace vhdsm
