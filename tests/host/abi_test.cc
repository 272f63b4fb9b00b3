// Tests of host/abi.cc, the C ABI of libvhdsm.so (vhdsm/plugin.h), driven
// in-process as a host drives it: open/close, replies and their lengths,
// NULL arguments, hostile request bytes, who the peer is, and events.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/host/host_requests.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhdsm/plugin.h"

namespace {

using hosttest::EventLog;
using hosttest::ParseReply;
using hosttest::ScopedEnv;
using hosttest::SmRequest;
using hosttest::WriteConfig;

// Closed however a test ends, so that no plugin thread outlives it.
using PluginPtr = std::unique_ptr<vhdsm_plugin, decltype(&vhdsm_close)>;

class AbiTest : public ::testing::Test {
 protected:
  // A plugin whose state is in the test's directory and whose sr_roots is
  // roots/ there; the GC runs in its thread.
  PluginPtr Open() {
    std::filesystem::create_directories(dir_.Join("roots/sr"));
    std::filesystem::create_directories(dir_.Join("outside"));
    std::string path =
        WriteConfig(dir_, "[daemon]\nstate_dir = " + dir_.Join("state") +
                              "\nsr_roots = " + dir_.Join("roots") +
                              "\n[gc]\nmode = " + "thread\n");
    char* error = nullptr;
    PluginPtr p(vhdsm_open(path.c_str(), &error), vhdsm_close);
    EXPECT_NE(p, nullptr) << (error ? error : "");
    vhdsm_free(error);
    return p;
  }

  // The reply to `request` from `peer` (in-process when nullptr), parsed.
  xmlrpc::Response Call(const PluginPtr& plugin, const std::string& request,
                        const vhdsm_peer* peer = nullptr) {
    vhdsm_plugin* p = plugin.get();
    char* resp = nullptr;
    size_t len = 0;
    int rc = peer
                 ? vhdsm_handle_peer(p, peer, request.data(), request.size(),
                                     &resp, &len)
                 : vhdsm_handle(p, request.data(), request.size(), &resp, &len);
    EXPECT_EQ(rc, 0);
    if (rc != 0) return xmlrpc::Fault{-1, "vhdsm_handle failed"};
    EXPECT_EQ(std::strlen(resp), len);
    std::string text(resp, len);
    vhdsm_free(resp);
    return ParseReply(text);
  }

  testutil::TempDir dir_;
  ScopedEnv no_gc_env_{"VHDSM_GC", std::nullopt};
  ScopedEnv no_state_env_{"VHDSM_STATE_DIR", std::nullopt};
};

// The GC event callback's C signature: appends to the EventLog in `user`.
void ToLog(void* user, const char* json) {
  static_cast<EventLog*>(user)->Add(json);
}

TEST_F(AbiTest, VersionIsTheHeaders) {
  EXPECT_EQ(vhdsm_abi_version(), VHDSM_ABI_VERSION);
}

TEST_F(AbiTest, OpenFailsWithAMessageTheCallerFrees) {
  std::string absent = dir_.Join("absent.conf");
  char* error = nullptr;
  EXPECT_EQ(vhdsm_open(absent.c_str(), &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find(absent), std::string::npos) << error;
  vhdsm_free(error);
  // Without a place for the message, it fails all the same.
  EXPECT_EQ(vhdsm_open(absent.c_str(), nullptr), nullptr);
}

TEST_F(AbiTest, HandleRepliesWithTheResponseAndItsLength) {
  PluginPtr p = Open();
  ASSERT_NE(p, nullptr);
  xmlrpc::Response r = Call(p, SmRequest("sr_get_driver_info"));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_struct().Find("name")->as_string(), "vhdsm VHD");
}

TEST_F(AbiTest, NullArgumentsAreRefused) {
  PluginPtr p = Open();
  ASSERT_NE(p, nullptr);
  std::string req = SmRequest("sr_get_driver_info");
  char* resp = nullptr;
  size_t len = 7;
  vhdsm_peer tcp{VHDSM_PEER_TCP, -1, -1};
  EXPECT_EQ(vhdsm_handle(nullptr, req.data(), req.size(), &resp, &len), -1);
  EXPECT_EQ(vhdsm_handle(p.get(), nullptr, req.size(), &resp, &len), -1);
  EXPECT_EQ(vhdsm_handle(p.get(), req.data(), req.size(), nullptr, &len), -1);
  EXPECT_EQ(
      vhdsm_handle_peer(p.get(), nullptr, req.data(), req.size(), &resp, &len),
      -1);
  EXPECT_EQ(
      vhdsm_handle_peer(nullptr, &tcp, req.data(), req.size(), &resp, &len),
      -1);
  EXPECT_EQ(resp, nullptr);
  EXPECT_EQ(len, 7u);
  // response_len is optional.
  ASSERT_EQ(vhdsm_handle(p.get(), req.data(), req.size(), &resp, nullptr), 0);
  EXPECT_NE(std::string(resp).find("vhdsm VHD"), std::string::npos);
  vhdsm_free(resp);
  // These accept NULL and do nothing.
  vhdsm_close(nullptr);
  vhdsm_free(nullptr);
  vhdsm_set_event_callback(nullptr, ToLog, nullptr);
}

// Exactly request_len bytes are the request: what follows is not read, NULs
// inside do not end it, and junk gets a fault, never a crash.
TEST_F(AbiTest, TheRequestIsExactlyItsLength) {
  PluginPtr p = Open();
  ASSERT_NE(p, nullptr);
  std::string req = SmRequest("sr_get_driver_info");
  std::string padded = req + "<junk that is not XML";
  char* resp = nullptr;
  size_t len = 0;
  ASSERT_EQ(vhdsm_handle(p.get(), padded.data(), req.size(), &resp, &len), 0);
  xmlrpc::Response r = ParseReply(std::string(resp, len));
  vhdsm_free(resp);
  EXPECT_OK(r);

  for (const std::string& junk :
       {std::string(), std::string("\0\0\0", 3), req.substr(0, req.size() / 2),
        req.substr(0, 20) + std::string(1, '\0') + req.substr(20),
        testutil::RandomBytes(4096, 15)}) {
    r = Call(p, junk);
    ASSERT_FALSE(r.ok()) << junk.size();
    EXPECT_NE(r.fault().code, 0);
  }
}

// Only the host itself and root may name an SR outside sr_roots; an unknown
// transport counts as TCP, the least trusted.
TEST_F(AbiTest, ThePeerDecidesWhereAnSrMayBe) {
  PluginPtr p = Open();
  ASSERT_NE(p, nullptr);
  std::string outside = SmRequest("sr_list", dir_.Join("outside"));
  std::string inside = SmRequest("sr_list", dir_.Join("roots/sr"));
  vhdsm_peer root{VHDSM_PEER_UNIX, 0, 1};
  vhdsm_peer user{VHDSM_PEER_UNIX, 4242, 1};
  vhdsm_peer tcp{VHDSM_PEER_TCP, -1, -1};
  vhdsm_peer unknown{99, 0, 1};
  EXPECT_OK(Call(p, outside));
  EXPECT_OK(Call(p, outside, &root));
  for (const vhdsm_peer* peer : {&user, &tcp, &unknown}) {
    xmlrpc::Response r = Call(p, outside, peer);
    ASSERT_FALSE(r.ok()) << peer->transport;
    EXPECT_EQ(r.fault().code, 47) << r.fault().message;  // SR unavailable
    EXPECT_OK(Call(p, inside, peer)) << peer->transport;
  }
}

// GC results arrive as JSON on the callback set last.
TEST_F(AbiTest, EventsGoToTheCallbackSetLast) {
  EventLog first, second;  // outlive the plugin's threads
  PluginPtr p = Open();
  ASSERT_NE(p, nullptr);
  vhdsm_set_event_callback(p.get(), ToLog, &first);
  vhdsm_set_event_callback(p.get(), ToLog, &second);
  std::string sr = dir_.Join("roots/sr");
  xmlrpc::Response r = Call(p, SmRequest("vdi_create", sr, {},
                                         {"1048576", "", "", "", "false",
                                          "19700101T00:00:00Z", "", "false"}));
  ASSERT_OK(r);
  std::string vdi = r.value().as_struct().Find("uuid")->as_string();
  ASSERT_OK(Call(p, SmRequest("vdi_delete", sr,
                              {{"vdi_uuid", vdi}, {"vdi_location", vdi}})));
  std::optional<std::string> ev = second.WaitFor("\"event\":\"gc\"");
  ASSERT_TRUE(ev.has_value()) << "no GC event";
  EXPECT_NE(ev->find("\"sr\":\"" + sr + "\""), std::string::npos) << *ev;
  EXPECT_FALSE(first.WaitFor("", std::chrono::seconds(0)).has_value());
}

}  // namespace
