#include "xmlrpc/value.h"

#include <cstdio>
#include <ostream>

namespace xmlrpc {

Struct::Struct(std::initializer_list<Member> members) : members_(members) {}
Struct::Struct(const Struct& other) = default;
Struct::Struct(Struct&& other) noexcept = default;
Struct& Struct::operator=(const Struct& other) = default;
Struct& Struct::operator=(Struct&& other) noexcept = default;
Struct::~Struct() = default;

Value::Value(const Value& other) = default;
Value::Value(Value&& other) noexcept = default;
Value& Value::operator=(const Value& other) = default;
Value& Value::operator=(Value&& other) noexcept = default;
Value::~Value() = default;

Struct& Struct::Set(std::string name, Value value) {
  if (Value* existing = Find(name)) {
    *existing = std::move(value);
  } else {
    members_.push_back(Member{std::move(name), std::move(value)});
  }
  return *this;
}

void Struct::Append(std::string name, Value value) {
  members_.push_back(Member{std::move(name), std::move(value)});
}

const Value* Struct::Find(std::string_view name) const {
  for (const Member& m : members_) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

Value* Struct::Find(std::string_view name) {
  for (Member& m : members_) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

size_t Struct::size() const { return members_.size(); }
bool Struct::empty() const { return members_.empty(); }
std::vector<Member>::const_iterator Struct::begin() const {
  return members_.begin();
}
std::vector<Member>::const_iterator Struct::end() const {
  return members_.end();
}
bool Struct::operator==(const Struct& other) const {
  return members_ == other.members_;
}

Value Value::Int64(int64_t i) {
  Value v;
  v.v_ = i;
  return v;
}

const char* TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNil:
      return "nil";
    case Value::Type::kBoolean:
      return "boolean";
    case Value::Type::kInt:
      return "int";
    case Value::Type::kDouble:
      return "double";
    case Value::Type::kString:
      return "string";
    case Value::Type::kDateTime:
      return "dateTime.iso8601";
    case Value::Type::kBase64:
      return "base64";
    case Value::Type::kArray:
      return "array";
    case Value::Type::kStruct:
      return "struct";
  }
  return "?";
}

namespace {

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void AppendDebug(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNil:
      out->append("nil");
      break;
    case Value::Type::kBoolean:
      out->append(v.as_bool() ? "true" : "false");
      break;
    case Value::Type::kInt:
      out->append(std::to_string(v.as_int()));
      break;
    case Value::Type::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v.as_double());
      out->append(buf);
      break;
    }
    case Value::Type::kString:
      AppendQuoted(v.as_string(), out);
      break;
    case Value::Type::kDateTime:
      out->append("dateTime(").append(v.as_datetime().Format()).append(")");
      break;
    case Value::Type::kBase64:
      out->append("base64(");
      AppendQuoted(v.as_base64().data, out);
      out->append(")");
      break;
    case Value::Type::kArray: {
      out->push_back('[');
      const char* sep = "";
      for (const Value& item : v.as_array()) {
        out->append(sep);
        AppendDebug(item, out);
        sep = ", ";
      }
      out->push_back(']');
      break;
    }
    case Value::Type::kStruct: {
      out->push_back('{');
      const char* sep = "";
      for (const Member& m : v.as_struct()) {
        out->append(sep);
        AppendQuoted(m.name, out);
        out->append(": ");
        AppendDebug(m.value, out);
        sep = ", ";
      }
      out->push_back('}');
      break;
    }
  }
}

}  // namespace

std::string Value::DebugString() const {
  std::string out;
  AppendDebug(*this, &out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Value& value) {
  return os << value.DebugString();
}

}  // namespace xmlrpc
