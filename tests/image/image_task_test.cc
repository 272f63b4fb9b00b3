// Tests of image/image_task.h that need no object store: task records
// survive hostile text and hostile JSON, and the quarantine of tasks whose
// runs keep ending their process.
#include "image/image_task.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

const char kTaskId[] = "0a1b2c3d-0000-4000-8000-000000000001";
const char kVdi[] = "0a1b2c3d-0000-4000-8000-0000000000aa";

TEST(TaskRecordTest, HostileTextNeverBreaksTheRecord) {
  TaskRecord r;
  r.id = kTaskId;
  r.sr_path = "/srv/sr";
  r.vdi_uuid = kVdi;
  r.state = "failed";
  // Bytes nlohmann's dump() throws on by default (defect: the daemon died).
  r.error_message = "REJECTED: 403 (\xff\xfe)";
  r.image.object = std::string("obj\xe4\xb8", 5);  // cut inside a character
  std::string text;
  ASSERT_NO_THROW(text = r.ToJson());
  TaskRecord back;
  ASSERT_OK(TaskRecord::FromJson(text, &back));
  EXPECT_EQ(back.error_message, "REJECTED: 403 (\xEF\xBF\xBD\xEF\xBF\xBD)");
  EXPECT_EQ(back.state, "failed");
}

TEST(TaskRecordTest, WrongTypesAreCorruptionNotExceptions) {
  const std::string ok_head = std::string("{\"id\":\"") + kTaskId +
                              "\",\"sr_path\":\"/s\",\"vdi_uuid\":\"" + kVdi +
                              "\",\"state\":\"queued\",";
  for (const std::string& text :
       {std::string("[]"), std::string("\"x\""), std::string("{\"id\":5}"),
        ok_head + "\"image\":[]}", ok_head + "\"image\":{\"store\":7}}",
        ok_head + "\"image\":{},\"progress\":\"x\"}",
        ok_head + "\"image\":{},\"attempts\":{}}",
        std::string("{\"id\":\"\xff\"}"), std::string(100, '[')}) {
    TaskRecord r;
    base::Status s;
    ASSERT_NO_THROW(s = TaskRecord::FromJson(text, &r)) << text;
    EXPECT_EQ(s.code(), base::Code::kCorruption) << text;
  }
}

TEST(TaskRecordTest, MissingImageMembersComeFromTheDefaults) {
  const std::string text = std::string("{\"id\":\"") + kTaskId +
                           "\",\"sr_path\":\"/s\",\"vdi_uuid\":\"" + kVdi +
                           "\",\"state\":\"queued\",\"image\":{\"format\":"
                           "\"vhd\"}}";
  ImageParams d;
  d.format = "tgz";
  d.manifest = "dlo";
  d.segment_size = 8 << 20;
  d.parallel_segments = 7;
  TaskRecord r;
  ASSERT_OK(TaskRecord::FromJson(text, &r, d));
  EXPECT_EQ(r.image.format, "vhd");  // the record's own value wins
  EXPECT_EQ(r.image.manifest, "dlo");
  EXPECT_EQ(r.image.segment_size, 8u << 20);
  EXPECT_EQ(r.image.parallel_segments, 7);
}

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(Sr::Open(sr_.path(), &sr_handle_));
    ImageServiceOptions o;
    o.state_dir = state_.path();
    service_ = std::make_unique<ImageService>(base::Env::Default(), o);
    ::mkdir(state_.Join("tasks").c_str(), 0700);
    ::mkdir(state_.Join("secrets").c_str(), 0700);
    testutil::WriteFile(state_.Join(std::string("tasks/") + kTaskId),
                        sr_.path() + "\n");
    testutil::WriteFile(state_.Join(std::string("secrets/") + kTaskId), "key");
  }
  // An unfinished task as a killed run leaves it.
  void WriteRecord(int attempts, int runs_ended, bool with_runs_ended) {
    TaskRecord r;
    r.id = kTaskId;
    r.sr_path = sr_.path();
    r.vdi_uuid = kVdi;
    r.state = "uploading";
    r.progress = 50;
    r.attempts = attempts;
    r.runs_ended = runs_ended;
    nlohmann::json j = nlohmann::json::parse(r.ToJson());
    if (!with_runs_ended) j.erase("runs_ended");
    testutil::WriteFile(
        sr_.Join(std::string(".vhdsm/tasks/") + kTaskId + ".json"), j.dump());
  }
  TaskRecord Record() {
    TaskRecord r;
    EXPECT_OK(service_->Get(kTaskId, &r));
    return r;
  }

  testutil::TempDir sr_, state_;
  std::unique_ptr<Sr> sr_handle_;
  std::unique_ptr<ImageService> service_;
};

TEST_F(QuarantineTest, TwoAbnormalEndsQuarantine) {
  WriteRecord(2, 0, true);
  ASSERT_OK(service_->Run(kTaskId));
  TaskRecord r = Record();
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.error_code, "QUARANTINED");
  EXPECT_NE(r.error_message.find("2 times"), std::string::npos);
  EXPECT_EQ(r.attempts, 2);  // not run again
  EXPECT_FALSE(
      testutil::FileExists(state_.Join(std::string("secrets/") + kTaskId)));
  // Finished: a resume leaves it alone.
  ASSERT_OK(service_->Run(kTaskId));
  EXPECT_EQ(Record().error_code, "QUARANTINED");
}

TEST_F(QuarantineTest, OneAbnormalEndIsResumedAndCounted) {
  WriteRecord(1, 0, true);
  service_->Run(kTaskId);  // runs: the VDI does not exist, so it fails
  TaskRecord r = Record();
  EXPECT_EQ(r.state, "failed");
  EXPECT_NE(r.error_code, "QUARANTINED");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.runs_ended, 2);  // this run ended cleanly
}

TEST_F(QuarantineTest, RecordsFromBeforeCountingAreNotQuarantined) {
  WriteRecord(5, 0, false);
  service_->Run(kTaskId);
  TaskRecord r = Record();
  EXPECT_NE(r.error_code, "QUARANTINED");
  EXPECT_EQ(r.attempts, 6);
  EXPECT_EQ(r.runs_ended, 6);
}

}  // namespace
}  // namespace vhdsm
