// Tests of image/task_record.h: records survive hostile text and hostile
// JSON; states keep their wire names; missing members take the defaults.
#include "image/task_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/status_matchers.h"

namespace vhdsm {
namespace {

const char kTaskId[] = "0a1b2c3d-0000-4000-8000-000000000001";
const char kVdi[] = "0a1b2c3d-0000-4000-8000-0000000000aa";

TEST(TaskRecordTest, HostileTextNeverBreaksTheRecord) {
  TaskRecord r;
  r.id = kTaskId;
  r.sr_path = "/srv/sr";
  r.vdi_uuid = kVdi;
  r.state = TaskState::kFailed;
  // Bytes nlohmann's dump() throws on by default (defect: the daemon died).
  r.error_message = "REJECTED: 403 (\xff\xfe)";
  r.image.object = std::string("obj\xe4\xb8", 5);  // cut inside a character
  std::string text;
  ASSERT_NO_THROW(text = r.ToJson());
  TaskRecord back;
  ASSERT_OK(TaskRecord::FromJson(text, &back));
  EXPECT_EQ(back.error_message, "REJECTED: 403 (\xEF\xBF\xBD\xEF\xBF\xBD)");
  EXPECT_EQ(back.state, TaskState::kFailed);
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

TEST(TaskRecordTest, StatesKeepTheirWireNames) {
  const std::pair<TaskState, const char*> names[] = {
      {TaskState::kQueued, "queued"},
      {TaskState::kCreating, "creating"},
      {TaskState::kUploading, "uploading"},
      {TaskState::kDone, "done"},
      {TaskState::kFailed, "failed"},
      {TaskState::kCancelled, "cancelled"}};
  for (const auto& [state, name] : names) {
    EXPECT_STREQ(TaskStateName(state), name);
    TaskState back = TaskState::kQueued;
    EXPECT_TRUE(ParseTaskState(name, &back)) << name;
    EXPECT_EQ(back, state);
    TaskRecord r;
    r.id = kTaskId;
    r.sr_path = "/s";
    r.vdi_uuid = kVdi;
    r.state = state;
    EXPECT_EQ(nlohmann::json::parse(r.ToJson())["state"], name);
    EXPECT_NE(TaskEventJson(r).find(std::string("\"state\":\"") + name + "\""),
              std::string::npos);
  }
  TaskState s;
  EXPECT_FALSE(ParseTaskState("Done", &s));
  EXPECT_FALSE(ParseTaskState("", &s));
}

TEST(TaskRecordTest, AnUnknownStateIsCorruption) {
  TaskRecord r;
  r.id = kTaskId;
  r.sr_path = "/s";
  r.vdi_uuid = kVdi;
  nlohmann::json j = nlohmann::json::parse(r.ToJson());
  j["state"] = "paused";
  EXPECT_EQ(TaskRecord::FromJson(j.dump(), &r).code(), base::Code::kCorruption);
}

TEST(TaskRecordTest, FinishedOnlyAtTheEnd) {
  TaskRecord r;
  for (TaskState s :
       {TaskState::kQueued, TaskState::kCreating, TaskState::kUploading}) {
    r.state = s;
    EXPECT_FALSE(r.finished());
  }
  for (TaskState s :
       {TaskState::kDone, TaskState::kFailed, TaskState::kCancelled}) {
    r.state = s;
    EXPECT_TRUE(r.finished());
  }
}

}  // namespace
}  // namespace vhdsm
