// Tests of sm/xapi_toolstack.h: the XenAPI wire format (db_introduce's
// arguments, the Status/Value envelope, 64-bit numbers as strings, masking
// of the session) and the calls each hook makes, against a small XenAPI
// peer served in-process on a Unix socket.
#include "sm/xapi_toolstack.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "xmlrpc/http_server.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace vhdsm {
namespace {

using xmlrpc::Array;
using xmlrpc::MethodCall;
using xmlrpc::Struct;
using xmlrpc::Value;

constexpr char kSession[] = "OpaqueRef:5e55-secret";
constexpr char kSrRef[] = "OpaqueRef:sr-1";
constexpr char kUuid[] = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f1";
constexpr char kParent[] = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

Value Success(Value v) { return Struct{{"Status", "Success"}, {"Value", v}}; }
Value Failure(std::vector<std::string> desc) {
  Array a;
  for (auto& d : desc) a.push_back(d);
  return Struct{{"Status", "Failure"}, {"ErrorDescription", a}};
}

// A XenAPI peer: records every call and answers with `answer`.
class FakeXapi {
 public:
  explicit FakeXapi(std::string socket_path)
      : server_([this](std::string_view body, const xmlrpc::Peer&,
                       xmlrpc::Dispatcher::Outcome*) { return Serve(body); },
                Options(socket_path)),
        path_(std::move(socket_path)) {
    EXPECT_OK(server_.Start());
  }

  std::function<Value(const MethodCall&)> answer = [](const MethodCall&) {
    return Success("");
  };
  std::vector<MethodCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::string> methods() {
    std::vector<std::string> out;
    for (const MethodCall& c : calls()) out.push_back(c.method);
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  static xmlrpc::HttpServerOptions Options(const std::string& path) {
    xmlrpc::HttpServerOptions o;
    o.unix_socket_path = path;
    o.threads = 1;
    return o;
  }
  std::string Serve(std::string_view body) {
    xmlrpc::Result<MethodCall> call = xmlrpc::ParseMethodCall(body);
    if (!call.ok()) return xmlrpc::WriteFault(call.fault());
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call.value());
    }
    return xmlrpc::WriteResponse(answer(call.value())).value();
  }

  std::mutex mu_;
  std::vector<MethodCall> calls_;
  xmlrpc::HttpServer server_;
  std::string path_;
};

Vdi BaseCopy() {
  Vdi v;
  v.uuid = kUuid;
  v.virtual_size = 100ull << 30;  // beyond 32 bits: must travel as a string
  v.physical_utilisation = 5ull << 30;
  v.hidden = true;
  v.parent = kParent;
  v.meta.managed = false;  // what Sr::SnapshotVdi records for a base copy
  v.meta.read_only = true;
  return v;
}

CallContext Ctx() {
  CallContext c;
  c.session_ref = kSession;
  c.sr_ref = kSrRef;
  return c;
}

TEST(XapiToolstackWireTest, DbIntroduceArgsOfABaseCopy) {
  std::vector<Value> a = DbIntroduceArgs(kSrRef, BaseCopy(), true, "");
  ASSERT_EQ(a.size(), 18u);
  EXPECT_EQ(a[0], Value(kUuid));
  EXPECT_EQ(a[1], Value("base copy"));
  EXPECT_EQ(a[2], Value(""));
  EXPECT_EQ(a[3], Value(kSrRef));
  EXPECT_EQ(a[4], Value("user"));
  EXPECT_EQ(a[5], Value(false));  // sharable
  EXPECT_EQ(a[6], Value(true));   // read_only
  EXPECT_EQ(a[7], Value(Struct()));
  EXPECT_EQ(a[8], Value(kUuid));  // location
  EXPECT_EQ(a[9], Value(Struct()));
  EXPECT_EQ(a[10], Value(Struct{{"vhd-parent", kParent}}));
  EXPECT_EQ(a[11], Value(false));  // managed
  EXPECT_EQ(a[12], Value("107374182400"));
  EXPECT_EQ(a[13], Value("5368709120"));
  EXPECT_EQ(a[14], Value(kNullRef));
  EXPECT_EQ(a[15], Value(false));
  ASSERT_EQ(a[16].type(), Value::Type::kDateTime);
  EXPECT_EQ(a[16].as_datetime().Format(), "19700101T00:00:00Z");
  EXPECT_EQ(a[17], Value(kNullRef));
  // The whole call is writable as XML-RPC (no 64-bit <int>, a valid date).
  a.insert(a.begin(), Value(kSession));
  xmlrpc::Result<std::string> xml =
      xmlrpc::WriteMethodCall(MethodCall{"VDI.db_introduce", a});
  ASSERT_OK(xml) << xml.fault().message;
  EXPECT_NE(xml.value().find("<value>107374182400</value>"), std::string::npos);
}

TEST(XapiToolstackWireTest, DbIntroduceArgsOfASnapshot) {
  Vdi v;
  v.uuid = kUuid;
  v.virtual_size = 8 << 20;
  v.physical_utilisation = 3584;
  v.parent = kParent;
  v.meta.name_label = "disk <0>";
  v.meta.name_description = "d";
  v.meta.type = "system";
  v.meta.is_a_snapshot = true;
  v.meta.snapshot_of = kParent;
  v.meta.snapshot_time = "20260102T03:04:05Z";
  std::vector<Value> a = DbIntroduceArgs(kSrRef, v, false, "OpaqueRef:vdi-9");
  EXPECT_EQ(a[1], Value("disk <0>"));
  EXPECT_EQ(a[2], Value("d"));
  EXPECT_EQ(a[4], Value("system"));
  EXPECT_EQ(a[6], Value(false));
  EXPECT_EQ(a[11], Value(true));
  EXPECT_EQ(a[12], Value("8388608"));
  EXPECT_EQ(a[15], Value(true));
  EXPECT_EQ(a[16].as_datetime().Format(), "20260102T03:04:05Z");
  EXPECT_EQ(a[17], Value("OpaqueRef:vdi-9"));
  v.parent.clear();
  v.meta.snapshot_time = "not a time";
  a = DbIntroduceArgs(kSrRef, v, false, "");
  EXPECT_EQ(a[10], Value(Struct()));
  EXPECT_EQ(a[16].as_datetime().Format(), "19700101T00:00:00Z");
}

TEST(XapiToolstackWireTest, ParsesTheEnvelope) {
  Value v;
  std::string code = "x";
  ASSERT_OK(ParseXenApiResponse("VDI.get_by_uuid", Success("OpaqueRef:7"),
                                kSession, &v, &code));
  EXPECT_EQ(v, Value("OpaqueRef:7"));
  EXPECT_EQ(code, "");

  base::Status s = ParseXenApiResponse("VDI.db_introduce",
                                       Failure({"SESSION_INVALID", kSession}),
                                       kSession, &v, &code);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(code, "SESSION_INVALID");
  EXPECT_NE(s.message().find("VDI.db_introduce"), std::string::npos);
  EXPECT_NE(s.message().find("SESSION_INVALID, <session>"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("secret"), std::string::npos) << s.message();

  for (const Value& bad :
       {Value("OpaqueRef:7"), Value(Struct{{"Value", "x"}}),
        Value(Struct{{"Status", "Success"}}),
        Value(Struct{{"Status", "Maybe"}, {"Value", "x"}}),
        Value(Struct{{"Status", "Failure"}, {"ErrorDescription", Array()}})}) {
    s = ParseXenApiResponse("SR.get_VDIs", bad, kSession, &v);
    EXPECT_FALSE(s.ok()) << bad.DebugString();
    EXPECT_NE(s.message().find("XenAPI SR.get_VDIs"), std::string::npos);
  }
  s = ParseXenApiResponse(
      "SR.get_VDIs",
      xmlrpc::Fault{xmlrpc::interop::kTransportError, "connection refused"},
      kSession, &v);
  EXPECT_NE(s.message().find("cannot reach xapi: connection refused"),
            std::string::npos);
  s = ParseXenApiResponse("SR.get_VDIs", xmlrpc::Fault{5, "odd"}, kSession, &v);
  EXPECT_NE(s.message().find("XML-RPC fault 5"), std::string::npos);
}

class XapiToolstackTest : public ::testing::Test {
 protected:
  testutil::TempDir dir_;
  FakeXapi xapi_{dir_.Join("xapi")};

  std::unique_ptr<Toolstack> Make(const CallContext& ctx) {
    XapiToolstackOptions o;
    o.socket_path = xapi_.path();
    o.timeout_ms = 10000;
    return MakeXapiToolstack(ctx, o);
  }
};

TEST_F(XapiToolstackTest, NeedsASessionAndTheSocket) {
  CallContext no_session = Ctx();
  no_session.session_ref.clear();
  EXPECT_EQ(Make(no_session), nullptr);
  EXPECT_NE(Make(Ctx()), nullptr);
  XapiToolstackOptions o;
  o.socket_path = dir_.Join("missing");
  EXPECT_EQ(MakeXapiToolstack(Ctx(), o), nullptr);
  testutil::WriteFile(dir_.Join("file"), "x");
  o.socket_path = dir_.Join("file");
  EXPECT_EQ(MakeXapiToolstack(Ctx(), o), nullptr);
  EXPECT_TRUE(xapi_.calls().empty());
}

TEST_F(XapiToolstackTest, SocketPathComesFromTheEnvironmentFirst) {
  unsetenv(kXapiSocketEnv);
  EXPECT_EQ(XapiSocketPath(), kDefaultXapiSocket);
  EXPECT_EQ(XapiSocketPath("/run/x"), "/run/x");
  setenv(kXapiSocketEnv, "/tmp/sim", 1);
  EXPECT_EQ(XapiSocketPath("/run/x"), "/tmp/sim");
  unsetenv(kXapiSocketEnv);
}

TEST_F(XapiToolstackTest, IntroducedSendsTheSessionFirst) {
  xapi_.answer = [](const MethodCall&) { return Success("OpaqueRef:new"); };
  ASSERT_OK(Make(Ctx())->Introduced(Ctx(), BaseCopy()));
  std::vector<MethodCall> calls = xapi_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "VDI.db_introduce");
  ASSERT_EQ(calls[0].params.size(), 19u);
  EXPECT_EQ(calls[0].params[0], Value(kSession));
  EXPECT_EQ(calls[0].params[13], Value("107374182400"));

  CallContext no_sr = Ctx();
  no_sr.sr_ref.clear();
  base::Status s = Make(no_sr)->Introduced(no_sr, BaseCopy());
  EXPECT_NE(s.message().find("no sr_ref"), std::string::npos);
}

TEST_F(XapiToolstackTest, IntroducedResolvesSnapshotOf) {
  xapi_.answer = [](const MethodCall& c) {
    return c.method == "VDI.get_by_uuid" ? Success("OpaqueRef:origin")
                                         : Success("OpaqueRef:new");
  };
  Vdi v = BaseCopy();
  v.hidden = false;
  v.meta.snapshot_of = kParent;
  ASSERT_OK(Make(Ctx())->Introduced(Ctx(), v));
  std::vector<MethodCall> calls = xapi_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].params[1], Value(kParent));
  EXPECT_EQ(calls[1].params[18], Value("OpaqueRef:origin"));
}

TEST_F(XapiToolstackTest, ForgottenIgnoresAMissingRecord) {
  xapi_.answer = [](const MethodCall&) {
    return Failure({"UUID_INVALID", "VDI", kUuid});
  };
  ASSERT_OK(Make(Ctx())->Forgotten(Ctx(), kUuid));
  EXPECT_EQ(xapi_.methods(), std::vector<std::string>{"VDI.get_by_uuid"});
  xapi_.answer = [](const MethodCall& c) {
    return c.method == "VDI.get_by_uuid" ? Success("OpaqueRef:9") : Success("");
  };
  ASSERT_OK(Make(Ctx())->Forgotten(Ctx(), kUuid));
  std::vector<MethodCall> calls = xapi_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].method, "VDI.db_forget");
  EXPECT_EQ(calls[2].params[1], Value("OpaqueRef:9"));
}

TEST_F(XapiToolstackTest, UpdatedSetsSizesReadOnlyAndParent) {
  xapi_.answer = [](const MethodCall& c) {
    return c.method == "VDI.get_by_uuid" ? Success("OpaqueRef:9") : Success("");
  };
  Vdi v = BaseCopy();
  ASSERT_OK(Make(Ctx())->Updated(Ctx(), v));
  EXPECT_EQ(xapi_.methods(),
            (std::vector<std::string>{
                "VDI.get_by_uuid", "VDI.set_virtual_size",
                "VDI.set_physical_utilisation", "VDI.set_read_only",
                "VDI.remove_from_sm_config", "VDI.add_to_sm_config"}));
  std::vector<MethodCall> calls = xapi_.calls();
  EXPECT_EQ(calls[1].params[2], Value("107374182400"));
  EXPECT_EQ(calls[3].params[2], Value(true));
  EXPECT_EQ(calls[5].params[3], Value(kParent));
}

TEST_F(XapiToolstackTest, FailuresNameTheCall) {
  xapi_.answer = [](const MethodCall&) {
    return Failure({"INTERNAL_ERROR", "db locked"});
  };
  base::Status s = Make(Ctx())->Introduced(Ctx(), BaseCopy());
  EXPECT_EQ(s.message(),
            "XenAPI VDI.db_introduce: failed: INTERNAL_ERROR, db locked");
}

TEST_F(XapiToolstackTest, ConnectionRefusedIsClear) {
  // A socket file nobody listens on.
  std::string dead = dir_.Join("dead");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", dead.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  XapiToolstackOptions o;
  o.socket_path = dead;
  std::unique_ptr<Toolstack> ts = MakeXapiToolstack(Ctx(), o);
  ASSERT_NE(ts, nullptr);
  base::Status s = ts->Forgotten(Ctx(), kUuid);
  EXPECT_NE(s.message().find("XenAPI VDI.get_by_uuid: cannot reach xapi"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(dead), std::string::npos);
}

TEST_F(XapiToolstackTest, ScannedReconcilesByLocation) {
  // xapi knows: kUuid (stale size, a parent it no longer has), a VDI that
  // is gone, and a hidden leaf; the disk also has a VDI xapi does not know.
  const std::string fresh = "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901";
  const std::string gone = "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a12";
  const std::string deleted = "4d5e6f70-8192-43a4-b5c6-d7e8f90a1b23";
  xapi_.answer = [&](const MethodCall& c) {
    if (c.method != "VDI.get_all_records_where") return Success("");
    auto rec = [](const std::string& loc, const std::string& size,
                  Struct sm) -> Value {
      return Struct{{"location", loc},
                    {"virtual_size", size},
                    {"physical_utilisation", "3584"},
                    {"read_only", false},
                    {"sm_config", sm}};
    };
    return Success(Struct{
        {"OpaqueRef:a", rec(kUuid, "1", Struct{{"vhd-parent", kParent}})},
        {"OpaqueRef:gone", rec(gone, "8388608", Struct())},
        {"OpaqueRef:del", rec(deleted, "8388608", Struct())}});
  };
  std::map<std::string, Vdi> vdis;
  Vdi a;
  a.uuid = kUuid;
  a.virtual_size = 8 << 20;
  a.physical_utilisation = 3584;
  vdis[kUuid] = a;
  Vdi f = a;
  f.uuid = fresh;
  vdis[fresh] = f;
  Vdi d = a;
  d.uuid = deleted;
  d.hidden = true;
  vdis[deleted] = d;
  ASSERT_OK(Make(Ctx())->Scanned(Ctx(), vdis, 1000, 10752));
  std::vector<MethodCall> calls = xapi_.calls();
  std::vector<std::string> methods = xapi_.methods();
  ASSERT_EQ(methods,
            (std::vector<std::string>{
                "VDI.get_all_records_where", "VDI.set_virtual_size",
                "VDI.remove_from_sm_config", "VDI.db_introduce",
                "VDI.db_forget", "VDI.db_forget", "SR.set_physical_size",
                "SR.set_physical_utilisation", "SR.set_virtual_allocation"}));
  EXPECT_EQ(calls[0].params[1],
            Value(std::string("field \"SR\" = \"") + kSrRef + "\""));
  EXPECT_EQ(calls[3].params[1], Value(fresh));
  EXPECT_EQ(calls[4].params[1], Value("OpaqueRef:gone"));
  EXPECT_EQ(calls[5].params[1], Value("OpaqueRef:del"));
  EXPECT_EQ(calls[6].params[2], Value("1000"));
  EXPECT_EQ(calls[7].params[2], Value("10752"));
  EXPECT_EQ(calls[8].params[2], Value(std::to_string(2 * (8 << 20))));

  CallContext odd = Ctx();
  odd.sr_ref = "OpaqueRef:x\" or true";
  EXPECT_FALSE(Make(odd)->Scanned(odd, vdis, 0, 0).ok());
}

}  // namespace
}  // namespace vhdsm
