#include "xmlrpc/dispatcher.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::Call;
using xmlrpc_test::Param;

Response Reply(const Dispatcher& d, const std::string& request) {
  Result<Response> r = ParseMethodResponse(d.Handle(request));
  EXPECT_OK(r) << "Handle wrote an invalid response";
  return r.ok() ? r.value() : Response(Fault{0, "(invalid)"});
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    d_.Register("add",
                [](const Params& p) -> Response {
                  return Value(p.IntAt(0) + p.IntAt(1));
                },
                {"Adds two ints.", {{"int", {"int", "int"}}}});
    d_.Register("unchecked", [](const Params& p) -> Response {
      p.ExpectCount(1);
      return Value(p.StringAt(0) + "!");
    });
    d_.Register("fails", [](const Params&) -> Response {
      return Fault{44, "There is insufficient space"};
    });
    d_.Register("throws", [](const Params&) -> Response {
      throw std::runtime_error("boom");
    });
    d_.Register("throws_int", [](const Params&) -> Response { throw 7; });
    d_.Register("huge", [](const Params&) -> Response {
      return Value::Int64(int64_t{1} << 40);
    });
    d_.Register("either", [](const Params& p) -> Response { return p.At(0); },
                {"", {{"int", {"int"}}, {"string", {"string", "any"}}}});
  }
  Dispatcher d_;
};

TEST_F(DispatcherTest, CallsTheHandler) {
  Response r = d_.Call(MethodCall{"add", {Value(2), Value(40)}});
  ASSERT_OK(r);
  EXPECT_EQ(r.value(), Value(42));
  EXPECT_EQ(d_.Handle(Call("add", Param("<value><int>2</int></value>") +
                                      Param("<value><i4>3</i4></value>"))),
            "<methodResponse><params><param><value><int>5</int></value>"
            "</param></params></methodResponse>");
}

TEST_F(DispatcherTest, DefaultFaultsAreSmapiV1) {
  Response unknown = Reply(d_, Call("sr_probe", ""));
  EXPECT_EQ(unknown.fault(),
            (Fault{38,
                   "The requested method is not supported/implemented "
                   "[opterr=sr_probe]"}));
  Response parse = Reply(d_, "<methodCall>");
  EXPECT_EQ(parse.fault().code, 143);
  EXPECT_EQ(
      parse.fault().message.rfind("Failed to parse the request [opterr=", 0),
      0u);
}

TEST_F(DispatcherTest, SignatureChecksArityAndTypes) {
  Response arity = d_.Call(MethodCall{"add", {Value(1)}});
  EXPECT_EQ(arity.fault(),
            (Fault{143,
                   "Failed to parse the request [opterr=add takes 2 "
                   "params, got 1]"}));
  Response type = d_.Call(MethodCall{"add", {Value(1), Value("2")}});
  EXPECT_EQ(type.fault(),
            (Fault{143,
                   "Failed to parse the request [opterr=add: param 2 "
                   "must be int, not string]"}));
  EXPECT_OK(d_.Call(MethodCall{"either", {Value(1)}}));
  EXPECT_OK(d_.Call(MethodCall{"either", {Value("a"), Value()}}));
  Response neither = d_.Call(MethodCall{"either", {Value(1.5)}});
  EXPECT_NE(neither.fault().message.find("param 1 must be int, not double"),
            std::string::npos);
  Response counts = d_.Call(MethodCall{"either", {}});
  EXPECT_NE(counts.fault().message.find("takes 1 or 2 params, got 0"),
            std::string::npos);
}

TEST_F(DispatcherTest, ParamErrorFromHandlerIsBadParams) {
  Response r = d_.Call(MethodCall{"unchecked", {Value(1)}});
  EXPECT_EQ(r.fault(), (Fault{143,
                              "Failed to parse the request [opterr="
                              "unchecked: param 1 must be string, not "
                              "int]"}));
  EXPECT_EQ(d_.Call(MethodCall{"unchecked", {Value("a")}}).value(),
            Value("a!"));
}

TEST_F(DispatcherTest, HandlerFaultsPassThrough) {
  EXPECT_EQ(Reply(d_, Call("fails", "")).fault(),
            (Fault{44, "There is insufficient space"}));
}

TEST_F(DispatcherTest, ExceptionsBecomeInternalErrors) {
  EXPECT_EQ(d_.Call(MethodCall{"throws", {}}).fault(),
            (Fault{202, "General backend error [opterr=throws: boom]"}));
  EXPECT_EQ(d_.Call(MethodCall{"throws_int", {}}).fault().code, 202);
}

TEST_F(DispatcherTest, UnwritableResultBecomesAFault) {
  Dispatcher::Outcome outcome;
  std::string out = d_.Handle(Call("huge", ""), &outcome);
  Result<Response> r = ParseMethodResponse(out);
  ASSERT_OK(r);
  EXPECT_EQ(r.value().fault().code, 202);
  EXPECT_NE(r.value().fault().message.find("32 bits"), std::string::npos);
  EXPECT_EQ(outcome.method, "huge");
  ASSERT_TRUE(outcome.fault.has_value());
  EXPECT_EQ(outcome.fault->code, 202);
}

TEST_F(DispatcherTest, OutcomeReportsMethodAndFault) {
  Dispatcher::Outcome outcome;
  d_.Handle(Call("add", Param("<value><int>1</int></value>") +
                            Param("<value><int>1</int></value>")),
            &outcome);
  EXPECT_EQ(outcome.method, "add");
  EXPECT_FALSE(outcome.fault.has_value());
  d_.Handle("junk", &outcome);
  EXPECT_EQ(outcome.method, "");
  ASSERT_TRUE(outcome.fault.has_value());
  EXPECT_EQ(outcome.fault->code, 143);
}

TEST_F(DispatcherTest, RegistryQueries) {
  EXPECT_TRUE(d_.Has("add"));
  EXPECT_TRUE(d_.Has("system.multicall"));
  EXPECT_FALSE(d_.Has("nope"));
  std::vector<std::string> names = d_.MethodNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "add");
}

// The caller's Peer reaches the handler, through system.multicall too;
// without one the call counts as in-process.
TEST(DispatcherPeerTest, HandlersSeeThePeer) {
  Dispatcher d;
  d.Register("whoami", [](const Params& p) -> Response {
    const Peer& peer = p.peer();
    std::string t = peer.transport == Peer::Transport::kUnix  ? "unix"
                    : peer.transport == Peer::Transport::kTcp ? "tcp"
                                                              : "inprocess";
    return Value(t + ":" + std::to_string(peer.uid));
  });
  Peer unix_root;
  unix_root.transport = Peer::Transport::kUnix;
  unix_root.uid = 0;
  EXPECT_TRUE(unix_root.IsRootOverUnix());
  Peer tcp;
  tcp.transport = Peer::Transport::kTcp;
  EXPECT_FALSE(tcp.IsRootOverUnix());
  EXPECT_FALSE(Peer().IsRootOverUnix());

  EXPECT_EQ(d.Call(MethodCall{"whoami", {}}).value(), Value("inprocess:-1"));
  EXPECT_EQ(d.Call(MethodCall{"whoami", {}}, unix_root).value(),
            Value("unix:0"));
  std::string one = Call("whoami", "");
  Result<Response> r = ParseMethodResponse(d.Handle(one, nullptr, tcp));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().value(), Value("tcp:-1"));
  std::string multi = Call(
      "system.multicall",
      Param("<value><array><data><value><struct><member><name>methodName"
            "</name><value>whoami</value></member><member><name>params</name>"
            "<value><array><data/></array></value></member></struct></value>"
            "</data></array></value>"));
  r = ParseMethodResponse(d.Handle(multi, nullptr, unix_root));
  ASSERT_OK(r);
  EXPECT_EQ(r.value().value(), Value(Array{Value(Array{Value("unix:0")})}));
}

TEST(DispatcherOptionsTest, RegisterValidatesNamesAndTypes) {
  Dispatcher d;
  Handler h = [](const Params&) -> Response { return Value(); };
  EXPECT_THROW(d.Register("bad name", h), std::invalid_argument);
  EXPECT_THROW(d.Register("m", h, {"", {{"integer", {}}}}),
               std::invalid_argument);
  EXPECT_THROW(d.Register("m", h, {"", {{"int", {"str"}}}}),
               std::invalid_argument);
  EXPECT_NO_THROW(
      d.Register("m", h, {"", {{"nil", {"any", "dateTime.iso8601"}}}}));
}

TEST(DispatcherOptionsTest, InteropPolicyAndPythonStyle) {
  Dispatcher::Options options;
  options.faults = FaultPolicy::Interop();
  options.style = Style::kPython;
  Dispatcher d(options);
  d.Register("nil", [](const Params&) -> Response { return Value(); });
  EXPECT_EQ(d.Handle(Call("nil", "")),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
            "<value><nil/></value></param>\n</params>\n</methodResponse>\n");
  Response unknown = Reply(d, Call("nope", ""));
  EXPECT_EQ(unknown.fault(), (Fault{-32601, "Method not found [opterr=nope]"}));
  EXPECT_EQ(Reply(d, "<x/>").fault().code, -32700);
  EXPECT_EQ(Reply(d, Call("nil", Param("<value/>"))).ok(), true);
}

TEST(DispatcherOptionsTest, SystemMethodsCanBeLeftOut) {
  Dispatcher::Options options;
  options.system_methods = false;
  Dispatcher d(options);
  EXPECT_FALSE(d.Has("system.listMethods"));
  EXPECT_TRUE(d.MethodNames().empty());
}

TEST(DispatcherOptionsTest, LimitsApply) {
  Dispatcher::Options options;
  options.limits.max_body_bytes = 80;
  Dispatcher d(options);
  d.Register("m", [](const Params&) -> Response { return Value(); });
  EXPECT_OK(Reply(d, Call("m", "")));
  Response big = Reply(
      d, Call("m", Param("<value>" + std::string(100, 'x') + "</value>")));
  EXPECT_NE(big.fault().message.find("too large"), std::string::npos);
}

}  // namespace
}  // namespace xmlrpc
