// Tests of host/host.h: which configuration a Host reads, the GC mode and
// how each mode runs the GC after a call that leaves work (in a thread with
// an event, or in a detached helper given the configuration).
#include "host/host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/host/host_requests.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

using hosttest::EventLog;
using hosttest::ParseReply;
using hosttest::ScopedEnv;
using hosttest::SmRequest;
using hosttest::WriteConfig;

class HostTest : public ::testing::Test {
 protected:
  // A configuration whose state and SR live in the test's directory.
  std::string Config(const std::string& gc = "mode = thread\n") {
    std::filesystem::create_directories(sr_dir());
    return WriteConfig(dir_, "[daemon]\nstate_dir = " + dir_.Join("state") +
                                 "\nsr_roots = " + dir_.path() + "\n[gc]\n" +
                                 gc);
  }
  std::string sr_dir() const { return dir_.Join("sr"); }

  std::unique_ptr<Host> Open(const std::string& path) {
    std::string error;
    std::unique_ptr<Host> host = Host::Create(path, &error);
    EXPECT_NE(host, nullptr) << error;
    return host;
  }

  // Creates a VDI, snapshots it and deletes the snapshot: its base is then
  // a hidden parent with one child, work for the GC. The VDI's uuid.
  std::string LeaveGcWork(Host* host) {
    xmlrpc::Response r = ParseReply(
        host->Handle(SmRequest("vdi_create", sr_dir(), {},
                               {"1048576", "disk", "", "", "false",
                                "19700101T00:00:00Z", "", "false"})));
    EXPECT_OK(r);
    if (!r.ok()) return "";
    std::string vdi = r.value().as_struct().Find("uuid")->as_string();
    r = ParseReply(host->Handle(SmRequest(
        "vdi_snapshot", sr_dir(), {{"vdi_uuid", vdi}, {"vdi_location", vdi}})));
    EXPECT_OK(r);
    if (!r.ok()) return "";
    std::string snap = r.value().as_struct().Find("uuid")->as_string();
    r = ParseReply(host->Handle(SmRequest(
        "vdi_delete", sr_dir(), {{"vdi_uuid", snap}, {"vdi_location", snap}})));
    EXPECT_OK(r);
    return vdi;
  }

  int VhdFiles() const {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(sr_dir())) {
      if (e.path().extension() == ".vhd") ++n;
    }
    return n;
  }

  testutil::TempDir dir_;
  // Each test says which GC mode it wants; none inherits one.
  ScopedEnv no_gc_env_{"VHDSM_GC", std::nullopt};
  ScopedEnv no_config_env_{"VHDSM_CONFIG", std::nullopt};
  ScopedEnv no_state_env_{"VHDSM_STATE_DIR", std::nullopt};
};

TEST_F(HostTest, AMissingConfigurationIsAnErrorNamingIt) {
  std::string error;
  std::string path = dir_.Join("absent.conf");
  EXPECT_EQ(Host::Create(path, &error), nullptr);
  EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;
}

TEST_F(HostTest, AnInvalidConfigurationIsAnError) {
  std::string error;
  std::string path = WriteConfig(dir_, "[gc]\nmode = sometimes\n");
  EXPECT_EQ(Host::Create(path, &error), nullptr);
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

// Helpers a Host starts get its configuration in $VHDSM_CONFIG.
TEST_F(HostTest, WithoutAPathVhdsmConfigIsRead) {
  std::string absent = dir_.Join("absent.conf");
  ScopedEnv env("VHDSM_CONFIG", absent);
  std::string error;
  EXPECT_EQ(Host::Create("", &error), nullptr);
  EXPECT_EQ(error.rfind(absent + ": ", 0), 0u) << error;

  // A path given wins over the environment.
  std::string path = Config("mode = off\n");
  std::unique_ptr<Host> host = Open(path);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->config().path, path);
}

TEST_F(HostTest, VhdsmGcOverridesTheModeOnlyWithAKnownMode) {
  std::string path = Config("mode = spawn\n");
  {
    ScopedEnv env("VHDSM_GC", "off");
    std::unique_ptr<Host> host = Open(path);
    ASSERT_NE(host, nullptr);
    EXPECT_EQ(host->config().gc_mode, GcMode::kOff);
  }
  {
    ScopedEnv env("VHDSM_GC", "sometimes");
    std::unique_ptr<Host> host = Open(path);
    ASSERT_NE(host, nullptr);
    EXPECT_EQ(host->config().gc_mode, GcMode::kSpawn);
  }
}

TEST_F(HostTest, HandleAnswersSmapiCalls) {
  std::unique_ptr<Host> host = Open(Config("mode = off\n"));
  ASSERT_NE(host, nullptr);
  xmlrpc::Response r =
      ParseReply(host->Handle(SmRequest("sr_get_driver_info")));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_struct().Find("name")->as_string(), "vhdsm VHD");

  r = ParseReply(host->Handle("<methodCall><methodName>"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.fault().code, 0);
}

// Thread mode (vhdsmd): a delete queues the SR for the GC thread, which
// coalesces the snapshot's base away and reports it as an event.
TEST_F(HostTest, ThreadModeRunsTheGcAndReportsIt) {
  EventLog events;  // outlives the GC thread
  std::unique_ptr<Host> host = Open(Config("mode = thread\n"));
  ASSERT_NE(host, nullptr);
  host->SetEventSink([&](const std::string& e) { events.Add(e); });
  std::string vdi = LeaveGcWork(host.get());
  ASSERT_FALSE(vdi.empty());
  std::optional<std::string> ev = events.WaitFor("\"event\":\"gc\"");
  ASSERT_TRUE(ev.has_value()) << "no GC event";
  EXPECT_NE(ev->find("\"sr\":\"" + sr_dir() + "\""), std::string::npos) << *ev;
  EXPECT_NE(ev->find("\"ok\":true"), std::string::npos) << *ev;
  EXPECT_EQ(ev->find("\"coalesced\":0"), std::string::npos) << *ev;
  EXPECT_EQ(VhdFiles(), 1);
  EXPECT_TRUE(testutil::FileExists(sr_dir() + "/" + vdi + ".vhd"));
}

// Spawn mode (VHDSR): the GC is "<helper> --gc SR", detached, with the
// Host's configuration in $VHDSM_CONFIG.
TEST_F(HostTest, SpawnModeStartsTheHelperWithTheConfiguration) {
  std::string fifo = dir_.Join("helper.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string helper = dir_.Join("gc-helper");
  testutil::WriteFile(helper,
                      "#!/bin/sh\necho \"$*|$VHDSM_CONFIG\" >" + fifo + "\n");
  ASSERT_EQ(::chmod(helper.c_str(), 0700), 0);
  std::string path = Config("mode = spawn\nhelper = " + helper + "\n");
  // Read-write: opening never blocks, and reading waits for the helper.
  int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  {
    std::unique_ptr<Host> host = Open(path);
    ASSERT_NE(host, nullptr);
    EXPECT_FALSE(LeaveGcWork(host.get()).empty());
  }
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 120 * 1000), 1) << "the helper never ran";
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "--gc " + sr_dir() + "|" + path + "\n");
  // The helper only reported: the work is still there.
  EXPECT_EQ(VhdFiles(), 2);
}

}  // namespace
}  // namespace vhdsm
