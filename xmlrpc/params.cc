#include "xmlrpc/params.h"

#include <limits>

namespace xmlrpc {

namespace {

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

const Value& MemberOfType(const Struct& s, std::string_view name,
                          Value::Type type) {
  const Value& v = RequireMember(s, name);
  if (v.type() != type) {
    throw ParamError("member '" + std::string(name) + "' must be " +
                     TypeName(type) + ", not " + TypeName(v.type()));
  }
  return v;
}

int32_t CheckedInt32(int64_t i, const std::string& what) {
  if (i < std::numeric_limits<int32_t>::min() ||
      i > std::numeric_limits<int32_t>::max()) {
    throw ParamError(what + " is out of the 32-bit range");
  }
  return static_cast<int32_t>(i);
}

}  // namespace

void Params::ExpectCount(size_t n) const {
  if (values_.size() != n) {
    throw ParamError(std::string(method_) + " takes " + Plural(n, "param") +
                     ", got " + std::to_string(values_.size()));
  }
}

const Value& Params::At(size_t i) const {
  if (i >= values_.size()) {
    throw ParamError(std::string(method_) + " needs at least " +
                     Plural(i + 1, "param") + ", got " +
                     std::to_string(values_.size()));
  }
  return values_[i];
}

const Value& Params::Typed(size_t i, Value::Type type) const {
  const Value& v = At(i);
  if (v.type() != type) {
    throw ParamError(std::string(method_) + ": param " + std::to_string(i + 1) +
                     " must be " + TypeName(type) + ", not " +
                     TypeName(v.type()));
  }
  return v;
}

bool Params::BoolAt(size_t i) const {
  return Typed(i, Value::Type::kBoolean).as_bool();
}
int32_t Params::IntAt(size_t i) const {
  return CheckedInt32(
      Typed(i, Value::Type::kInt).as_int(),
      std::string(method_) + ": param " + std::to_string(i + 1));
}
double Params::DoubleAt(size_t i) const {
  const Value& v = At(i);
  if (v.type() == Value::Type::kInt) return static_cast<double>(v.as_int());
  return Typed(i, Value::Type::kDouble).as_double();
}
const std::string& Params::StringAt(size_t i) const {
  return Typed(i, Value::Type::kString).as_string();
}
const DateTime& Params::DateTimeAt(size_t i) const {
  return Typed(i, Value::Type::kDateTime).as_datetime();
}
const Bytes& Params::Base64At(size_t i) const {
  return Typed(i, Value::Type::kBase64).as_base64();
}
const Array& Params::ArrayAt(size_t i) const {
  return Typed(i, Value::Type::kArray).as_array();
}
const Struct& Params::StructAt(size_t i) const {
  return Typed(i, Value::Type::kStruct).as_struct();
}

const Value& RequireMember(const Struct& s, std::string_view name) {
  const Value* v = s.Find(name);
  if (v == nullptr) {
    throw ParamError("missing member '" + std::string(name) + "'");
  }
  return *v;
}
const std::string& RequireString(const Struct& s, std::string_view name) {
  return MemberOfType(s, name, Value::Type::kString).as_string();
}
int32_t RequireInt(const Struct& s, std::string_view name) {
  return CheckedInt32(MemberOfType(s, name, Value::Type::kInt).as_int(),
                      "member '" + std::string(name) + "'");
}
bool RequireBool(const Struct& s, std::string_view name) {
  return MemberOfType(s, name, Value::Type::kBoolean).as_bool();
}
const Struct& RequireStruct(const Struct& s, std::string_view name) {
  return MemberOfType(s, name, Value::Type::kStruct).as_struct();
}
const Array& RequireArray(const Struct& s, std::string_view name) {
  return MemberOfType(s, name, Value::Type::kArray).as_array();
}

std::string OptionalString(const Struct& s, std::string_view name,
                           std::string_view fallback) {
  if (s.Find(name) == nullptr) return std::string(fallback);
  return RequireString(s, name);
}

}  // namespace xmlrpc
