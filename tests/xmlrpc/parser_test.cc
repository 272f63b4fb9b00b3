#include "xmlrpc/parser.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::Call;
using xmlrpc_test::Param;

// The single param of a call to "m" whose <value> is `value_xml`.
Value ParseOne(const std::string& value_xml) {
  Result<MethodCall> call = ParseMethodCall(Call("m", Param(value_xml)));
  EXPECT_OK(call) << value_xml << ": " << call.fault().message;
  if (!call.ok() || call.value().params.size() != 1) return Value("(error)");
  return call.value().params[0];
}

std::string ErrorOf(std::string_view doc) {
  Result<MethodCall> call = ParseMethodCall(doc);
  if (call.ok()) return "(parsed)";
  EXPECT_EQ(call.fault().code, interop::kParseError);
  return call.fault().message;
}

std::string ValueError(const std::string& value_xml) {
  return ErrorOf(Call("m", Param(value_xml)));
}

TEST(ParserTest, MethodCallWithoutParams) {
  auto call = ParseMethodCall(
      "<methodCall><methodName>a.b_c:d/e9</methodName>"
      "</methodCall>");
  ASSERT_OK(call) << call.fault().message;
  EXPECT_EQ(call.value().method, "a.b_c:d/e9");
  EXPECT_TRUE(call.value().params.empty());
  auto empty = ParseMethodCall(
      "<methodCall><methodName>m</methodName><params/></methodCall>");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty.value().params.empty());
}

TEST(ParserTest, WhitespaceBetweenElementsIsIgnored) {
  auto call = ParseMethodCall(
      "<?xml version='1.0'?>\n<methodCall>\n <methodName> m </methodName>\n"
      " <params>\n  <param>\n   <value> <int> 7 </int> </value>\n  </param>\n"
      " </params>\n</methodCall>\n");
  ASSERT_OK(call) << call.fault().message;
  EXPECT_EQ(call.value().method, "m");
  EXPECT_EQ(call.value().params, std::vector<Value>{Value(7)});
}

TEST(ParserTest, Strings) {
  EXPECT_EQ(ParseOne("<value>untyped &amp; &lt;ok&gt;</value>"),
            Value("untyped & <ok>"));
  EXPECT_EQ(ParseOne("<value/>"), Value(""));
  EXPECT_EQ(ParseOne("<value></value>"), Value(""));
  EXPECT_EQ(ParseOne("<value>  spaced  </value>"), Value("  spaced  "));
  EXPECT_EQ(ParseOne("<value><string> typed </string></value>"),
            Value(" typed "));
  EXPECT_EQ(ParseOne("<value><string/></value>"), Value(""));
  EXPECT_EQ(ParseOne("<value><string>\xe4\xb8\xad&#x1F600;</string></value>"),
            Value("\xe4\xb8\xad\xf0\x9f\x98\x80"));
  EXPECT_EQ(ParseOne("<value><string><![CDATA[<a>&]]></string></value>"),
            Value("<a>&"));
  EXPECT_EQ(ParseOne("<value>a&#xD;b</value>"), Value("a\rb"));
}

TEST(ParserTest, Integers) {
  EXPECT_EQ(ParseOne("<value><int>2147483647</int></value>"),
            Value(2147483647));
  EXPECT_EQ(ParseOne("<value><i4>-2147483648</i4></value>"),
            Value(static_cast<int32_t>(-2147483648LL)));
  EXPECT_EQ(ParseOne("<value><int>+5</int></value>"), Value(5));
  EXPECT_EQ(ParseOne("<value><i8>9223372036854775807</i8></value>"),
            Value::Int64(9223372036854775807LL));
  EXPECT_EQ(ParseOne("<value><i8>-42</i8></value>"), Value(-42));
  for (const char* bad :
       {"<int>2147483648</int>", "<i4>-2147483649</i4>", "<int></int>",
        "<int>1.0</int>", "<int>0x10</int>", "<int>1 2</int>", "<int>--1</int>",
        "<i8>9223372036854775808</i8>", "<int><b/></int>"}) {
    EXPECT_NE(ValueError(std::string("<value>") + bad + "</value>"), "(parsed)")
        << bad;
  }
}

TEST(ParserTest, Booleans) {
  EXPECT_EQ(ParseOne("<value><boolean>1</boolean></value>"), Value(true));
  EXPECT_EQ(ParseOne("<value><boolean>0</boolean></value>"), Value(false));
  EXPECT_EQ(ParseOne("<value><boolean> true </boolean></value>"), Value(true));
  EXPECT_EQ(ParseOne("<value><boolean>false</boolean></value>"), Value(false));
  EXPECT_NE(ValueError("<value><boolean>2</boolean></value>").find("boolean"),
            std::string::npos);
  EXPECT_NE(ValueError("<value><boolean/></value>"), "(parsed)");
}

TEST(ParserTest, Doubles) {
  EXPECT_EQ(ParseOne("<value><double>-12.214</double></value>"),
            Value(-12.214));
  EXPECT_EQ(ParseOne("<value><double>1e+16</double></value>"), Value(1e16));
  EXPECT_EQ(ParseOne("<value><double>+0.5</double></value>"), Value(0.5));
  EXPECT_EQ(ParseOne("<value><double>3</double></value>"), Value(3.0));
  Value nan = ParseOne("<value><double>NaN</double></value>");
  ASSERT_EQ(nan.type(), Value::Type::kDouble);
  EXPECT_TRUE(std::isnan(nan.as_double()));
  for (const char* bad :
       {"<double></double>", "<double>1,5</double>", "<double>0x1p3</double>",
        "<double>1e</double>", "<double>1.5x</double>"}) {
    EXPECT_NE(ValueError(std::string("<value>") + bad + "</value>"), "(parsed)")
        << bad;
  }
}

TEST(ParserTest, DateTimeBase64Nil) {
  Value t = ParseOne(
      "<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>");
  ASSERT_EQ(t.type(), Value::Type::kDateTime);
  EXPECT_EQ(t.as_datetime().Format(), "19980717T14:08:55");
  EXPECT_EQ(ParseOne("<value><base64>\nZm9v\nYmFy\n</base64></value>"),
            Value(Bytes{"foobar"}));
  EXPECT_EQ(ParseOne("<value><base64/></value>"), Value(Bytes{""}));
  EXPECT_EQ(ParseOne("<value><nil/></value>"), Value());
  EXPECT_EQ(ParseOne("<value><nil> </nil></value>"), Value());
  EXPECT_NE(ValueError("<value><nil>x</nil></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><base64>!!</base64></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><dateTime.iso8601>yesterday</dateTime.iso8601>"
                       "</value>"),
            "(parsed)");
}

TEST(ParserTest, ArraysAndStructs) {
  Value v = ParseOne(
      "<value><struct><member><name>b</name><value><array><data>"
      "<value><i4>1</i4></value><value>x</value><value><array><data/></array>"
      "</value></data></array></value></member><member><value><struct/>"
      "</value><name>a</name></member><member><name/><value/></member>"
      "</struct></value>");
  Value expected(
      Struct{{"b", Value(Array{Value(1), Value("x"), Value(Array{})})},
             {"a", Value(Struct{})},
             {"", Value("")}});
  EXPECT_EQ(v, expected);
}

TEST(ParserTest, StructErrors) {
  EXPECT_NE(ValueError("<value><struct><member><name>a</name><value>1</value>"
                       "</member><member><name>a</name><value>2</value>"
                       "</member></struct></value>")
                .find("duplicate"),
            std::string::npos);
  EXPECT_NE(ValueError("<value><struct><member><name>a</name></member>"
                       "</struct></value>"),
            "(parsed)");
  EXPECT_NE(ValueError("<value><struct><member><name>a</name><value/><value/>"
                       "</member></struct></value>"),
            "(parsed)");
  EXPECT_NE(ValueError("<value><struct><value/></struct></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><struct>text</struct></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><struct><member><name><b/></name><value/>"
                       "</member></struct></value>"),
            "(parsed)");
}

TEST(ParserTest, ArrayErrors) {
  EXPECT_NE(ValueError("<value><array/></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><array><data/><data/></array></value>"),
            "(parsed)");
  EXPECT_NE(ValueError("<value><array><data><int>1</int></data></array>"
                       "</value>"),
            "(parsed)");
  EXPECT_NE(ValueError("<value><array><data>x<value/></data></array></value>"),
            "(parsed)");
}

TEST(ParserTest, ValueErrors) {
  EXPECT_NE(ValueError("<value><float>1</float></value>").find("unknown"),
            std::string::npos);
  EXPECT_NE(ValueError("<value>text<int>1</int></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><int>1</int><int>2</int></value>"), "(parsed)");
  EXPECT_NE(ValueError("<value><value/></value>"), "(parsed)");
}

TEST(ParserTest, ValueDepthLimit) {
  Limits limits;
  limits.max_value_depth = 3;
  std::string ok = "<value>x</value>", deep;
  for (int i = 0; i < 3; ++i)
    ok = "<value><array><data>" + ok + "</data></array></value>";
  deep = "<value><array><data>" + ok + "</data></array></value>";
  EXPECT_OK(ParseMethodCall(Call("m", Param(ok)), limits));
  Result<MethodCall> r = ParseMethodCall(Call("m", Param(deep)), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.fault().message.find("too deep"), std::string::npos);
}

TEST(ParserTest, EnvelopeErrors) {
  EXPECT_NE(ErrorOf("<methodResponse><params/></methodResponse>")
                .find("expected <methodCall>"),
            std::string::npos);
  EXPECT_NE(ErrorOf("<methodCall></methodCall>"), "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall><params/></methodCall>"), "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall><methodName>m</methodName><params/><x/>"
                    "</methodCall>"),
            "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall><methodName>m</methodName><params><value/>"
                    "</params></methodCall>"),
            "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall><methodName>m</methodName><params><param/>"
                    "</params></methodCall>"),
            "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall><methodName>bad name</methodName>"
                    "</methodCall>")
                .find("method name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("<methodCall><methodName></methodName></methodCall>"),
            "(parsed)");
  EXPECT_NE(ErrorOf("<methodCall>x<methodName>m</methodName></methodCall>"),
            "(parsed)");
}

TEST(ParserTest, IsValidMethodName) {
  EXPECT_TRUE(IsValidMethodName("system.multicall"));
  EXPECT_TRUE(IsValidMethodName("vdi_create"));
  EXPECT_TRUE(IsValidMethodName("a:b/c"));
  EXPECT_FALSE(IsValidMethodName(""));
  EXPECT_FALSE(IsValidMethodName("a b"));
  EXPECT_FALSE(IsValidMethodName("a-b"));
  EXPECT_FALSE(IsValidMethodName("\xc3\xa9"));
  EXPECT_FALSE(IsValidMethodName(std::string(257, 'a')));
}

TEST(ParserTest, MethodResponseWithValue) {
  auto r = ParseMethodResponse(
      "<methodResponse><params><param><value><nil/></value></param></params>"
      "</methodResponse>");
  ASSERT_OK(r) << r.fault().message;
  ASSERT_OK(r.value());
  EXPECT_EQ(r.value().value(), Value());
}

TEST(ParserTest, MethodResponseWithFault) {
  auto r = ParseMethodResponse(
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n"
      "<member>\n<name>faultCode</name>\n<value><int>22</int></value>\n"
      "</member>\n<member>\n<name>faultString</name>\n<value><string>"
      "[UnitTest] SRException thrown</string></value>\n</member>\n"
      "</struct></value>\n</fault>\n</methodResponse>\n");
  ASSERT_OK(r) << r.fault().message;
  ASSERT_FALSE(r.value().ok());
  EXPECT_EQ(r.value().fault(), (Fault{22, "[UnitTest] SRException thrown"}));
  // faultString untyped, faultCode as <i4>: still a fault.
  auto untyped = ParseMethodResponse(
      "<methodResponse><fault><value><struct><member><name>faultString</name>"
      "<value>x</value></member><member><name>faultCode</name><value><i4>-1"
      "</i4></value></member></struct></value></fault></methodResponse>");
  ASSERT_OK(untyped);
  EXPECT_EQ(untyped.value().fault(), (Fault{-1, "x"}));
}

TEST(ParserTest, MethodResponseErrors) {
  for (const char* bad : {
           "<methodResponse/>",
           "<methodResponse><params/></methodResponse>",
           "<methodResponse><params><param><value/></param><param><value/>"
           "</param></params></methodResponse>",
           "<methodResponse><fault><value>x</value></fault></methodResponse>",
           "<methodResponse><fault><value><struct><member><name>faultCode"
           "</name><value>1</value></member><member><name>faultString</name>"
           "<value>x</value></member></struct></value></fault>"
           "</methodResponse>",
           "<methodResponse><fault><value><struct/></value></fault>"
           "</methodResponse>",
           "<methodResponse><params/><fault/></methodResponse>",
           "<methodCall><methodName>m</methodName></methodCall>",
       }) {
    auto r = ParseMethodResponse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.fault().code, interop::kParseError);
    }
  }
}

}  // namespace
}  // namespace xmlrpc
