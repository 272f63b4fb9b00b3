// Fault and Result: how every xmlrpc/ operation that can fail reports it.
//
// A Fault is an XML-RPC fault: an integer code and a human-readable string,
// exactly what travels as <fault> on the wire. xmlrpc/ uses it for its own
// errors too (parse errors, transport errors), so a caller has one error type
// whether the problem was local or the peer's.
//
// Result<T> holds either a T or a Fault. Result<void> holds only the Fault,
// if any. Accessing the wrong alternative is a programming error (it throws
// std::bad_variant_access / std::bad_optional_access).
#ifndef VHDSM_XMLRPC_FAULT_H_
#define VHDSM_XMLRPC_FAULT_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace xmlrpc {

struct Fault {
  int code = 0;
  std::string message;

  bool operator==(const Fault&) const = default;
};

// Codes of the "specification for fault code interoperability" (xmlrpc-epi),
// used where xmlrpc/ has to invent a fault that no caller configured: the
// client's transport errors and a peer's unparseable response.
namespace interop {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kTransportError = -32300;
}  // namespace interop

// One kind of fault a component may raise, with its code and the fixed
// description that starts every message of that kind.
struct FaultKind {
  int code;
  std::string description;
};

// A Fault of `kind` in the style of xapi-project/sm's XenError:
// "<description>" or, with a detail, "<description> [opterr=<detail>]".
Fault MakeFault(const FaultKind& kind, std::string_view detail);

template <typename T>
class Result {
 public:
  Result(T value)  // NOLINT: implicit on purpose
      : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Fault fault)  // NOLINT
      : v_(std::in_place_index<1>, std::move(fault)) {}

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Fault& fault() const { return std::get<1>(v_); }

 private:
  std::variant<T, Fault> v_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(Fault fault) : fault_(std::move(fault)) {}  // NOLINT

  bool ok() const { return !fault_.has_value(); }
  const Fault& fault() const { return fault_.value(); }

 private:
  std::optional<Fault> fault_;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_FAULT_H_
