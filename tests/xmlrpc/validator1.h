// The eight validator1.* methods of UserLand's XML-RPC validator suite
// (validator1Docs, Dave Winer 2000), for the test server and the tests.
//
// Contracts (see shared research sm.md 4.1):
//   arrayOfStructsTest(array of structs)   -> int: sum of the "curly" members
//   countTheEntities(string)               -> struct of the counts of < > & ' "
//   easyStructTest(struct)                 -> int: moe + larry + curly
//   echoStructTest(struct)                 -> the struct unchanged
//   manyTypesTest(int, boolean, string, double, dateTime, base64)
//                                          -> array of the six params
//   moderateSizeArrayCheck(array of strings) -> string: first + last
//   nestedStructTest(struct)               -> int: moe + larry + curly of
//                                             s["2000"]["04"]["01"]
//   simpleStructReturnTest(int n)          -> {times10, times100, times1000}
// Sums that leave the 32-bit range are a bad_params fault.
//
// Header-only so that the test server and the test suite share it without
// another library.
#ifndef VHDSM_TESTS_XMLRPC_VALIDATOR1_H_
#define VHDSM_TESTS_XMLRPC_VALIDATOR1_H_

#include <cstdint>
#include <limits>
#include <string>

#include "xmlrpc/dispatcher.h"
#include "xmlrpc/params.h"

namespace xmlrpc_test {

inline int32_t CheckedSum(int64_t sum) {
  if (sum < std::numeric_limits<int32_t>::min() ||
      sum > std::numeric_limits<int32_t>::max()) {
    throw xmlrpc::ParamError("sum " + std::to_string(sum) +
                             " does not fit 32 bits");
  }
  return static_cast<int32_t>(sum);
}

inline int32_t StoogeSum(const xmlrpc::Struct& s) {
  return CheckedSum(static_cast<int64_t>(xmlrpc::RequireInt(s, "moe")) +
                    xmlrpc::RequireInt(s, "larry") +
                    xmlrpc::RequireInt(s, "curly"));
}

inline void RegisterValidator1(xmlrpc::Dispatcher* d) {
  using xmlrpc::Array;
  using xmlrpc::ParamError;
  using xmlrpc::Params;
  using xmlrpc::Response;
  using xmlrpc::Struct;
  using xmlrpc::Value;

  d->Register(
      "validator1.arrayOfStructsTest",
      [](const Params& p) -> Response {
        int64_t sum = 0;
        for (const Value& item : p.ArrayAt(0)) {
          if (item.type() != Value::Type::kStruct) {
            throw ParamError("array items must be structs");
          }
          sum += xmlrpc::RequireInt(item.as_struct(), "curly");
        }
        return Value(CheckedSum(sum));
      },
      {"Sums the curly members of an array of structs.", {{"int", {"array"}}}});

  d->Register("validator1.countTheEntities",
              [](const Params& p) -> Response {
                int32_t lt = 0, gt = 0, amp = 0, apos = 0, quot = 0;
                for (char c : p.StringAt(0)) {
                  lt += c == '<';
                  gt += c == '>';
                  amp += c == '&';
                  apos += c == '\'';
                  quot += c == '"';
                }
                return Value(Struct{{"ctLeftAngleBrackets", Value(lt)},
                                    {"ctRightAngleBrackets", Value(gt)},
                                    {"ctAmpersands", Value(amp)},
                                    {"ctApostrophes", Value(apos)},
                                    {"ctQuotes", Value(quot)}});
              },
              {"Counts < > & ' and \" in a string.", {{"struct", {"string"}}}});

  d->Register("validator1.easyStructTest",
              [](const Params& p) -> Response {
                return Value(StoogeSum(p.StructAt(0)));
              },
              {"Returns moe + larry + curly.", {{"int", {"struct"}}}});

  d->Register(
      "validator1.echoStructTest",
      [](const Params& p) -> Response { return p.At(0); },
      {"Returns its struct param unchanged.", {{"struct", {"struct"}}}});

  d->Register("validator1.manyTypesTest",
              [](const Params& p) -> Response { return Value(p.values()); },
              {"Returns its six params as an array.",
               {{"array",
                 {"int", "boolean", "string", "double", "dateTime.iso8601",
                  "base64"}}}});

  d->Register(
      "validator1.moderateSizeArrayCheck",
      [](const Params& p) -> Response {
        const Array& items = p.ArrayAt(0);
        if (items.empty()) throw ParamError("the array is empty");
        for (const Value& item : items) {
          if (item.type() != Value::Type::kString) {
            throw ParamError("array items must be strings");
          }
        }
        return Value(items.front().as_string() + items.back().as_string());
      },
      {"Returns the first and the last string of an array, concatenated.",
       {{"string", {"array"}}}});

  d->Register("validator1.nestedStructTest",
              [](const Params& p) -> Response {
                const Struct& year =
                    xmlrpc::RequireStruct(p.StructAt(0), "2000");
                const Struct& month = xmlrpc::RequireStruct(year, "04");
                return Value(StoogeSum(xmlrpc::RequireStruct(month, "01")));
              },
              {"Returns moe + larry + curly of the entry for 2000-04-01.",
               {{"int", {"struct"}}}});

  d->Register(
      "validator1.simpleStructReturnTest",
      [](const Params& p) -> Response {
        int64_t n = p.IntAt(0);
        return Value(Struct{{"times10", Value(CheckedSum(n * 10))},
                            {"times100", Value(CheckedSum(n * 100))},
                            {"times1000", Value(CheckedSum(n * 1000))}});
      },
      {"Returns n times 10, 100 and 1000.", {{"struct", {"int"}}}});
}

}  // namespace xmlrpc_test

#endif  // VHDSM_TESTS_XMLRPC_VALIDATOR1_H_
