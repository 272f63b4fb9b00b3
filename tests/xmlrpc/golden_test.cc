// Golden tests: real documents in xapi's compact style, read and written
// back byte for byte.
#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace xmlrpc {
namespace {

// xapi-project/sm drivers/SRTest.txt, as xapi sends sr_get_driver_info.
constexpr char kSrTest[] =
    "<methodCall><methodName>sr_get_driver_info</methodName><params><param>"
    "<value><struct><member><name>host_ref</name><value>OpaqueRef:NULL</value>"
    "</member><member><name>command</name><value>sr_get_driver_info</value>"
    "</member><member><name>args</name><value><array><data/></array></value>"
    "</member><member><name>device_config</name><value><struct/></value>"
    "</member></struct></value></param></params></methodCall>";

TEST(GoldenTest, SrTestSampleParses) {
  Result<MethodCall> call = ParseMethodCall(kSrTest);
  ASSERT_OK(call) << call.fault().message;
  EXPECT_EQ(call.value().method, "sr_get_driver_info");
  ASSERT_EQ(call.value().params.size(), 1u);
  Value expected(Struct{{"host_ref", Value("OpaqueRef:NULL")},
                        {"command", Value("sr_get_driver_info")},
                        {"args", Value(Array{})},
                        {"device_config", Value(Struct{})}});
  EXPECT_EQ(call.value().params[0], expected);
}

TEST(GoldenTest, SrTestSampleWritesBackIdentically) {
  Result<MethodCall> call = ParseMethodCall(kSrTest);
  ASSERT_OK(call);
  Result<std::string> written = WriteMethodCall(call.value());
  ASSERT_OK(written) << written.fault().message;
  EXPECT_EQ(written.value(), kSrTest);
}

// A vdi_create as xapi would send it (member order of xmlrpc_of_call,
// untyped strings, <value/> for empty ones, SRmaster in device_config).
constexpr char kVdiCreate[] =
    "<methodCall><methodName>vdi_create</methodName><params><param><value>"
    "<struct><member><name>host_ref</name><value>OpaqueRef:133c7c46</value>"
    "</member><member><name>command</name><value>vdi_create</value></member>"
    "<member><name>args</name><value><array><data><value>10737418240</value>"
    "<value>\xe4\xb8\xad\xe6\x96\x87 0</value><value>Created by &lt;tpl&gt; "
    "&amp; co</value><value/><value>false</value><value>19700101T00:00:00Z"
    "</value><value/><value>false</value></data></array></value></member>"
    "<member><name>device_config</name><value><struct><member><name>SRmaster"
    "</name><value>true</value></member><member><name>location</name><value>"
    "/srv/sr1</value></member></struct></value></member><member><name>"
    "session_ref</name><value>OpaqueRef:c2c628b6</value></member><member>"
    "<name>sr_ref</name><value>OpaqueRef:c523a79a</value></member><member>"
    "<name>vdi_type</name><value>user</value></member><member><name>sr_uuid"
    "</name><value>13c4384e-897b-e745-6b3e-9a89c06537be</value></member>"
    "<member><name>vdi_sm_config</name><value><struct/></value></member>"
    "</struct></value></param></params></methodCall>";

TEST(GoldenTest, XapiVdiCreateRoundTripsByteForByte) {
  Result<MethodCall> call = ParseMethodCall(kVdiCreate);
  ASSERT_OK(call) << call.fault().message;
  const Struct& s = call.value().params.at(0).as_struct();
  EXPECT_EQ(s.members()[0].name, "host_ref");
  EXPECT_EQ(s.Find("args")->as_array()[1], Value("\xe4\xb8\xad\xe6\x96\x87 0"));
  EXPECT_EQ(s.Find("args")->as_array()[2], Value("Created by <tpl> & co"));
  EXPECT_EQ(s.Find("args")->as_array()[3], Value(""));
  EXPECT_EQ(*s.Find("device_config")->as_struct().Find("SRmaster"),
            Value("true"));
  EXPECT_EQ(WriteMethodCall(call.value()).value(), kVdiCreate);
}

// The result shapes of DESIGN.md section 4, as xapi's strict parser wants
// them: unit is <nil/>, vdi_info a struct of strings.
TEST(GoldenTest, SmapiResultShapes) {
  EXPECT_EQ(WriteResponse(Response(Value())).value(),
            "<methodResponse><params><param><value><nil/></value></param>"
            "</params></methodResponse>");
  Value vdi_info(Struct{{"uuid", Value("9d0e")}, {"location", Value("9d0e")}});
  EXPECT_EQ(WriteResponse(Response(vdi_info)).value(),
            "<methodResponse><params><param><value><struct><member><name>uuid"
            "</name><value>9d0e</value></member><member><name>location</name>"
            "<value>9d0e</value></member></struct></value></param></params>"
            "</methodResponse>");
  // A 64-bit size goes as a decimal string, never <i8>.
  EXPECT_EQ(WriteValue(Value(std::to_string(10737418240LL))).value(),
            "<value>10737418240</value>");
}

TEST(GoldenTest, PythonStyleResponsesParse) {
  // What sm's util.return_nil() prints.
  Result<Response> r = ParseMethodResponse(
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
      "<value><nil/></value></param>\n</params>\n</methodResponse>\n");
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value().value(), Value());
}

}  // namespace
}  // namespace xmlrpc
