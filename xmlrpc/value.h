// Value: one XML-RPC value of any type, and the Struct and Array containers.
//
// Types, as on the wire:
//   nil       <nil/> (extension; xapi requires it for "unit" results)
//   boolean   <boolean>0|1</boolean>
//   int       <int>/<i4>; <i8> is accepted on input and stored in the same
//             64-bit slot. The writer emits only <int> and refuses values
//             outside 32 bits (xapi cannot read <i8>; its 64-bit numbers are
//             decimal strings, so callers holding such numbers send
//             Value(std::to_string(n)), see DESIGN.md section 4).
//   double    <double>
//   string    <string> or untyped <value>text</value>; <value/> is "".
//             Held as UTF-8 bytes.
//   dateTime  <dateTime.iso8601>, see datetime.h
//   base64    <base64>, held decoded as Bytes
//   array     <array><data>...</data></array>
//   struct    <struct><member><name/><value/></member>...</struct>; a Struct
//             keeps members in insertion order and writes them in that order.
//
// Values are plain regular types: copyable, movable, comparable with ==
// (struct comparison is order-sensitive; doubles compare as doubles).
#ifndef VHDSM_XMLRPC_VALUE_H_
#define VHDSM_XMLRPC_VALUE_H_

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xmlrpc/datetime.h"

namespace xmlrpc {

class Value;
struct Member;
using Array = std::vector<Value>;

// The decoded content of a <base64> value; a distinct type so that binary
// data is never confused with a string.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

class Struct {
 public:
  Struct() = default;
  Struct(std::initializer_list<Member> members);
  Struct(const Struct& other);
  Struct(Struct&& other) noexcept;
  Struct& operator=(const Struct& other);
  Struct& operator=(Struct&& other) noexcept;
  ~Struct();

  // Sets `name` to `value`: replaces the first member of that name, or
  // appends a new member at the end.
  Struct& Set(std::string name, Value value);
  // Appends without looking for an existing member of that name.
  void Append(std::string name, Value value);

  // The first member called `name`, or nullptr.
  const Value* Find(std::string_view name) const;
  Value* Find(std::string_view name);

  size_t size() const;
  bool empty() const;
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>::const_iterator begin() const;
  std::vector<Member>::const_iterator end() const;

  bool operator==(const Struct& other) const;

 private:
  std::vector<Member> members_;
};

class Value {
 public:
  enum class Type {
    kNil,
    kBoolean,
    kInt,
    kDouble,
    kString,
    kDateTime,
    kBase64,
    kArray,
    kStruct,
  };

  Value() = default;  // nil
  // Out of line: when g++ 12 inlines a variant move at -O1 with sanitizers
  // it reports the inactive alternatives as maybe-uninitialized.
  Value(const Value& other);
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value();
  Value(bool b) : v_(b) {}                           // NOLINT: implicit
  Value(int32_t i) : v_(static_cast<int64_t>(i)) {}  // NOLINT
  Value(double d) : v_(d) {}                         // NOLINT
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT
  Value(DateTime t) : v_(t) {}                       // NOLINT
  Value(Bytes b) : v_(std::move(b)) {}               // NOLINT
  Value(Array a) : v_(std::move(a)) {}               // NOLINT
  Value(Struct s) : v_(std::move(s)) {}              // NOLINT
  // Other pointers would silently become booleans.
  template <typename T>
  Value(T*) = delete;

  static Value Nil() { return Value(); }
  // An integer that may not fit 32 bits: what <i8> parses into. The writer
  // refuses it unless it fits 32 bits.
  static Value Int64(int64_t i);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_nil() const { return type() == Type::kNil; }

  // Typed access. Precondition: type() is that type (otherwise
  // std::bad_variant_access is thrown).
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const DateTime& as_datetime() const { return std::get<DateTime>(v_); }
  const Bytes& as_base64() const { return std::get<Bytes>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Struct& as_struct() const { return std::get<Struct>(v_); }
  Struct& as_struct() { return std::get<Struct>(v_); }

  bool operator==(const Value& other) const { return v_ == other.v_; }

  // A short human-readable rendering for logs and test failures, e.g.
  // {"a": 1, "b": [true, nil, "x"]}. Not XML and not for parsing.
  std::string DebugString() const;

 private:
  // Alternative order matches Type.
  std::variant<std::monostate, bool, int64_t, double, std::string, DateTime,
               Bytes, Array, Struct>
      v_;
};

struct Member {
  std::string name;
  Value value;
  bool operator==(const Member&) const = default;
};

// The XML-RPC element name of a type: "nil", "boolean", "int", "double",
// "string", "dateTime.iso8601", "base64", "array", "struct".
const char* TypeName(Value::Type type);

std::ostream& operator<<(std::ostream& os, const Value& value);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_VALUE_H_
