#include "xmlrpc/dispatcher.h"

#include <exception>
#include <stdexcept>

#include "xmlrpc/parser.h"

namespace xmlrpc {

namespace {

bool IsTypeName(std::string_view name) {
  if (name == "any") return true;
  for (int t = 0; t <= static_cast<int>(Value::Type::kStruct); ++t) {
    if (name == TypeName(static_cast<Value::Type>(t))) return true;
  }
  return false;
}

bool Matches(const Signature& sig, const std::vector<Value>& params) {
  if (sig.params.size() != params.size()) return false;
  for (size_t i = 0; i < params.size(); ++i) {
    if (sig.params[i] != "any" && sig.params[i] != TypeName(params[i].type())) {
      return false;
    }
  }
  return true;
}

}  // namespace

FaultPolicy FaultPolicy::Interop() {
  FaultPolicy p;
  p.parse_error = {interop::kParseError, "Parse error"};
  p.unknown_method = {interop::kMethodNotFound, "Method not found"};
  p.bad_params = {interop::kInvalidParams, "Invalid params"};
  p.internal_error = {interop::kInternalError, "Internal error"};
  return p;
}

Dispatcher::Dispatcher() : Dispatcher(Options()) {}

Dispatcher::Dispatcher(Options options) : options_(std::move(options)) {
  if (options_.system_methods) RegisterSystemMethods();
}

void Dispatcher::Register(std::string name, Handler handler, MethodInfo info) {
  if (!IsValidMethodName(name)) {
    throw std::invalid_argument("invalid XML-RPC method name: " + name);
  }
  for (const Signature& sig : info.signatures) {
    if (!IsTypeName(sig.result)) {
      throw std::invalid_argument(name + ": unknown type " + sig.result);
    }
    for (const std::string& p : sig.params) {
      if (!IsTypeName(p)) {
        throw std::invalid_argument(name + ": unknown type " + p);
      }
    }
  }
  methods_[std::move(name)] = Entry{std::move(handler), std::move(info)};
}

std::vector<std::string> Dispatcher::MethodNames() const {
  std::vector<std::string> names;
  names.reserve(methods_.size());
  for (const auto& [name, entry] : methods_) names.push_back(name);
  return names;
}

bool Dispatcher::Has(std::string_view name) const {
  return Find(name) != nullptr;
}

const Dispatcher::Entry* Dispatcher::Find(std::string_view name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

std::optional<Fault> Dispatcher::CheckSignatures(
    const std::string& method, const MethodInfo& info,
    const std::vector<Value>& params) const {
  if (info.signatures.empty()) return std::nullopt;
  const Signature* same_arity = nullptr;
  std::string counts;
  for (const Signature& sig : info.signatures) {
    if (Matches(sig, params)) return std::nullopt;
    if (sig.params.size() == params.size() && same_arity == nullptr) {
      same_arity = &sig;
    }
    if (!counts.empty()) counts += " or ";
    counts += std::to_string(sig.params.size());
  }
  std::string detail;
  if (same_arity == nullptr) {
    detail = method + " takes " + counts + " params, got " +
             std::to_string(params.size());
  } else {
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string& want = same_arity->params[i];
      if (want != "any" && want != TypeName(params[i].type())) {
        detail = method + ": param " + std::to_string(i + 1) + " must be " +
                 want + ", not " + TypeName(params[i].type());
        break;
      }
    }
  }
  return MakeFault(options_.faults.bad_params, detail);
}

Response Dispatcher::Invoke(const std::string& method, const Entry& entry,
                            const std::vector<Value>& params,
                            const Peer& peer) const {
  if (auto fault = CheckSignatures(method, entry.info, params)) return *fault;
  try {
    return entry.handler(Params(method, params, peer));
  } catch (const ParamError& e) {
    return MakeFault(options_.faults.bad_params, e.what());
  } catch (const std::exception& e) {
    return MakeFault(options_.faults.internal_error,
                     method + ": " + std::string(e.what()));
  } catch (...) {
    return MakeFault(options_.faults.internal_error,
                     method + ": unknown exception");
  }
}

Response Dispatcher::Call(const MethodCall& call, const Peer& peer) const {
  const Entry* entry = Find(call.method);
  if (entry == nullptr) {
    return MakeFault(options_.faults.unknown_method, call.method);
  }
  return Invoke(call.method, *entry, call.params, peer);
}

std::string Dispatcher::Handle(std::string_view request, Outcome* outcome,
                               const Peer& peer) const {
  Outcome local;
  if (outcome == nullptr) outcome = &local;
  *outcome = Outcome();

  Result<MethodCall> call = ParseMethodCall(request, options_.limits);
  if (!call.ok()) {
    Fault fault = MakeFault(options_.faults.parse_error, call.fault().message);
    outcome->fault = fault;
    return WriteFault(fault, options_.style);
  }
  outcome->method = call.value().method;
  Response response = Call(call.value(), peer);
  Result<std::string> written = WriteResponse(response, options_.style);
  if (!written.ok()) {
    Fault fault = MakeFault(options_.faults.internal_error,
                            outcome->method + ": result cannot be sent: " +
                                written.fault().message);
    outcome->fault = fault;
    return WriteFault(fault, options_.style);
  }
  if (!response.ok()) outcome->fault = response.fault();
  return std::move(written).value();
}

}  // namespace xmlrpc
