// Tests of sm/smapi.h: SMAPIv1 calls exactly as xapi sends them
// (compact XML, untyped strings, one struct param) and replies in the shapes
// xapi's parser accepts; every fault path with its code.
#include "sm/smapi.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "xmlrpc/parser.h"

namespace vhdsm {
namespace {

// A call as xapi's Xml.to_string writes it: no declaration, no whitespace,
// untyped strings, <value/> for "", <data/> and <struct/> when empty.
std::string XapiCall(
    const std::string& command,
    const std::vector<std::pair<std::string, std::string>>& members,
    const std::vector<std::string>& args = {},
    const std::string& device_config = "", const std::string& extra = "") {
  auto val = [](const std::string& v) {
    return v.empty() ? std::string("<value/>") : "<value>" + v + "</value>";
  };
  std::string s = "<methodCall><methodName>" + command +
                  "</methodName><params><param><value><struct>";
  s += "<member><name>host_ref</name><value>OpaqueRef:NULL</value></member>";
  s += "<member><name>command</name>" + val(command) + "</member>";
  s += "<member><name>args</name><value><array>";
  if (args.empty()) {
    s += "<data/>";
  } else {
    s += "<data>";
    for (const auto& a : args) s += val(a);
    s += "</data>";
  }
  s += "</array></value></member>";
  s += "<member><name>device_config</name><value>" +
       (device_config.empty()
            ? std::string("<struct/>")
            : "<struct><member><name>location</name>" + val(device_config) +
                  "</member><member><name>SRmaster</name>"
                  "<value>true</value></member></struct>") +
       "</value></member>";
  for (const auto& [k, v] : members) {
    s += "<member><name>" + k + "</name>" + val(v) + "</member>";
  }
  s += extra;
  s += "</struct></value></param></params></methodCall>";
  return s;
}

class SmapiTest : public ::testing::Test {
 protected:
  xmlrpc::Response Send(const std::string& xml) {
    std::string out = plugin_.Handle(xml);
    raw_ = out;
    auto r = xmlrpc::ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    return r.ok() ? r.value() : xmlrpc::Response(xmlrpc::Fault{-1, "unparsed"});
  }
  xmlrpc::Response Sr(const std::string& cmd,
                      std::vector<std::string> args = {},
                      std::vector<std::pair<std::string, std::string>> m = {},
                      const std::string& extra = "") {
    m.insert(m.begin(), {"sr_uuid", "a4c1e8f2-0000-4000-8000-000000000001"});
    m.insert(m.begin(), {"session_ref", "OpaqueRef:s"});
    return Send(XapiCall(cmd, m, args, dir_.path(), extra));
  }
  xmlrpc::Response Vdi(const std::string& cmd, const std::string& uuid,
                       std::vector<std::string> args = {},
                       const std::string& extra = "") {
    return Sr(cmd, args, {{"vdi_uuid", uuid}, {"vdi_location", uuid}}, extra);
  }
  std::string CreateVdi(uint64_t size) {
    xmlrpc::Response r =
        Sr("vdi_create", {std::to_string(size), "disk", "", "", "false",
                          "19700101T00:00:00Z", "", "false"});
    EXPECT_OK(r) << raw_;
    if (!r.ok()) return "";
    return r.value().as_struct().Find("uuid")->as_string();
  }
  std::string View(const std::string& uuid) {
    std::unique_ptr<vhd::Chain> c;
    base::Status s =
        vhd::Chain::Open(dir_.Join(uuid + ".vhd"), vhd::ChainOptions(), &c);
    if (!s.ok()) return "<error>";
    std::string out(c->virtual_size(), '\0');
    EXPECT_OK(c->Read(0, out.size(), out.data()));
    return out;
  }
  void Write(const std::string& uuid, uint64_t off, const std::string& d) {
    vhd::ChainOptions o;
    o.writable = true;
    std::unique_ptr<vhd::Chain> c;
    ASSERT_OK(vhd::Chain::Open(dir_.Join(uuid + ".vhd"), o, &c));
    ASSERT_OK(c->Write(off, d.size(), d.data()));
    ASSERT_OK(c->Flush());
  }
  int FaultCode(const xmlrpc::Response& r) {
    return r.ok() ? 0 : r.fault().code;
  }

  testutil::TempDir dir_;
  Plugin plugin_;
  std::string raw_;
};

TEST_F(SmapiTest, DriverInfoFromSrTestSample) {
  // xapi-project/sm drivers/SRTest.txt, byte for byte.
  std::string sample =
      "<methodCall><methodName>sr_get_driver_info</methodName><params><param>"
      "<value><struct><member><name>host_ref</name><value>OpaqueRef:NULL</"
      "value>"
      "</member><member><name>command</name><value>sr_get_driver_info</value>"
      "</member><member><name>args</name><value><array><data/></array></value>"
      "</member><member><name>device_config</name><value><struct/></value>"
      "</member></struct></value></param></params></methodCall>";
  xmlrpc::Response r = Send(sample);
  ASSERT_OK(r);
  const xmlrpc::Struct& s = r.value().as_struct();
  for (const char* k : {"name", "description", "vendor", "copyright",
                        "driver_version", "required_api_version"}) {
    ASSERT_TRUE(s.Find(k)) << k;
    EXPECT_EQ(s.Find(k)->type(), xmlrpc::Value::Type::kString) << k;
  }
  EXPECT_EQ(s.Find("capabilities")->type(), xmlrpc::Value::Type::kArray);
  const auto& conf = s.Find("configuration")->as_array();
  ASSERT_EQ(conf.size(), 1u);
  EXPECT_EQ(conf[0].as_struct().Find("key")->as_string(), "location");
  // Nothing xapi cannot read: no attributes, no <i8>, no declaration needed.
  EXPECT_EQ(raw_.find("<i8>"), std::string::npos);
  EXPECT_EQ(raw_.find(" xmlns"), std::string::npos);
}

TEST_F(SmapiTest, UnitResultsAreNilAndVdiInfoIsStrings) {
  xmlrpc::Response r = Sr("sr_create", {"0"});
  ASSERT_OK(r) << raw_;
  EXPECT_TRUE(r.value().is_nil());
  EXPECT_NE(raw_.find("<value><nil/></value>"), std::string::npos);
  EXPECT_OK(Sr("sr_attach"));
  EXPECT_OK(Sr("sr_scan"));
  std::string u = CreateVdi(10 << 20);
  ASSERT_FALSE(u.empty());
  xmlrpc::Response info = Vdi("vdi_snapshot", u);
  ASSERT_OK(info) << raw_;
  const xmlrpc::Struct& s = info.value().as_struct();
  ASSERT_TRUE(s.Find("uuid") && s.Find("location"));
  for (const auto& m : s)
    EXPECT_EQ(m.value.type(), xmlrpc::Value::Type::kString);
  EXPECT_EQ(s.Find("uuid")->as_string(), s.Find("location")->as_string());
  EXPECT_TRUE(
      testutil::FileExists(dir_.Join(s.Find("uuid")->as_string() + ".vhd")));
}

TEST_F(SmapiTest, AttachResultHasXapisMembers) {
  std::string u = CreateVdi(4 << 20);
  xmlrpc::Response r = Vdi("vdi_attach", u, {"true"});
  ASSERT_OK(r) << raw_;
  const xmlrpc::Struct& s = r.value().as_struct();
  EXPECT_EQ(s.Find("params")->as_string(), dir_.Join(u + ".vhd"));
  EXPECT_EQ(s.Find("params_nbd")->type(), xmlrpc::Value::Type::kString);
  EXPECT_EQ(s.Find("o_direct")->type(), xmlrpc::Value::Type::kBoolean);
  EXPECT_EQ(s.Find("xenstore_data")->type(), xmlrpc::Value::Type::kStruct);
  EXPECT_OK(Vdi("vdi_activate", u, {"true"}));
  EXPECT_OK(Vdi("vdi_deactivate", u));
  EXPECT_OK(Vdi("vdi_detach", u));
}

TEST_F(SmapiTest, LifecycleKeepsEveryGuestViewExact) {
  std::string a = CreateVdi(16 << 20);
  std::string d1 = testutil::RandomBytes(3 << 20, 1);
  Write(a, 0, d1);
  xmlrpc::Response snap = Vdi("vdi_snapshot", a);
  ASSERT_OK(snap);
  std::string s = snap.value().as_struct().Find("uuid")->as_string();
  std::string view_s = View(a);
  Write(a, 5 << 20, testutil::RandomBytes(1 << 20, 2));
  xmlrpc::Response clone = Vdi("vdi_clone", a);
  ASSERT_OK(clone);
  std::string c = clone.value().as_struct().Find("uuid")->as_string();
  std::string view_a = View(a);
  EXPECT_EQ(View(c), view_a);
  EXPECT_EQ(View(s), view_s);
  Write(c, 0, "clone-only");
  EXPECT_EQ(View(a), view_a);
  ASSERT_OK(Vdi("vdi_delete", s));
  ASSERT_OK(Sr("sr_gc"));
  EXPECT_EQ(View(a), view_a);
  EXPECT_EQ(View(c).substr(0, 10), "clone-only");
  ASSERT_OK(Vdi("vdi_resize", a, {std::to_string(32 << 20)})) << raw_;
  std::string grown = View(a);
  EXPECT_EQ(grown.size(), 32u << 20);
  EXPECT_EQ(grown.substr(0, view_a.size()), view_a);
}

TEST_F(SmapiTest, FaultCodes) {
  EXPECT_EQ(FaultCode(Sr("vdi_frobnicate")), 38);  // unknown command
  EXPECT_EQ(FaultCode(Send("<methodCall><methodName>sr_scan</methodName>")),
            143);  // truncated
  EXPECT_EQ(FaultCode(Send(XapiCall("sr_scan", {}, {}, ""))),
            115);  // no location
  EXPECT_EQ(FaultCode(Sr("vdi_resize", {"12"}, {{"vdi_location", "../../x"}})),
            143);
  std::string missing = "c0ffee00-0000-4000-8000-000000000000";
  EXPECT_EQ(FaultCode(Vdi("vdi_attach", missing, {"true"})), 144);
  EXPECT_EQ(FaultCode(Vdi("vdi_snapshot", missing)), 144);
  EXPECT_EQ(FaultCode(Sr("vdi_create", {"notanumber"})), 79);
  EXPECT_EQ(FaultCode(Sr("vdi_create", {std::to_string(3000ull << 30)})), 79);
  std::string u = CreateVdi(4 << 20);
  EXPECT_EQ(FaultCode(Vdi("vdi_resize", u, {std::to_string(2 << 20)})), 143);
  // Chain too long: 30 is the limit (xapi's MAX_CHAIN_SIZE).
  for (int i = 0; i < 29; ++i) {
    ASSERT_OK(Vdi("vdi_snapshot", u, {},
                  "<member><name>driver_params</name>"
                  "<value><struct><member><name>type"
                  "</name><value>single</value></member>"
                  "</struct></value></member>"))
        << i;
  }
  xmlrpc::Response r = Vdi("vdi_snapshot", u);
  EXPECT_EQ(FaultCode(r), 109);
  EXPECT_NE(r.fault().message.find("The snapshot chain is too long"),
            std::string::npos);
  EXPECT_EQ(FaultCode(Sr("sr_delete")), 39);  // not empty
  // The SR directory must exist.
  EXPECT_EQ(FaultCode(Send(XapiCall("sr_attach", {}, {}, "/nonexistent/sr"))),
            47);
}

TEST_F(SmapiTest, SizesUseTheOneParser) {
  // 16777217T wrapped around to 1 TiB before; past 64 bits is fault 79.
  for (const char* bad :
       {"16777217T", "16777216T", "18446744073709551616", "-1", "+4194304",
        " 4194304", "4194304 ", "4M ", "4MB", "1.5G", "0x400000", ""}) {
    EXPECT_EQ(FaultCode(Sr("vdi_create", {bad})), 79) << "'" << bad << "'";
  }
  // In range for the parser, too large for a VHD: still 79, nothing made.
  EXPECT_EQ(FaultCode(Sr("vdi_create", {"16777215T"})), 79);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (e.path().filename() != ".vhdsm") ++files;
  }
  EXPECT_EQ(files, 0u);
  // The CLI's suffixes are accepted on the wire too.
  xmlrpc::Response r = Sr("vdi_create", {"4M"});
  ASSERT_OK(r) << raw_;
  std::string u = r.value().as_struct().Find("uuid")->as_string();
  EXPECT_EQ(View(u).size(), 4u << 20);
  r = Vdi("vdi_resize", u, {"6m"});
  ASSERT_OK(r) << raw_;
  EXPECT_EQ(View(u).size(), 6u << 20);
  EXPECT_EQ(FaultCode(Vdi("vdi_resize", u, {"17179869184G"})), 79);
  EXPECT_EQ(View(u).size(), 6u << 20);
}

TEST_F(SmapiTest, SrUuidMustBeAUuid) {
  const std::string evil = "</UUID></SR><SR><UUID>x";
  // Refused before anything is written or echoed.
  xmlrpc::Response r = Send(
      XapiCall("sr_create", {{"sr_uuid", "x&lt;/UUID&gt;"}}, {}, dir_.path()));
  EXPECT_EQ(FaultCode(r), 143) << raw_;
  EXPECT_FALSE(std::filesystem::exists(dir_.Join(".vhdsm/sr.json")));
  EXPECT_EQ(FaultCode(Send(XapiCall("sr_scan", {{"sr_uuid", "../../etc"}}, {},
                                    dir_.path()))),
            143);
  // A valid one round-trips through sr_probe.
  ASSERT_OK(Sr("sr_create")) << raw_;
  r = Send(XapiCall("sr_probe", {}, {}, dir_.path()));
  ASSERT_OK(r) << raw_;
  EXPECT_NE(r.value().as_string().find(
                "<UUID>a4c1e8f2-0000-4000-8000-000000000001</UUID>"),
            std::string::npos)
      << r.value().as_string();
  // sr.json is the SR's and others can write it: a hostile value is not
  // echoed into <SRlist>.
  testutil::WriteFile(dir_.Join(".vhdsm/sr.json"),
                      "{\"sr_uuid\": \"" + evil + "\"}\n");
  r = Send(XapiCall("sr_probe", {}, {}, dir_.path()));
  ASSERT_OK(r) << raw_;
  EXPECT_EQ(r.value().as_string(),
            "<?xml version=\"1.0\" ?>\n<SRlist>\n</SRlist>\n");
}

TEST_F(SmapiTest, OnlyTheSrMasterChangesMetadata) {
  std::string u = CreateVdi(4 << 20);
  auto slave = [&](const std::string& cmd, std::vector<std::string> args = {}) {
    std::string xml = XapiCall(cmd, {{"vdi_uuid", u}, {"vdi_location", u}},
                               args, dir_.path());
    size_t at = xml.find("<value>true</value>");  // SRmaster
    xml.replace(at, 19, "<value>false</value>");
    return Send(xml);
  };
  for (const char* cmd : {"vdi_create", "vdi_delete", "vdi_snapshot",
                          "vdi_clone", "sr_scan", "sr_gc"}) {
    xmlrpc::Response r = slave(cmd, {"4194304"});
    EXPECT_EQ(FaultCode(r), 202) << cmd;
    EXPECT_NE(r.fault().message.find("not the SR master"), std::string::npos);
  }
  EXPECT_OK(slave("vdi_attach", {"true"})) << raw_;
  EXPECT_OK(slave("vdi_detach")) << raw_;
  EXPECT_TRUE(testutil::FileExists(dir_.Join(u + ".vhd")));
}

TEST_F(SmapiTest, GenerateConfigIsAnAttachFromConfigCall) {
  std::string u = CreateVdi(4 << 20);
  xmlrpc::Response r = Vdi("vdi_generate_config", u);
  ASSERT_OK(r);
  auto call = xmlrpc::ParseMethodCall(r.value().as_string());
  ASSERT_OK(call);
  EXPECT_EQ(call.value().method, "vdi_attach_from_config");
  xmlrpc::Response a = Send(r.value().as_string());
  ASSERT_OK(a) << raw_;
  EXPECT_EQ(a.value().as_struct().Find("params")->as_string(),
            dir_.Join(u + ".vhd"));
}

TEST_F(SmapiTest, NoSpaceIsFault44AndChangesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  testutil::TempDir small;
  ASSERT_EQ(0, mount("tmpfs", small.path().c_str(), "tmpfs", 0, "size=3m"));
  struct Unmount {
    std::string p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{small.path()};
  auto call = [&](const std::string& cmd, std::vector<std::string> args,
                  std::vector<std::pair<std::string, std::string>> m = {}) {
    return Send(XapiCall(cmd, m, args, small.path()));
  };
  xmlrpc::Response r = call("vdi_create", {std::to_string(1ull << 40)});
  EXPECT_EQ(FaultCode(r), 44) << raw_;  // a 1 TiB VDI's BAT does not fit
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(small.path())) {
    if (e.path().filename() != ".vhdsm") ++files;
  }
  EXPECT_EQ(files, 0u);
}

}  // namespace
}  // namespace vhdsm
