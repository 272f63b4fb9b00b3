// The validator1 handlers (validator1.h) through a Dispatcher, with the
// data shapes of UserLand's validator.
#include "tests/xmlrpc/validator1.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

class Validator1Test : public ::testing::Test {
 protected:
  Validator1Test() { xmlrpc_test::RegisterValidator1(&d_); }
  Response Call(const std::string& m, std::vector<Value> params) {
    return d_.Call(MethodCall{"validator1." + m, std::move(params)});
  }
  static Value Stooges(int moe, int larry, int curly) {
    return Value(Struct{
        {"moe", Value(moe)}, {"larry", Value(larry)}, {"curly", Value(curly)}});
  }
  Dispatcher d_;
};

TEST_F(Validator1Test, ArrayOfStructsTestSumsCurly) {
  Array items{Stooges(1, 2, 3), Stooges(4, 5, -6), Stooges(0, 0, 100)};
  items[0].as_struct().Set("extra", Value("ignored"));
  EXPECT_EQ(Call("arrayOfStructsTest", {Value(items)}).value(), Value(97));
  EXPECT_EQ(Call("arrayOfStructsTest", {Value(Array{Value(1)})}).fault().code,
            143);
}

TEST_F(Validator1Test, CountTheEntities) {
  // The validator's own sample string.
  std::string s =
      "t'&>>zf\"md>yr>xlcev<h<\"k&j<og\"w&&>\">>uai\"np&s>>q'&b<>\"&&&";
  Struct expected{{"ctLeftAngleBrackets", Value(4)},
                  {"ctRightAngleBrackets", Value(10)},
                  {"ctAmpersands", Value(9)},
                  {"ctApostrophes", Value(2)},
                  {"ctQuotes", Value(6)}};
  EXPECT_EQ(Call("countTheEntities", {Value(s)}).value(), Value(expected));
  // Over the wire, as entities.
  std::string out = d_.Handle(
      "<methodCall><methodName>validator1.countTheEntities</methodName>"
      "<params><param><value>&lt;&amp;&gt;&apos;&quot;&#60;</value></param>"
      "</params></methodCall>");
  Result<Response> r = ParseMethodResponse(out);
  ASSERT_OK(r);
  EXPECT_EQ(*r.value().value().as_struct().Find("ctLeftAngleBrackets"),
            Value(2));
  EXPECT_EQ(*r.value().value().as_struct().Find("ctApostrophes"), Value(1));
}

TEST_F(Validator1Test, EasyStructTest) {
  EXPECT_EQ(Call("easyStructTest", {Stooges(-100, 50, 7)}).value(), Value(-43));
  EXPECT_EQ(Call("easyStructTest", {Value(Struct{{"moe", Value(1)}})})
                .fault()
                .message,
            "Failed to parse the request [opterr=missing member 'larry']");
  EXPECT_EQ(Call("easyStructTest", {Stooges(2147483647, 1, 0)}).fault().code,
            143);
}

TEST_F(Validator1Test, EchoStructTestKeepsEverything) {
  Value s(Struct{{"substruct0", Value(Struct{{"variable1", Value(5)},
                                             {"variable2", Value("x")}})},
                 {"list", Value(Array{Value(1.5), Value(true), Value()})},
                 {"when", Value(*DateTime::Parse("20000401T00:00:00"))}});
  EXPECT_EQ(Call("echoStructTest", {s}).value(), s);
}

TEST_F(Validator1Test, ManyTypesTest) {
  std::vector<Value> six{Value(-5),
                         Value(true),
                         Value("str"),
                         Value(2.5),
                         Value(*DateTime::Parse("19980717T14:08:55")),
                         Value(Bytes{"\x00\x01"})};
  EXPECT_EQ(Call("manyTypesTest", six).value(), Value(Array(six)));
  six.pop_back();
  EXPECT_NE(Call("manyTypesTest", six).fault().message.find("takes 6 params"),
            std::string::npos);
}

TEST_F(Validator1Test, ModerateSizeArrayCheck) {
  Array items;
  for (int i = 0; i < 150; ++i)
    items.push_back(Value("item" + std::to_string(i)));
  EXPECT_EQ(Call("moderateSizeArrayCheck", {Value(items)}).value(),
            Value("item0item149"));
  EXPECT_EQ(Call("moderateSizeArrayCheck", {Value(Array{})}).fault().code, 143);
}

TEST_F(Validator1Test, NestedStructTest) {
  Struct calendar;
  for (int year = 1999; year <= 2001; ++year) {
    Struct months;
    for (int month = 1; month <= 12; ++month) {
      Struct days;
      for (int day = 1; day <= 5; ++day) {
        days.Append((day < 10 ? "0" : "") + std::to_string(day),
                    year == 2000 && month == 4 && day == 1 ? Stooges(11, 22, 33)
                                                           : Stooges(1, 1, 1));
      }
      months.Append((month < 10 ? "0" : "") + std::to_string(month),
                    Value(std::move(days)));
    }
    calendar.Append(std::to_string(year), Value(std::move(months)));
  }
  EXPECT_EQ(Call("nestedStructTest", {Value(calendar)}).value(), Value(66));
}

TEST_F(Validator1Test, SimpleStructReturnTest) {
  EXPECT_EQ(Call("simpleStructReturnTest", {Value(-3)}).value(),
            Value(Struct{{"times10", Value(-30)},
                         {"times100", Value(-300)},
                         {"times1000", Value(-3000)}}));
  EXPECT_EQ(Call("simpleStructReturnTest", {Value(3000000)}).fault().code, 143);
}

}  // namespace
}  // namespace xmlrpc
