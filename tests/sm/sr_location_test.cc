// Tests of sm/sr_location.h, and of its use by the plugin: a caller
// who is not root may name only a directory inside sr_roots (fault 47,
// nothing created); every caller must name an existing directory that is
// not a symlink.
#include "sm/sr_location.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sm/smapi.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "xmlrpc/parser.h"

namespace vhdsm {
namespace {

namespace fs = std::filesystem;

class SrLocationTest : public ::testing::Test {
 protected:
  SrLocationTest() : root_(dir_.Join("root")), outside_(dir_.Join("out")) {
    fs::create_directories(root_ + "/sr");
    fs::create_directories(outside_ + "/sr");
    fs::create_symlink(root_ + "/sr", dir_.Join("link-to-sr"));
    fs::create_symlink(outside_, root_ + "/escape");
    fs::create_symlink(root_, dir_.Join("root-link"));
    std::ofstream(root_ + "/file") << "x";
  }
  base::Status Confined(const std::string& p,
                        std::vector<std::string> roots = {}) {
    if (roots.empty()) roots = {root_};
    return CheckSrLocation(p, true, roots);
  }

  testutil::TempDir dir_;
  std::string root_, outside_;
};

TEST_F(SrLocationTest, EveryCallerNeedsAnExistingDirectoryNotASymlink) {
  for (bool confined : {false, true}) {
    std::vector<std::string> roots = {root_};
    EXPECT_OK(CheckSrLocation(root_ + "/sr", confined, roots));
    EXPECT_EQ(CheckSrLocation(root_ + "/none", confined, roots).code(),
              base::Code::kNotFound);
    EXPECT_EQ(CheckSrLocation(root_ + "/file/x", confined, roots).code(),
              base::Code::kNotFound);
    base::Status s = CheckSrLocation(root_ + "/file", confined, roots);
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
    EXPECT_NE(s.message().find("not a directory"), std::string::npos);
    s = CheckSrLocation(dir_.Join("link-to-sr"), confined, roots);
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
    EXPECT_NE(s.message().find("symbolic link"), std::string::npos);
  }
  // Unconfined, any other directory will do.
  EXPECT_OK(CheckSrLocation(outside_ + "/sr", false, {root_}));
}

TEST_F(SrLocationTest, ConfinedCallersStayInsideTheRoots) {
  base::Status s = Confined(outside_ + "/sr");
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("sr_roots"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(root_), std::string::npos) << s.message();
  // ".." and a symlinked component are resolved before comparing.
  EXPECT_FALSE(Confined(root_ + "/../out/sr").ok());
  EXPECT_FALSE(Confined(root_ + "/sr/../../out").ok());
  EXPECT_FALSE(Confined(root_ + "/escape/sr").ok());
  // The root itself is not an SR, and a sibling sharing a prefix is not in.
  EXPECT_FALSE(Confined(root_).ok());
  fs::create_directories(root_ + "2/sr");
  EXPECT_FALSE(Confined(root_ + "2/sr").ok());
  // A ".." that stays inside is fine; so is a root reached via a symlink,
  // named either way.
  fs::create_directories(root_ + "/a");
  EXPECT_OK(Confined(root_ + "/a/../sr"));
  EXPECT_OK(Confined(dir_.Join("root-link") + "/sr"));
  EXPECT_OK(Confined(root_ + "/sr", {dir_.Join("root-link")}));
  // Roots that do not exist match nothing; several roots are all tried.
  EXPECT_FALSE(Confined(root_ + "/sr", {"/nonexistent-root"}).ok());
  EXPECT_OK(Confined(outside_ + "/sr", {"/nonexistent-root", outside_}));
}

// Through the plugin: fault 47 and nothing created, by peer.
class PluginLocationTest : public SrLocationTest {
 protected:
  PluginLocationTest() : plugin_(Options()) {}
  PluginOptions Options() {
    PluginOptions o;
    o.sr_roots = {root_};
    return o;
  }
  static std::string SrCreate(const std::string& location) {
    return "<methodCall><methodName>sr_create</methodName><params><param>"
           "<value><struct><member><name>command</name><value>sr_create"
           "</value></member><member><name>args</name><value><array><data>"
           "<value>0</value></data></array></value></member><member><name>"
           "sr_uuid</name><value>a4c1e8f2-0000-4000-8000-000000000001</value>"
           "</member><member><name>device_config</name><value><struct>"
           "<member><name>location</name><value>" +
           location +
           "</value></member></struct></value></member></struct></value>"
           "</param></params></methodCall>";
  }
  // The fault code of sr_create on `location` from `peer` (0: success).
  int Code(const std::string& location, const xmlrpc::Peer& peer) {
    std::string out = plugin_.Handle(SrCreate(location), nullptr, peer);
    auto r = xmlrpc::ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    if (!r.ok()) return -1;
    if (!r.value().ok()) last_message_ = r.value().fault().message;
    return r.value().ok() ? 0 : r.value().fault().code;
  }
  static xmlrpc::Peer Tcp() {
    xmlrpc::Peer p;
    p.transport = xmlrpc::Peer::Transport::kTcp;
    return p;
  }
  static xmlrpc::Peer Unix(int64_t uid) {
    xmlrpc::Peer p;
    p.transport = xmlrpc::Peer::Transport::kUnix;
    p.uid = uid;
    return p;
  }

  Plugin plugin_;
  std::string last_message_;
};

TEST_F(PluginLocationTest, NonRootCallersGetFault47AndNothingIsCreated) {
  for (const xmlrpc::Peer& peer : {Tcp(), Unix(65534), Unix(1000)}) {
    for (const std::string& loc :
         {outside_ + "/sr", root_ + "/../out/sr", root_ + "/escape/sr",
          dir_.Join("link-to-sr"), root_ + "/none", root_}) {
      EXPECT_EQ(Code(loc, peer), 47) << loc;
    }
    EXPECT_FALSE(fs::exists(outside_ + "/sr/.vhdsm"));
    EXPECT_FALSE(fs::exists(root_ + "/sr/.vhdsm"));
    EXPECT_FALSE(fs::exists(root_ + "/.vhdsm"));
    EXPECT_FALSE(fs::exists(root_ + "/none"));
  }
  EXPECT_EQ(Code(outside_ + "/sr", Tcp()), 47);
  EXPECT_NE(last_message_.find("sr_roots"), std::string::npos) << last_message_;
  // Inside the roots they are served.
  EXPECT_EQ(Code(root_ + "/sr", Tcp()), 0);
  EXPECT_TRUE(fs::exists(root_ + "/sr/.vhdsm/sr.json"));
}

TEST_F(PluginLocationTest, RootAndInProcessCallersMayNameAnyDirectory) {
  EXPECT_EQ(Code(outside_ + "/sr", Unix(0)), 0);
  EXPECT_TRUE(fs::exists(outside_ + "/sr/.vhdsm/sr.json"));
  fs::create_directories(outside_ + "/sr2");
  EXPECT_EQ(Code(outside_ + "/sr2", xmlrpc::Peer()), 0);
  // But never a symlink, nor a directory that does not exist.
  EXPECT_EQ(Code(dir_.Join("link-to-sr"), Unix(0)), 47);
  EXPECT_EQ(Code(dir_.Join("link-to-sr"), xmlrpc::Peer()), 47);
  EXPECT_EQ(Code(outside_ + "/none", Unix(0)), 47);
  EXPECT_FALSE(fs::exists(outside_ + "/none"));
  EXPECT_FALSE(fs::exists(root_ + "/sr/.vhdsm"));
}

}  // namespace
}  // namespace vhdsm
