#include "xmlrpc/value.h"

#include <gtest/gtest.h>

#include <sstream>

namespace xmlrpc {
namespace {

TEST(ValueTest, DefaultIsNil) {
  Value v;
  EXPECT_TRUE(v.is_nil());
  EXPECT_EQ(v.type(), Value::Type::kNil);
  EXPECT_EQ(v, Value::Nil());
}

TEST(ValueTest, ConstructorsPickTheType) {
  EXPECT_EQ(Value(true).type(), Value::Type::kBoolean);
  EXPECT_EQ(Value(42).type(), Value::Type::kInt);
  EXPECT_EQ(Value(1.5).type(), Value::Type::kDouble);
  EXPECT_EQ(Value("s").type(), Value::Type::kString);  // not boolean
  EXPECT_EQ(Value(std::string("s")).type(), Value::Type::kString);
  EXPECT_EQ(Value(std::string_view("s")).type(), Value::Type::kString);
  EXPECT_EQ(Value(DateTime{}).type(), Value::Type::kDateTime);
  EXPECT_EQ(Value(Bytes{"\x00\x01"}).type(), Value::Type::kBase64);
  EXPECT_EQ(Value(Array{}).type(), Value::Type::kArray);
  EXPECT_EQ(Value(Struct{}).type(), Value::Type::kStruct);
  EXPECT_EQ(Value::Int64(int64_t{1} << 40).as_int(), int64_t{1} << 40);
}

TEST(ValueTest, AccessorsReturnTheContent) {
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_EQ(Value(-7).as_int(), -7);
  EXPECT_DOUBLE_EQ(Value(2.25).as_double(), 2.25);
  EXPECT_EQ(Value("abc").as_string(), "abc");
  EXPECT_EQ(Value(Bytes{std::string("\0z", 2)}).as_base64().data,
            std::string("\0z", 2));
  Value a(Array{Value(1), Value("x")});
  ASSERT_EQ(a.as_array().size(), 2u);
  a.as_array().push_back(Value());
  EXPECT_EQ(a.as_array().size(), 3u);
}

TEST(ValueTest, WrongAccessorThrows) {
  EXPECT_THROW(Value(1).as_string(), std::bad_variant_access);
  EXPECT_THROW(Value("1").as_int(), std::bad_variant_access);
}

TEST(StructTest, KeepsInsertionOrder) {
  Struct s;
  s.Set("zebra", Value(1)).Set("apple", Value(2)).Set("mango", Value(3));
  std::vector<std::string> names;
  for (const Member& m : s) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"zebra", "apple", "mango"}));
}

TEST(StructTest, SetReplacesInPlaceAndFindFinds) {
  Struct s{{"a", Value(1)}, {"b", Value(2)}};
  s.Set("a", Value("new"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.members()[0].name, "a");
  EXPECT_EQ(*s.Find("a"), Value("new"));
  EXPECT_EQ(s.Find("missing"), nullptr);
  s.Append("a", Value(3));  // Append does not look
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(*s.Find("a"), Value("new"));  // the first one
}

TEST(ValueTest, EqualityIsDeepAndOrderSensitiveForStructs) {
  Value a(Struct{{"x", Value(Array{Value(1), Value(true)})}, {"y", Value()}});
  Value b(Struct{{"x", Value(Array{Value(1), Value(true)})}, {"y", Value()}});
  Value c(Struct{{"y", Value()}, {"x", Value(Array{Value(1), Value(true)})}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value("1"), Value(1));
}

TEST(ValueTest, TypeNamesAreTheWireNames) {
  EXPECT_STREQ(TypeName(Value::Type::kNil), "nil");
  EXPECT_STREQ(TypeName(Value::Type::kBoolean), "boolean");
  EXPECT_STREQ(TypeName(Value::Type::kInt), "int");
  EXPECT_STREQ(TypeName(Value::Type::kDouble), "double");
  EXPECT_STREQ(TypeName(Value::Type::kString), "string");
  EXPECT_STREQ(TypeName(Value::Type::kDateTime), "dateTime.iso8601");
  EXPECT_STREQ(TypeName(Value::Type::kBase64), "base64");
  EXPECT_STREQ(TypeName(Value::Type::kArray), "array");
  EXPECT_STREQ(TypeName(Value::Type::kStruct), "struct");
}

TEST(ValueTest, DebugStringIsReadable) {
  Value v(Struct{{"a", Value(1)},
                 {"b", Value(Array{Value(true), Value(), Value("x\"\n")})}});
  EXPECT_EQ(v.DebugString(), "{\"a\": 1, \"b\": [true, nil, \"x\\\"\\x0a\"]}");
  std::ostringstream os;
  os << Value(2.5);
  EXPECT_EQ(os.str(), "2.5");
}

}  // namespace
}  // namespace xmlrpc
