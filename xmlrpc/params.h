// Params: typed access to the params of a call, for method handlers.
//
// Each accessor checks the count or the type and, when it is wrong, throws
// ParamError with a message that names the method, the position and the
// expected and actual types. The dispatcher turns a ParamError into a fault
// of its bad_params kind, so a handler can simply write
//     const Struct& s = params.StructAt(0);
//     const std::string& uuid = RequireString(s, "sr_uuid");
// and never check anything twice.
#ifndef VHDSM_XMLRPC_PARAMS_H_
#define VHDSM_XMLRPC_PARAMS_H_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xmlrpc/peer.h"
#include "xmlrpc/value.h"

namespace xmlrpc {

class ParamError : public std::runtime_error {
 public:
  explicit ParamError(const std::string& what) : std::runtime_error(what) {}
};

class Params {
 public:
  // `values` and `peer` must outlive the Params.
  Params(std::string_view method, const std::vector<Value>& values,
         const Peer& peer = kInProcess)
      : method_(method), values_(values), peer_(peer) {}

  // Who made the call (peer.h); in-process unless a transport said so.
  const Peer& peer() const { return peer_; }

  std::string_view method() const { return method_; }
  size_t size() const { return values_.size(); }
  const std::vector<Value>& values() const { return values_; }

  // Throws unless there are exactly `n` params.
  void ExpectCount(size_t n) const;

  // The param at `i` (0-based), which must exist and have the type.
  const Value& At(size_t i) const;
  bool BoolAt(size_t i) const;
  // An <int>/<i4> (or <i8> within 32 bits).
  int32_t IntAt(size_t i) const;
  // A <double>; an integer is accepted too (validator-style "number").
  double DoubleAt(size_t i) const;
  const std::string& StringAt(size_t i) const;
  const DateTime& DateTimeAt(size_t i) const;
  const Bytes& Base64At(size_t i) const;
  const Array& ArrayAt(size_t i) const;
  const Struct& StructAt(size_t i) const;

 private:
  const Value& Typed(size_t i, Value::Type type) const;

  static inline const Peer kInProcess{};

  std::string_view method_;
  const std::vector<Value>& values_;
  const Peer& peer_;
};

// Members of a struct param, by name. `what` in messages is the member name.
// Each throws ParamError if the member is missing or has another type.
const Value& RequireMember(const Struct& s, std::string_view name);
const std::string& RequireString(const Struct& s, std::string_view name);
int32_t RequireInt(const Struct& s, std::string_view name);
bool RequireBool(const Struct& s, std::string_view name);
const Struct& RequireStruct(const Struct& s, std::string_view name);
const Array& RequireArray(const Struct& s, std::string_view name);

// The string member `name`, or `fallback` if it is absent (a present member
// of another type still throws).
std::string OptionalString(const Struct& s, std::string_view name,
                           std::string_view fallback);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_PARAMS_H_
