// Tests of image/image_task.h that need no object store: the quarantine of
// tasks whose runs keep ending their process, Create's refusals, the task
// index.
#include "image/image_task.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "base/fault_env.h"
#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

const char kTaskId[] = "0a1b2c3d-0000-4000-8000-000000000001";
const char kVdi[] = "0a1b2c3d-0000-4000-8000-0000000000aa";

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
    r.state = TaskState::kUploading;
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
  EXPECT_EQ(r.state, TaskState::kFailed);
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
  EXPECT_EQ(r.state, TaskState::kFailed);
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

class CreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(Sr::Open(sr_.path(), &sr_handle_));
    ASSERT_OK(sr_handle_->CreateVdi(4 << 20, VdiMeta(), "", &vdi_));
    ImageServiceOptions o;
    o.state_dir = state_.Join("state");
    o.run_in_process = false;
    o.helper = "/bin/true";  // the spawned worker does nothing
    service_ = std::make_unique<ImageService>(base::Env::Default(), o);
    p_.container = "c";
    p_.object = "o";
    p_.auth_url = "https://swift.example/auth/v1.0";
    p_.user = "u";
  }
  testutil::TempDir sr_, state_;
  std::unique_ptr<Sr> sr_handle_;
  Vdi vdi_;
  ImageParams p_;
  std::unique_ptr<ImageService> service_;
};

TEST_F(CreateTest, RecordsTheTaskItsIndexAndItsKeyApart) {
  std::string id;
  ASSERT_OK(
      service_->Create(sr_.path(), "sr-uuid", vdi_.uuid, p_, "sekret", &id));
  std::vector<std::string> ids;
  ASSERT_OK(service_->List(&ids));
  EXPECT_EQ(ids, std::vector<std::string>{id});
  TaskRecord r;
  ASSERT_OK(service_->Get(id, &r));
  EXPECT_EQ(r.state, TaskState::kQueued);
  EXPECT_EQ(r.vdi_uuid, vdi_.uuid);
  EXPECT_EQ(r.sr_uuid, "sr-uuid");
  EXPECT_FALSE(r.created.empty());
  EXPECT_EQ(testutil::ReadFile(state_.Join("state/tasks/" + id)),
            sr_.path() + "\n");
  std::string secret = state_.Join("state/secrets/" + id);
  EXPECT_EQ(testutil::ReadFile(secret), "sekret");
  struct stat st;
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(state_.Join("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(testutil::ReadFile(sr_.Join(".vhdsm/tasks/" + id + ".json"))
                .find("sekret"),
            std::string::npos);
  // Cancelled before its worker ran: the run ends it, key and all.
  ASSERT_OK(service_->Cancel(id));
  ASSERT_OK(service_->Run(id));
  ASSERT_OK(service_->Get(id, &r));
  EXPECT_EQ(r.state, TaskState::kCancelled);
  EXPECT_FALSE(testutil::FileExists(secret));
}

TEST_F(CreateTest, RefusalsLeaveNoTask) {
  std::string id;
  EXPECT_EQ(service_
                ->Create(sr_.path(), "",
                         "0a1b2c3d-0000-4000-8000-"
                         "0000000000ff",
                         p_, "k", &id)
                .code(),
            base::Code::kNotFound);
  ImageParams bad = p_;
  bad.format = "iso";
  EXPECT_EQ(service_->Create(sr_.path(), "", vdi_.uuid, bad, "k", &id).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(service_->Create(sr_.path(), "", vdi_.uuid, p_, "", &id).code(),
            base::Code::kInvalidArgument);  // inline auth without a key
  std::vector<std::string> ids;
  ASSERT_OK(service_->List(&ids));
  EXPECT_TRUE(ids.empty());
}

TEST_F(CreateTest, UnknownTaskIdsAreRefused) {
  TaskRecord r;
  EXPECT_EQ(service_->Get("../../etc/passwd", &r).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(service_->Get(kTaskId, &r).code(), base::Code::kNotFound);
  EXPECT_EQ(service_->Cancel(kTaskId).code(), base::Code::kNotFound);
}

TEST_F(CreateTest, StateDirectoriesAreMadeThroughTheEnv) {
  // The first mutating call of Create is the state directory's mkdir.
  base::FaultInjectionEnv env(base::Env::Default());
  env.FailAt(0, base::Status::IOError("injected mkdir failure"));
  ImageServiceOptions o;
  o.state_dir = state_.Join("fault-state");
  o.run_in_process = false;
  o.helper = "/bin/true";
  ImageService service(&env, o);
  std::string id;
  base::Status s = service.Create(sr_.path(), "", vdi_.uuid, p_, "k", &id);
  EXPECT_EQ(s.code(), base::Code::kIOError) << s.ToString();
  EXPECT_FALSE(testutil::FileExists(state_.Join("fault-state")));
  ASSERT_FALSE(env.history().empty());
  EXPECT_NE(env.history()[0].find("mkdir"), std::string::npos);
  // An existing directory is used as it is.
  ASSERT_OK(service.Create(sr_.path(), "", vdi_.uuid, p_, "k", &id));
  ASSERT_OK(service.Create(sr_.path(), "", vdi_.uuid, p_, "k", &id));
}

}  // namespace
}  // namespace vhdsm
