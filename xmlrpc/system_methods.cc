// The built-in system.* methods of Dispatcher: introspection
// (listMethods, methodHelp, methodSignature) and system.multicall.
#include "xmlrpc/dispatcher.h"

namespace xmlrpc {

namespace {
constexpr char kMultiCall[] = "system.multicall";
}  // namespace

void Dispatcher::RegisterSystemMethods() {
  Register("system.listMethods",
           [this](const Params&) -> Response {
             Array names;
             for (const std::string& name : MethodNames())
               names.push_back(name);
             return Value(std::move(names));
           },
           {"Returns the names of all methods, sorted.", {{"array", {}}}});

  Register("system.methodHelp",
           [this](const Params& params) -> Response {
             const std::string& name = params.StringAt(0);
             const Entry* entry = Find(name);
             if (entry == nullptr) {
               return MakeFault(options_.faults.unknown_method, name);
             }
             return Value(entry->info.help);
           },
           {"Returns the help text of a method.", {{"string", {"string"}}}});

  Register("system.methodSignature",
           [this](const Params& params) -> Response {
             const std::string& name = params.StringAt(0);
             const Entry* entry = Find(name);
             if (entry == nullptr) {
               return MakeFault(options_.faults.unknown_method, name);
             }
             if (entry->info.signatures.empty()) return Value("undef");
             Array signatures;
             for (const Signature& sig : entry->info.signatures) {
               Array types{Value(sig.result)};
               for (const std::string& p : sig.params)
                 types.push_back(Value(p));
               signatures.push_back(Value(std::move(types)));
             }
             return Value(std::move(signatures));
           },
           {"Returns the accepted signatures of a method as arrays of type "
            "names, result first, or \"undef\" if unknown.",
            {{"array", {"string"}}, {"string", {"string"}}}});

  Register(
      kMultiCall, [this](const Params& params) { return MultiCall(params); },
      {"Calls several methods in one request. Takes an array of structs "
       "{methodName, params}; returns an array with, per call, a one-element "
       "array holding the result or a struct {faultCode, faultString}.",
       {{"array", {"array"}}}});
}

Response Dispatcher::MultiCall(const Params& params) const {
  auto fault_struct = [](const Fault& f) {
    return Value(Struct{{"faultCode", Value(static_cast<int32_t>(f.code))},
                        {"faultString", Value(f.message)}});
  };
  Array results;
  const Array& calls = params.ArrayAt(0);
  results.reserve(calls.size());
  size_t index = 0;
  for (const Value& call : calls) {
    ++index;
    std::string where =
        std::string(kMultiCall) + " entry " + std::to_string(index);
    if (call.type() != Value::Type::kStruct) {
      results.push_back(fault_struct(
          MakeFault(options_.faults.bad_params, where + " must be a struct")));
      continue;
    }
    const Value* name = call.as_struct().Find("methodName");
    const Value* args = call.as_struct().Find("params");
    if (name == nullptr || name->type() != Value::Type::kString ||
        args == nullptr || args->type() != Value::Type::kArray) {
      results.push_back(fault_struct(
          MakeFault(options_.faults.bad_params,
                    where + " needs a string methodName and an array params")));
      continue;
    }
    const std::string& method = name->as_string();
    if (method == kMultiCall) {
      results.push_back(fault_struct(MakeFault(
          options_.faults.bad_params, where + ": recursive system.multicall")));
      continue;
    }
    Response r = Call(MethodCall{method, args->as_array()}, params.peer());
    if (r.ok()) {
      // A result that cannot be written must not spoil the other entries.
      Result<std::string> check = WriteValue(r.value(), options_.style);
      if (!check.ok()) {
        r = MakeFault(
            options_.faults.internal_error,
            method + ": result cannot be sent: " + check.fault().message);
      }
    }
    if (r.ok()) {
      results.push_back(Value(Array{std::move(r).value()}));
    } else {
      results.push_back(fault_struct(r.fault()));
    }
  }
  return Value(std::move(results));
}

}  // namespace xmlrpc
