#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "xmlrpc/dispatcher.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

class SystemMethodsTest : public ::testing::Test {
 protected:
  SystemMethodsTest() {
    d_.Register("sum",
                [](const Params& p) -> Response {
                  return Value(p.IntAt(0) + p.IntAt(1));
                },
                {"Adds two ints.", {{"int", {"int", "int"}}}});
    d_.Register("nosig", [](const Params&) -> Response { return Value(); },
                {"No signature.", {}});
    d_.Register("fail", [](const Params&) -> Response {
      return Fault{46, "The VDI is not available"};
    });
    d_.Register("huge", [](const Params&) -> Response {
      return Value::Int64(int64_t{1} << 40);
    });
  }

  Response Call(const std::string& method, std::vector<Value> params) {
    return d_.Call(MethodCall{method, std::move(params)});
  }

  static Value Entry(const std::string& method, Array params) {
    return Value(Struct{{"methodName", Value(method)},
                        {"params", Value(std::move(params))}});
  }

  Dispatcher d_;
};

TEST_F(SystemMethodsTest, ListMethods) {
  Response r = Call("system.listMethods", {});
  ASSERT_OK(r);
  Array expected;
  for (const char* name :
       {"fail", "huge", "nosig", "sum", "system.listMethods",
        "system.methodHelp", "system.methodSignature", "system.multicall"}) {
    expected.push_back(Value(name));
  }
  EXPECT_EQ(r.value(), Value(expected));
}

TEST_F(SystemMethodsTest, MethodHelp) {
  EXPECT_EQ(Call("system.methodHelp", {Value("sum")}).value(),
            Value("Adds two ints."));
  EXPECT_EQ(Call("system.methodHelp", {Value("missing")}).fault().code, 38);
  EXPECT_EQ(Call("system.methodHelp", {}).fault().code, 143);
}

TEST_F(SystemMethodsTest, MethodSignature) {
  EXPECT_EQ(
      Call("system.methodSignature", {Value("sum")}).value(),
      Value(Array{Value(Array{Value("int"), Value("int"), Value("int")})}));
  EXPECT_EQ(Call("system.methodSignature", {Value("nosig")}).value(),
            Value("undef"));
  EXPECT_EQ(Call("system.methodSignature", {Value("system.multicall")}).value(),
            Value(Array{Value(Array{Value("array"), Value("array")})}));
  EXPECT_EQ(Call("system.methodSignature", {Value("missing")}).fault().code,
            38);
}

TEST_F(SystemMethodsTest, MultiCallMixesResultsAndFaults) {
  Response r =
      Call("system.multicall", {Value(Array{
                                   Entry("sum", {Value(1), Value(2)}),
                                   Entry("fail", {}),
                                   Entry("missing", {}),
                                   Entry("sum", {Value("x")}),
                                   Entry("system.multicall", {Value(Array{})}),
                                   Value("not a struct"),
                                   Value(Struct{{"methodName", Value("sum")}}),
                                   Entry("huge", {}),
                                   Entry("system.listMethods", {}),
                               })});
  ASSERT_OK(r) << r.fault().message;
  const Array& results = r.value().as_array();
  ASSERT_EQ(results.size(), 9u);
  EXPECT_EQ(results[0], Value(Array{Value(3)}));
  auto fault_of = [](const Value& v) {
    const Struct& s = v.as_struct();
    EXPECT_EQ(s.size(), 2u);
    return Fault{static_cast<int>(s.Find("faultCode")->as_int()),
                 s.Find("faultString")->as_string()};
  };
  EXPECT_EQ(fault_of(results[1]), (Fault{46, "The VDI is not available"}));
  EXPECT_EQ(fault_of(results[2]).code, 38);
  EXPECT_EQ(fault_of(results[3]).code, 143);
  EXPECT_NE(fault_of(results[4]).message.find("recursive"), std::string::npos);
  EXPECT_NE(fault_of(results[5]).message.find("must be a struct"),
            std::string::npos);
  EXPECT_NE(fault_of(results[6]).message.find("params"), std::string::npos);
  EXPECT_EQ(fault_of(results[7]).code, 202);
  EXPECT_EQ(results[8].as_array().size(), 1u);
  EXPECT_EQ(results[8].as_array()[0].as_array().size(), 8u);
}

TEST_F(SystemMethodsTest, MultiCallOverTheWire) {
  std::string request =
      "<methodCall><methodName>system.multicall</methodName><params><param>"
      "<value><array><data><value><struct><member><name>methodName</name>"
      "<value>sum</value></member><member><name>params</name><value><array>"
      "<data><value><int>20</int></value><value><int>22</int></value></data>"
      "</array></value></member></struct></value></data></array></value>"
      "</param></params></methodCall>";
  EXPECT_EQ(d_.Handle(request),
            "<methodResponse><params><param><value><array><data><value><array>"
            "<data><value><int>42</int></value></data></array></value></data>"
            "</array></value></param></params></methodResponse>");
  // A multicall that is not an array of calls is itself a fault.
  EXPECT_EQ(Call("system.multicall", {Value("x")}).fault().code, 143);
}

}  // namespace
}  // namespace xmlrpc
