#include "xmlrpc/params.h"

#include <gtest/gtest.h>

namespace xmlrpc {
namespace {

std::string MessageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ParamError& e) {
    return e.what();
  }
  return "(no ParamError)";
}

TEST(ParamsTest, TypedAccessors) {
  std::vector<Value> v = {Value(true),    Value(5),          Value(2.5),
                          Value("s"),     Value(DateTime{}), Value(Bytes{"b"}),
                          Value(Array{}), Value(Struct{})};
  Params p("m", v);
  EXPECT_EQ(p.size(), 8u);
  EXPECT_TRUE(p.BoolAt(0));
  EXPECT_EQ(p.IntAt(1), 5);
  EXPECT_DOUBLE_EQ(p.DoubleAt(2), 2.5);
  EXPECT_DOUBLE_EQ(p.DoubleAt(1), 5.0);  // an int is a number too
  EXPECT_EQ(p.StringAt(3), "s");
  EXPECT_EQ(p.DateTimeAt(4), DateTime{});
  EXPECT_EQ(p.Base64At(5).data, "b");
  EXPECT_TRUE(p.ArrayAt(6).empty());
  EXPECT_TRUE(p.StructAt(7).empty());
  EXPECT_NO_THROW(p.ExpectCount(8));
}

TEST(ParamsTest, ErrorsNameMethodPositionAndTypes) {
  std::vector<Value> v = {Value(1)};
  Params p("vdi_create", v);
  EXPECT_EQ(MessageOf([&] { p.StringAt(0); }),
            "vdi_create: param 1 must be string, not int");
  EXPECT_EQ(MessageOf([&] { p.At(1); }),
            "vdi_create needs at least 2 params, got 1");
  EXPECT_EQ(MessageOf([&] { p.ExpectCount(2); }),
            "vdi_create takes 2 params, got 1");
  EXPECT_EQ(MessageOf([&] { p.ExpectCount(0); }),
            "vdi_create takes 0 params, got 1");
}

TEST(ParamsTest, IntAtRefusesI8BeyondThirtyTwoBits) {
  std::vector<Value> v = {Value::Int64(int64_t{1} << 33), Value::Int64(-3)};
  Params p("m", v);
  EXPECT_NE(MessageOf([&] { p.IntAt(0); }).find("32-bit"), std::string::npos);
  EXPECT_EQ(p.IntAt(1), -3);
}

TEST(ParamsTest, StructMembers) {
  Struct s{{"sr_uuid", Value("u")},
           {"n", Value(3)},
           {"b", Value(false)},
           {"device_config", Value(Struct{{"location", Value("/x")}})},
           {"args", Value(Array{Value("1")})}};
  EXPECT_EQ(RequireString(s, "sr_uuid"), "u");
  EXPECT_EQ(RequireInt(s, "n"), 3);
  EXPECT_FALSE(RequireBool(s, "b"));
  EXPECT_EQ(RequireString(RequireStruct(s, "device_config"), "location"), "/x");
  EXPECT_EQ(RequireArray(s, "args").size(), 1u);
  EXPECT_EQ(RequireMember(s, "n"), Value(3));
  EXPECT_EQ(OptionalString(s, "vdi_uuid", "none"), "none");
  EXPECT_EQ(OptionalString(s, "sr_uuid", "none"), "u");
  EXPECT_EQ(MessageOf([&] { RequireString(s, "vdi_uuid"); }),
            "missing member 'vdi_uuid'");
  EXPECT_EQ(MessageOf([&] { RequireString(s, "n"); }),
            "member 'n' must be string, not int");
  EXPECT_EQ(MessageOf([&] { OptionalString(s, "n", ""); }),
            "member 'n' must be string, not int");
}

}  // namespace
}  // namespace xmlrpc
