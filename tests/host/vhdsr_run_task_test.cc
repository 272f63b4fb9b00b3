// Tests of the image-task worker entry point: vhdsm_run_task (the C ABI)
// and `VHDSR --run-task ID` (and its old spelling --task), which run the
// task through the service, with no XML-RPC request and nothing on stdout.
#include <gtest/gtest.h>

#include "image/image_task.h"
#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhdsm/plugin.h"

namespace vhdsm {
namespace {

class RunTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sr_ = dir_.Join("sr");
    state_ = dir_.Join("state");
    testutil::Run({"mkdir", sr_});
    ASSERT_OK(Sr::Open(sr_, &sr_handle_));
    ASSERT_OK(sr_handle_->CreateVdi(4 << 20, VdiMeta(), "", &vdi_));
    conf_ = dir_.Join("vhdsm.conf");
    testutil::WriteFile(conf_, "[daemon]\nstate_dir = " + state_ +
                                   "\n[gc]\nmode = off\nhelper = /bin/true\n");
    ImageServiceOptions o;
    o.state_dir = state_;
    o.run_in_process = false;
    o.helper = "/bin/true";  // the spawned worker does nothing
    service_ = std::make_unique<ImageService>(base::Env::Default(), o);
  }
  // A task cancelled before its worker ran: a run ends it at once.
  std::string CancelledTask() {
    ImageParams p;
    p.container = "c";
    p.object = "o";
    p.auth_url = "https://swift.example/auth/v1.0";
    p.user = "u";
    std::string id;
    EXPECT_OK(service_->Create(sr_, "", vdi_.uuid, p, "key", &id));
    EXPECT_OK(service_->Cancel(id));
    return id;
  }
  TaskState State(const std::string& id) {
    TaskRecord r;
    EXPECT_OK(service_->Get(id, &r));
    return r.state;
  }

  testutil::TempDir dir_;
  std::string sr_, state_, conf_;
  std::unique_ptr<Sr> sr_handle_;
  Vdi vdi_;
  std::unique_ptr<ImageService> service_;
};

TEST_F(RunTaskTest, TheAbiRunsTheTask) {
  std::string id = CancelledTask();
  ASSERT_EQ(State(id), TaskState::kQueued);
  char* error = nullptr;
  vhdsm_plugin* plugin = vhdsm_open(conf_.c_str(), &error);
  ASSERT_NE(plugin, nullptr) << (error ? error : "");
  EXPECT_EQ(vhdsm_run_task(plugin, id.c_str(), &error), 0);
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(State(id), TaskState::kCancelled);
  // Unknown and malformed ids: -1 and why.
  EXPECT_EQ(
      vhdsm_run_task(plugin, "0a1b2c3d-0000-4000-8000-0000000000ff", &error),
      -1);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("no task"), std::string::npos) << error;
  vhdsm_free(error);
  error = nullptr;
  EXPECT_EQ(vhdsm_run_task(plugin, "../x", &error), -1);
  vhdsm_free(error);
  EXPECT_EQ(vhdsm_run_task(plugin, nullptr, nullptr), -1);
  vhdsm_close(plugin);
}

TEST_F(RunTaskTest, VhdsrRunTaskRunsItWithoutAResponse) {
  for (const char* flag : {"--run-task", "--task"}) {
    std::string id = CancelledTask();
    testutil::RunResult r =
        testutil::Run({"env", "VHDSM_CONFIG=" + conf_,
                       testutil::Built("bin/VHDSR"), flag, id});
    EXPECT_EQ(r.exit_code, 0) << flag << r.err;
    EXPECT_EQ(r.out, "") << flag;
    EXPECT_EQ(State(id), TaskState::kCancelled) << flag;
  }
}

TEST_F(RunTaskTest, VhdsrRunTaskOfAnUnknownTaskExitsOne) {
  testutil::RunResult r = testutil::Run(
      {"env", "VHDSM_CONFIG=" + conf_, testutil::Built("bin/VHDSR"),
       "--run-task", "0a1b2c3d-0000-4000-8000-0000000000ff"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace vhdsm
