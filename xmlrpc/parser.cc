#include "xmlrpc/parser.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>

#include "xmlrpc/base64.h"
#include "xmlrpc/datetime.h"
#include "xmlrpc/xml_tree.h"

namespace xmlrpc {

namespace {

// Thrown inside this file only, caught by the two entry points.
struct BadDocument {
  std::string message;
};

[[noreturn]] void Bad(std::string message) {
  throw BadDocument{std::move(message)};
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

// Shortens untrusted text quoted in an error message.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  for (char c : s.substr(0, kMax)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  out += "\"";
  return out;
}

// An element that must hold only elements (whitespace between them is ok).
void ExpectNoText(const XmlElement& e) {
  if (!IsBlank(e.text)) {
    Bad("unexpected text " + Quote(Trim(e.text)) + " in <" + e.name + ">");
  }
}

// An element that must hold only text.
void ExpectNoChildren(const XmlElement& e) {
  if (!e.children.empty()) {
    Bad("unexpected element <" + e.children.front().name + "> in <" + e.name +
        ">");
  }
}

void ExpectName(const XmlElement& e, std::string_view name) {
  if (e.name != name) {
    Bad("expected <" + std::string(name) + ">, found <" + e.name + ">");
  }
}

const XmlElement& OnlyChild(const XmlElement& e, std::string_view name) {
  ExpectNoText(e);
  if (e.children.size() != 1) {
    Bad("<" + e.name + "> must contain exactly one <" + std::string(name) +
        ">, found " + std::to_string(e.children.size()) + " elements");
  }
  ExpectName(e.children.front(), name);
  return e.children.front();
}

int64_t ParseInteger(const XmlElement& e, int64_t min, int64_t max) {
  ExpectNoChildren(e);
  std::string_view text = Trim(e.text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec == std::errc::invalid_argument ||
      end != text.data() + text.size()) {
    Bad("bad integer " + Quote(e.text) + " in <" + e.name + ">");
  }
  if (ec == std::errc::result_out_of_range || n < min || n > max) {
    Bad("integer " + Quote(text) + " out of range for <" + e.name + ">");
  }
  return n;
}

Value ParseScalar(const XmlElement& e) {
  const std::string& t = e.name;
  if (t == "string") {
    ExpectNoChildren(e);
    return Value(e.text);
  }
  if (t == "int" || t == "i4") {
    return Value(static_cast<int32_t>(
        ParseInteger(e, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max())));
  }
  if (t == "i8") {
    return Value::Int64(ParseInteger(e, std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max()));
  }
  if (t == "boolean") {
    ExpectNoChildren(e);
    std::string_view text = Trim(e.text);
    if (text == "1" || text == "true") return Value(true);
    if (text == "0" || text == "false") return Value(false);
    Bad("bad boolean " + Quote(e.text));
  }
  if (t == "double") {
    ExpectNoChildren(e);
    std::string_view text = Trim(e.text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      Bad("bad double " + Quote(e.text));
    }
    return Value(d);
  }
  if (t == "dateTime.iso8601") {
    ExpectNoChildren(e);
    std::optional<DateTime> dt = DateTime::Parse(Trim(e.text));
    if (!dt) Bad("bad dateTime.iso8601 " + Quote(e.text));
    return Value(*dt);
  }
  if (t == "base64") {
    ExpectNoChildren(e);
    std::optional<std::string> bytes = DecodeBase64(e.text);
    if (!bytes) Bad("bad base64 data");
    return Value(Bytes{std::move(*bytes)});
  }
  if (t == "nil") {
    ExpectNoChildren(e);
    if (!IsBlank(e.text)) Bad("<nil> must be empty");
    return Value::Nil();
  }
  Bad("unknown value type <" + t + ">");
}

class ValueDecoder {
 public:
  explicit ValueDecoder(const Limits& limits) : limits_(limits) {}

  // `e` is a <value> element; `depth` counts enclosing arrays/structs.
  Value Decode(const XmlElement& e, int depth) {
    ExpectName(e, "value");
    if (e.children.empty()) return Value(e.text);  // untyped string
    ExpectNoText(e);
    if (e.children.size() != 1) {
      Bad("<value> must contain one type element, found " +
          std::to_string(e.children.size()));
    }
    const XmlElement& typed = e.children.front();
    if (typed.name == "array") return DecodeArray(typed, depth + 1);
    if (typed.name == "struct") return DecodeStruct(typed, depth + 1);
    return ParseScalar(typed);
  }

 private:
  void CheckDepth(int depth) {
    if (depth > limits_.max_value_depth) {
      Bad("nesting too deep (limit " + std::to_string(limits_.max_value_depth) +
          ")");
    }
  }

  Value DecodeArray(const XmlElement& e, int depth) {
    CheckDepth(depth);
    const XmlElement& data = OnlyChild(e, "data");
    ExpectNoText(data);
    Array items;
    items.reserve(data.children.size());
    for (const XmlElement& item : data.children) {
      items.push_back(Decode(item, depth));
    }
    return Value(std::move(items));
  }

  Value DecodeStruct(const XmlElement& e, int depth) {
    CheckDepth(depth);
    ExpectNoText(e);
    Struct s;
    std::unordered_set<std::string_view> names;
    for (const XmlElement& member : e.children) {
      ExpectName(member, "member");
      ExpectNoText(member);
      const XmlElement* name = nullptr;
      const XmlElement* value = nullptr;
      for (const XmlElement& part : member.children) {
        if (part.name == "name" && name == nullptr) {
          name = &part;
        } else if (part.name == "value" && value == nullptr) {
          value = &part;
        } else {
          Bad("unexpected <" + part.name + "> in <member>");
        }
      }
      if (name == nullptr || value == nullptr) {
        Bad("<member> needs one <name> and one <value>");
      }
      ExpectNoChildren(*name);
      if (!names.insert(name->text).second) {
        Bad("duplicate struct member " + Quote(name->text));
      }
      s.Append(name->text, Decode(*value, depth));
    }
    return Value(std::move(s));
  }

  const Limits& limits_;
};

std::vector<Value> DecodeParams(const XmlElement& params,
                                const Limits& limits) {
  ExpectNoText(params);
  std::vector<Value> out;
  out.reserve(params.children.size());
  ValueDecoder decoder(limits);
  for (const XmlElement& param : params.children) {
    ExpectName(param, "param");
    out.push_back(decoder.Decode(OnlyChild(param, "value"), 0));
  }
  return out;
}

Fault DecodeFault(const XmlElement& fault, const Limits& limits) {
  Value v = ValueDecoder(limits).Decode(OnlyChild(fault, "value"), 0);
  if (v.type() != Value::Type::kStruct) Bad("<fault> value must be a struct");
  const Value* code = v.as_struct().Find("faultCode");
  const Value* message = v.as_struct().Find("faultString");
  if (code == nullptr || code->type() != Value::Type::kInt ||
      code->as_int() < std::numeric_limits<int>::min() ||
      code->as_int() > std::numeric_limits<int>::max()) {
    Bad("<fault> needs an integer faultCode");
  }
  if (message == nullptr || message->type() != Value::Type::kString) {
    Bad("<fault> needs a string faultString");
  }
  return Fault{static_cast<int>(code->as_int()), message->as_string()};
}

}  // namespace

bool IsValidMethodName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
              c == '/';
    if (!ok) return false;
  }
  return true;
}

Result<MethodCall> ParseMethodCall(std::string_view document,
                                   const Limits& limits) {
  Result<XmlElement> tree = ReadXmlTree(document, limits);
  if (!tree.ok()) return tree.fault();
  try {
    const XmlElement& root = tree.value();
    ExpectName(root, "methodCall");
    ExpectNoText(root);
    if (root.children.empty() || root.children.size() > 2) {
      Bad("<methodCall> must contain <methodName> and optionally <params>");
    }
    const XmlElement& name = root.children[0];
    ExpectName(name, "methodName");
    ExpectNoChildren(name);
    MethodCall call;
    call.method = std::string(Trim(name.text));
    if (!IsValidMethodName(call.method)) {
      Bad("bad method name " + Quote(name.text));
    }
    if (root.children.size() == 2) {
      ExpectName(root.children[1], "params");
      call.params = DecodeParams(root.children[1], limits);
    }
    return call;
  } catch (const BadDocument& bad) {
    return Fault{interop::kParseError, bad.message};
  }
}

Result<Response> ParseMethodResponse(std::string_view document,
                                     const Limits& limits) {
  Result<XmlElement> tree = ReadXmlTree(document, limits);
  if (!tree.ok()) return tree.fault();
  try {
    const XmlElement& root = tree.value();
    ExpectName(root, "methodResponse");
    ExpectNoText(root);
    if (root.children.size() != 1) {
      Bad("<methodResponse> must contain one <params> or one <fault>");
    }
    const XmlElement& body = root.children[0];
    if (body.name == "fault") {
      return Response(DecodeFault(body, limits));
    }
    ExpectName(body, "params");
    std::vector<Value> params = DecodeParams(body, limits);
    if (params.size() != 1) {
      Bad("<methodResponse> must have exactly one <param>, found " +
          std::to_string(params.size()));
    }
    return Response(std::move(params.front()));
  } catch (const BadDocument& bad) {
    return Fault{interop::kParseError, bad.message};
  }
}

}  // namespace xmlrpc
