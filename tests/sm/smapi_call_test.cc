// Tests of sm/smapi_call.h: the helpers every method shares, and the one
// adapter (MethodHandler) from a method's Status to the fault on the wire.
#include "sm/smapi_call.h"

#include <gtest/gtest.h>

#include <string>

#include "sm/smapi.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "xmlrpc/parser.h"

namespace vhdsm {
namespace {

using xmlrpc::Struct;
using xmlrpc::Value;

std::string Member(const std::string& k, const std::string& v) {
  return "<member><name>" + k + "</name><value>" + v + "</value></member>";
}

std::string Request(const std::string& method, const std::string& params) {
  return "<methodCall><methodName>" + method + "</methodName><params>" +
         params + "</params></methodCall>";
}

std::string OneStruct(const std::string& members) {
  return "<param><value><struct>" + members + "</struct></value></param>";
}

class SmapiCallTest : public ::testing::Test {
 protected:
  SmapiCallTest() {
    // A method that shows what it was given, or fails as the call asks.
    plugin_.Register("probe", [this](const Call& c, Value* out) {
      seen_session_ = c.ctx.session_ref;
      seen_host_ = c.ctx.host_ref;
      std::string what;
      RETURN_IF_ERROR(c.Str("fail", &what));
      if (what == "clone") return fault::Error(fault::kVdiClone, "why");
      if (what == "plain") return base::Status::Corruption("torn");
      if (what == "sr") {
        std::string p;
        RETURN_IF_ERROR(SrPath(c, &p));
        *out = p;
        return base::Status::OK();
      }
      if (what == "vdi") {
        std::string u;
        RETURN_IF_ERROR(VdiUuid(c, &u));
        *out = u;
        return base::Status::OK();
      }
      if (what == "master") return RequireMaster(c);
      if (what == "arg") {
        std::string a;
        RETURN_IF_ERROR(c.Arg(1, &a));
        *out = a;
        return base::Status::OK();
      }
      *out = Struct{{"ok", "yes"}};
      return base::Status::OK();
    });
  }

  xmlrpc::Response Send(const std::string& xml,
                        const xmlrpc::Peer& peer = xmlrpc::Peer()) {
    std::string out = plugin_.Handle(xml, nullptr, peer);
    auto r = xmlrpc::ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    return r.ok() ? r.value() : xmlrpc::Response(xmlrpc::Fault{-1, out});
  }
  xmlrpc::Response Probe(const std::string& members,
                         const xmlrpc::Peer& peer = xmlrpc::Peer()) {
    return Send(Request("probe", OneStruct(members)), peer);
  }
  static std::string Location(const std::string& path,
                              const std::string& master = "") {
    return "<member><name>device_config</name><value><struct>" +
           Member("location", path) +
           (master.empty() ? "" : Member("SRmaster", master)) +
           "</struct></value></member>";
  }

  testutil::TempDir dir_;
  Plugin plugin_;
  std::string seen_session_, seen_host_;
};

TEST_F(SmapiCallTest, AResultAndTheCallersIdentityPassThrough) {
  xmlrpc::Response r = Probe(Member("session_ref", "OpaqueRef:s") +
                             Member("host_ref", "OpaqueRef:h"));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_struct().Find("ok")->as_string(), "yes");
  EXPECT_EQ(seen_session_, "OpaqueRef:s");
  EXPECT_EQ(seen_host_, "OpaqueRef:h");
}

TEST_F(SmapiCallTest, TheParamMustBeOneStruct) {
  xmlrpc::Response r = Send(Request("probe", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=expected one struct param, "
            "got 0]");
  r = Send(Request("probe", OneStruct("") + OneStruct("")));
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=expected one struct param, "
            "got 2]");
  r = Send(Request("probe", "<param><value>x</value></param>"));
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=probe: param 1 must be "
            "struct, not string]");
}

TEST_F(SmapiCallTest, IdentityMembersMustBeStringsAndSrUuidAUuid) {
  xmlrpc::Response r = Probe(Member("session_ref", "<int>5</int>"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=member 'session_ref' must be "
            "string, not int]");
  r = Probe(Member("sr_uuid", "../../etc"));
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=sr_uuid is not a uuid]");
  EXPECT_OK(Probe(Member("sr_uuid", "a4c1e8f2-0000-4000-8000-000000000001")));
}

TEST_F(SmapiCallTest, AStatusBecomesItsFault) {
  xmlrpc::Response r = Probe(Member("fail", "clone"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fault().code, 81);
  EXPECT_EQ(r.fault().message, "Failed to clone VDI [opterr=why]");
  r = Probe(Member("fail", "plain"));
  EXPECT_EQ(r.fault().code, 202);
  EXPECT_EQ(r.fault().message,
            "General backend error [opterr=CORRUPTION: torn]");
  // A member of the wrong type read by the method: 143, not an exception.
  r = Probe(Member("fail", "<boolean>1</boolean>"));
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=member 'fail' must be string, "
            "not boolean]");
}

TEST_F(SmapiCallTest, SrPathIsRequiredAbsoluteAndConfined) {
  xmlrpc::Response r = Probe(Member("fail", "sr"));
  EXPECT_EQ(r.fault().code, 115);
  EXPECT_EQ(r.fault().message,
            "Not all required parameters specified. "
            "[opterr=device_config:location is required]");
  r = Probe(Member("fail", "sr") + Location("relative/dir"));
  EXPECT_EQ(r.fault().code, 143);
  r = Probe(Member("fail", "sr") + Location(dir_.path()));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_string(), dir_.path());
  // A caller over TCP may only name SRs under the default roots.
  xmlrpc::Peer tcp;
  tcp.transport = xmlrpc::Peer::Transport::kTcp;
  r = Probe(Member("fail", "sr") + Location(dir_.path()), tcp);
  EXPECT_EQ(r.fault().code, 47) << r.fault().message;
}

TEST_F(SmapiCallTest, VdiUuidAndArgsAreChecked) {
  const std::string u = "0a1b2c3d-0000-4000-8000-0000000000aa";
  xmlrpc::Response r =
      Probe(Member("fail", "vdi") + Member("vdi_location", "../x.vhd"));
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=vdi_location '../x.vhd' is "
            "not a uuid]");
  r = Probe(Member("fail", "vdi") + Member("vdi_uuid", u));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_string(), u);
  r = Probe(Member("fail", "arg"));
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=missing member 'args']");
  r = Probe(Member("fail", "arg") +
            Member("args", "<array><data><value>a</value></data></array>"));
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=args[1] is missing or not a "
            "string]");
  r = Probe(Member("fail", "arg") +
            Member("args",
                   "<array><data><value>a</value><value>b</value></data>"
                   "</array>"));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().as_string(), "b");
}

TEST_F(SmapiCallTest, OnlyTheMasterChangesMetadata) {
  EXPECT_OK(Probe(Member("fail", "master") + Location(dir_.path())));
  EXPECT_OK(Probe(Member("fail", "master") + Location(dir_.path(), "true")));
  xmlrpc::Response r =
      Probe(Member("fail", "master") + Location(dir_.path(), "false"));
  EXPECT_EQ(r.fault().code, 202);
  EXPECT_EQ(r.fault().message,
            "General backend error [opterr=this host is not the SR master "
            "(device_config:SRmaster=false)]");
}

TEST(SmapiCallMembersTest, RequireMemberAndOptionalString) {
  Struct s{{"a", "x"}, {"n", Value(int32_t{5})}};
  const Value* v = nullptr;
  ASSERT_OK(RequireMember(s, "a", Value::Type::kString, &v));
  EXPECT_EQ(v->as_string(), "x");
  base::Status st = RequireMember(s, "b", Value::Type::kString, &v);
  EXPECT_EQ(st.detail(), 143);
  EXPECT_EQ(st.message(), "missing member 'b'");
  st = RequireMember(s, "n", Value::Type::kString, &v);
  EXPECT_EQ(st.message(), "member 'n' must be string, not int");
  std::string out;
  ASSERT_OK(OptionalString(s, "missing", "dflt", &out));
  EXPECT_EQ(out, "dflt");
  ASSERT_OK(OptionalString(s, "a", "dflt", &out));
  EXPECT_EQ(out, "x");
  EXPECT_EQ(OptionalString(s, "n", "", &out).detail(), 143);
}

}  // namespace
}  // namespace vhdsm
