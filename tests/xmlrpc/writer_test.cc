#include "xmlrpc/writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/util/status_matchers.h"

namespace xmlrpc {
namespace {

std::string Compact(const Value& v) {
  Result<std::string> r = WriteValue(v, Style::kCompact);
  EXPECT_OK(r) << r.fault().message;
  return r.ok() ? r.value() : "";
}

std::string Python(const Value& v) {
  Result<std::string> r = WriteValue(v, Style::kPython);
  EXPECT_OK(r) << r.fault().message;
  return r.ok() ? r.value() : "";
}

TEST(WriterTest, CompactScalars) {
  EXPECT_EQ(Compact(Value()), "<value><nil/></value>");
  EXPECT_EQ(Compact(Value(true)), "<value><boolean>1</boolean></value>");
  EXPECT_EQ(Compact(Value(false)), "<value><boolean>0</boolean></value>");
  EXPECT_EQ(Compact(Value(-2147483647 - 1)),
            "<value><int>-2147483648</int></value>");
  EXPECT_EQ(Compact(Value::Int64(7)), "<value><int>7</int></value>");
  EXPECT_EQ(Compact(Value(0.1)), "<value><double>0.1</double></value>");
  EXPECT_EQ(Compact(Value(1e16)),
            "<value><double>10000000000000000</double></value>");
  EXPECT_EQ(Compact(Value(-1.5e-7)),
            "<value><double>-0.00000015</double></value>");
  EXPECT_EQ(Compact(Value("a<b>&\"c'")),
            "<value>a&lt;b&gt;&amp;&quot;c'</value>");
  EXPECT_EQ(Compact(Value("")), "<value/>");
  EXPECT_EQ(Compact(Value("cr\r")), "<value>cr&#xD;</value>");
  EXPECT_EQ(Compact(Value(*DateTime::Parse("19700101T00:00:00Z"))),
            "<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601>"
            "</value>");
  EXPECT_EQ(Compact(Value(Bytes{"foobar"})),
            "<value><base64>Zm9vYmFy</base64></value>");
}

TEST(WriterTest, CompactContainersAsXapiWritesThem) {
  EXPECT_EQ(Compact(Value(Array{})), "<value><array><data/></array></value>");
  EXPECT_EQ(Compact(Value(Struct{})), "<value><struct/></value>");
  EXPECT_EQ(Compact(Value(Array{Value(1), Value("x")})),
            "<value><array><data><value><int>1</int></value><value>x</value>"
            "</data></array></value>");
  EXPECT_EQ(
      Compact(Value(Struct{{"b", Value(1)}, {"a", Value()}, {"", Value("")}})),
      "<value><struct><member><name>b</name><value><int>1</int></value>"
      "</member><member><name>a</name><value><nil/></value></member>"
      "<member><name/><value/></member></struct></value>");
}

TEST(WriterTest, NeverWritesI8OrAttributes) {
  Result<std::string> big = WriteValue(Value::Int64(int64_t{1} << 32));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.fault().code, interop::kInternalError);
  EXPECT_NE(big.fault().message.find("string"), std::string::npos);
  EXPECT_FALSE(WriteValue(Value::Int64(-(int64_t{1} << 31) - 1)).ok());
  std::string all =
      Compact(Value(Array{Value(1), Value(Struct{{"a", Value(true)}})}));
  EXPECT_EQ(all.find("i8"), std::string::npos);
  EXPECT_EQ(all.find('='), std::string::npos);  // no attributes
}

TEST(WriterTest, RefusesWhatItCannotWriteFaithfully) {
  EXPECT_FALSE(WriteValue(Value(std::nan(""))).ok());
  EXPECT_FALSE(WriteValue(Value(std::numeric_limits<double>::infinity())).ok());
  EXPECT_FALSE(WriteValue(Value("bad \x01 control")).ok());
  EXPECT_FALSE(WriteValue(Value("bad \xff utf8")).ok());
  EXPECT_FALSE(WriteValue(Value(Struct{{"\x02", Value(1)}})).ok());
  DateTime t;
  t.month = 0;
  EXPECT_FALSE(WriteValue(Value(t)).ok());
  EXPECT_FALSE(WriteMethodCall(MethodCall{"bad name", {}}).ok());
  Value deep("leaf");
  for (int i = 0; i < 1001; ++i) deep = Value(Array{deep});
  EXPECT_FALSE(WriteValue(deep).ok());
}

TEST(WriterTest, CompactMethodCallAndResponses) {
  EXPECT_EQ(WriteMethodCall(MethodCall{"m", {}}).value(),
            "<methodCall><methodName>m</methodName><params/></methodCall>");
  EXPECT_EQ(WriteMethodCall(MethodCall{"m", {Value(1), Value("s")}}).value(),
            "<methodCall><methodName>m</methodName><params><param><value><int>"
            "1</int></value></param><param><value>s</value></param></params>"
            "</methodCall>");
  EXPECT_EQ(WriteResponse(Response(Value())).value(),
            "<methodResponse><params><param><value><nil/></value></param>"
            "</params></methodResponse>");
  EXPECT_EQ(WriteResponse(Response(Fault{44, "x"})).value(),
            WriteFault(Fault{44, "x"}));
  EXPECT_FALSE(WriteResponse(Response(Value::Int64(int64_t{1} << 40))).ok());
}

// research/sm.md 1.4: the fault form xapi reads (faultCode <int>,
// faultString <string>).
TEST(WriterTest, CompactFault) {
  EXPECT_EQ(WriteFault(Fault{143, "Failed to parse the request"}),
            "<methodResponse><fault><value><struct><member><name>faultCode"
            "</name><value><int>143</int></value></member><member><name>"
            "faultString</name><value><string>Failed to parse the request"
            "</string></value></member></struct></value></fault>"
            "</methodResponse>");
}

TEST(WriterTest, FaultMessagesAreEscapedAndRepaired) {
  std::string out = WriteFault(Fault{1, "a<b & \x01 \xff"});
  EXPECT_NE(out.find("<string>a&lt;b &amp; \xef\xbf\xbd \xef\xbf\xbd</string>"),
            std::string::npos)
      << out;
}

// xapi-project/sm tests/test_SRCommand.py test_run_print_xml_error_if_
// SRException: the exact bytes sm prints for a fault (print() adds the
// final newline).
TEST(WriterTest, PythonStyleFaultMatchesSmTestSRCommand) {
  const std::string expected_out =
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"
      "<value><struct>\n<member>\n<name>faultCode</name>\n"
      "<value><int>22</int></value>\n</member>\n<member>\n"
      "<name>faultString</name>\n<value><string>[UnitTest] "
      "SRException thrown</string></value>\n</member>\n"
      "</struct></value>\n</fault>\n</methodResponse>\n\n";
  EXPECT_EQ(
      WriteFault(Fault{22, "[UnitTest] SRException thrown"}, Style::kPython) +
          "\n",
      expected_out);
}

// xmlrpc.client.dumps((None,), methodresponse=True, allow_none=True)
TEST(WriterTest, PythonStyleNilResponse) {
  EXPECT_EQ(WriteResponse(Response(Value()), Style::kPython).value(),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
            "<value><nil/></value></param>\n</params>\n</methodResponse>\n");
}

// Byte for byte what CPython 3.11 printed for
//   xmlrpc.client.dumps((1, True, 1.5, 'a<&>"\'', b'\0' * 60,
//       {'a': [], 'b': {}}, [1, [2]],
//       xmlrpc.client.DateTime('20000101T00:00:00Z'), b'', 1e16, 1e-5, 0.1),
//       'm.n', allow_none=True)
TEST(WriterTest, PythonStyleMethodCallMatchesCPython) {
  MethodCall call{"m.n",
                  {Value(1), Value(true), Value(1.5), Value("a<&>\"'"),
                   Value(Bytes{std::string(60, '\0')}),
                   Value(Struct{{"a", Value(Array{})}, {"b", Value(Struct{})}}),
                   Value(Array{Value(1), Value(Array{Value(2)})}),
                   Value(*DateTime::Parse("20000101T00:00:00Z")),
                   Value(Bytes{""}), Value(1e16), Value(1e-5), Value(0.1)}};
  const std::string expected =
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>m.n</methodName>\n"
      "<params>\n<param>\n<value><int>1</int></value>\n</param>\n<param>\n"
      "<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><double>"
      "1.5</double></value>\n</param>\n<param>\n<value><string>a&lt;&amp;&gt;"
      "\"'</string></value>\n</param>\n<param>\n<value><base64>\n"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      "AAAA\nAAAA\n</base64></value>\n</param>\n<param>\n<value><struct>\n"
      "<member>\n<name>a</name>\n<value><array><data>\n</data></array></value>"
      "\n</member>\n<member>\n<name>b</name>\n<value><struct>\n</struct>"
      "</value>\n</member>\n</struct></value>\n</param>\n<param>\n<value>"
      "<array><data>\n<value><int>1</int></value>\n<value><array><data>\n"
      "<value><int>2</int></value>\n</data></array></value>\n</data></array>"
      "</value>\n</param>\n<param>\n<value><dateTime.iso8601>"
      "20000101T00:00:00Z</dateTime.iso8601></value>\n</param>\n<param>\n"
      "<value><base64>\n</base64></value>\n</param>\n<param>\n<value><double>"
      "1e+16</double></value>\n</param>\n<param>\n<value><double>1e-05"
      "</double></value>\n</param>\n<param>\n<value><double>0.1</double>"
      "</value>\n</param>\n</params>\n</methodCall>\n";
  Result<std::string> written = WriteMethodCall(call, Style::kPython);
  ASSERT_OK(written) << written.fault().message;
  EXPECT_EQ(written.value(), expected);
}

TEST(WriterTest, PythonStyleNilInArrayHasNoNewline) {
  EXPECT_EQ(Python(Value(Array{Value(), Value(1)})),
            "<value><array><data>\n<value><nil/></value><value><int>1</int>"
            "</value>\n</data></array></value>\n");
}

TEST(WriterTest, PythonFloatReprMatchesCPython) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {0.1, "0.1"},
      {1.5, "1.5"},
      {-12.214, "-12.214"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},
      {1.5e16, "1.5e+16"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {1e-4, "0.0001"},
      {1e-5, "1e-05"},
      {1.25e-7, "1.25e-07"},
      {1e100, "1e+100"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.30000000000000004, "0.30000000000000004"},
      {100.0, "100.0"},
      {9999999999999998.0, "9999999999999998.0"},
  };
  for (auto [d, repr] : cases) EXPECT_EQ(PythonFloatRepr(d), repr) << repr;
  EXPECT_EQ(PythonFloatRepr(std::nan("")), "nan");
  EXPECT_EQ(PythonFloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace xmlrpc
