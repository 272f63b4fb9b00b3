#include "xmlrpc/writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "xmlrpc/base64.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/xml_text.h"

namespace xmlrpc {

namespace {

constexpr int kMaxWriteDepth = 1000;

// Thrown inside this file only, caught by the entry points.
struct Unwritable {
  std::string message;
};

[[noreturn]] void Refuse(std::string message) {
  throw Unwritable{std::move(message)};
}

std::string CompactDouble(double d) {
  char buf[512];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  if (ec != std::errc()) Refuse("cannot format double");
  return std::string(buf, end);
}

class Writer {
 public:
  explicit Writer(Style style) : style_(style) {}

  std::string& out() { return out_; }
  bool python() const { return style_ == Style::kPython; }

  void Text(std::string_view s) {
    if (!IsXmlText(s)) {
      Refuse("string is not valid UTF-8 XML text");
    }
    AppendEscaped(s, python() ? EscapeStyle::kPython : EscapeStyle::kXapi,
                  &out_);
  }

  void WriteValue(const Value& v, int depth) {
    if (depth > kMaxWriteDepth) Refuse("value nested too deeply");
    switch (v.type()) {
      case Value::Type::kNil:
        out_ += "<value><nil/></value>";  // CPython too writes no newline
        return;
      case Value::Type::kBoolean:
      case Value::Type::kInt:
      case Value::Type::kDouble:
      case Value::Type::kDateTime:
        WriteScalar(v);
        break;
      case Value::Type::kString:
        WriteString(v.as_string());
        break;
      case Value::Type::kBase64:
        WriteBase64(v.as_base64().data);
        break;
      case Value::Type::kArray:
        WriteArray(v.as_array(), depth);
        break;
      case Value::Type::kStruct:
        WriteStruct(v.as_struct(), depth);
        break;
    }
    if (python()) out_ += '\n';
  }

  // A value whose text is the same in both styles: <boolean>, <int>,
  // <double> (but its digits) and <dateTime.iso8601>.
  void WriteScalar(const Value& v) {
    std::string_view tag;
    std::string text;
    switch (v.type()) {
      case Value::Type::kBoolean:
        tag = "boolean";
        text = v.as_bool() ? "1" : "0";
        break;
      case Value::Type::kInt:
        tag = "int";
        text = IntText(v.as_int());
        break;
      case Value::Type::kDouble:
        tag = "double";
        if (!std::isfinite(v.as_double())) Refuse("double is not finite");
        text = python() ? PythonFloatRepr(v.as_double())
                        : CompactDouble(v.as_double());
        break;
      default:  // kDateTime: WriteValue sends nothing else here
        tag = "dateTime.iso8601";
        if (!v.as_datetime().IsValid()) Refuse("invalid dateTime");
        text = v.as_datetime().Format();
        break;
    }
    out_.append("<value><").append(tag).append(">");
    out_.append(text).append("</").append(tag).append("></value>");
  }

  static std::string IntText(int64_t i) {
    if (i < std::numeric_limits<int32_t>::min() ||
        i > std::numeric_limits<int32_t>::max()) {
      Refuse("integer " + std::to_string(i) +
             " does not fit <int> (32 bits); send it as a string");
    }
    return std::to_string(i);
  }

  // xapi writes a string as bare text in <value> (and an empty one as
  // <value/>); CPython always wraps it in <string>.
  void WriteString(const std::string& s) {
    if (python()) {
      out_ += "<value><string>";
      Text(s);
      out_ += "</string></value>";
    } else if (s.empty()) {
      out_ += "<value/>";
    } else {
      out_ += "<value>";
      Text(s);
      out_ += "</value>";
    }
  }

  // CPython breaks base64 into lines of 76 characters; xapi does not.
  void WriteBase64(const std::string& data) {
    if (python()) {
      out_ += "<value><base64>\n";
      out_ += EncodeBase64Lines(data);
    } else {
      out_ += "<value><base64>";
      out_ += EncodeBase64(data);
    }
    out_ += "</base64></value>";
  }

  // Opens an array or a struct with `open`, or, in the compact style, writes
  // an empty one whole as `whole`: then returns false (nothing to close).
  bool OpenContainer(std::string_view open, std::string_view whole,
                     bool empty) {
    if (!python() && empty) {
      out_ += whole;
      return false;
    }
    Line(open);
    return true;
  }

  void WriteArray(const Array& items, int depth) {
    if (!OpenContainer("<value><array><data>",
                       "<value><array><data/></array></value>",
                       items.empty())) {
      return;
    }
    for (const Value& item : items) WriteValue(item, depth + 1);
    out_ += "</data></array></value>";
  }

  void WriteStruct(const Struct& members, int depth) {
    if (!OpenContainer("<value><struct>", "<value><struct/></value>",
                       members.empty())) {
      return;
    }
    for (const Member& m : members) {
      if (python()) {
        out_ += "<member>\n<name>";
        Text(m.name);
        out_ += "</name>\n";
      } else if (m.name.empty()) {
        out_ += "<member><name/>";
      } else {
        out_ += "<member><name>";
        Text(m.name);
        out_ += "</name>";
      }
      WriteValue(m.value, depth + 1);
      Line("</member>");
    }
    out_ += "</struct></value>";
  }

  // <params> with each value as a <param>.
  void WriteParams(const std::vector<Value>& params) {
    const bool py = python();
    if (!py && params.empty()) {
      out_ += "<params/>";
      return;
    }
    out_ += py ? "<params>\n" : "<params>";
    for (const Value& v : params) {
      out_ += py ? "<param>\n" : "<param>";
      WriteValue(v, 0);
      out_ += py ? "</param>\n" : "</param>";
    }
    out_ += py ? "</params>\n" : "</params>";
  }

  void Header() {
    if (python()) out_ += "<?xml version='1.0'?>\n";
  }

  // Tag `s` plus, in the Python style, a newline.
  void Line(std::string_view s) {
    out_ += s;
    if (python()) out_ += '\n';
  }

 private:
  Style style_;
  std::string out_;
};

}  // namespace

std::string PythonFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, end - buf);  // "-d.ddde+XX"
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  int decpt = exponent + 1;  // value = 0.digits * 10^decpt
  int ndigits = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (ndigits > 1) out.append(".").append(digits, 1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
    out += exp_buf;
  } else if (decpt <= 0) {
    out.append("0.").append(-decpt, '0').append(digits);
  } else if (decpt >= ndigits) {
    out.append(digits).append(decpt - ndigits, '0').append(".0");
  } else {
    out.append(digits, 0, decpt).append(".").append(digits, decpt);
  }
  return out;
}

Result<std::string> WriteValue(const Value& value, Style style) {
  try {
    Writer w(style);
    w.WriteValue(value, 0);
    return std::move(w.out());
  } catch (const Unwritable& u) {
    return Fault{interop::kInternalError, u.message};
  }
}

Result<std::string> WriteMethodCall(const MethodCall& call, Style style) {
  try {
    if (!IsValidMethodName(call.method)) Refuse("invalid method name");
    Writer w(style);
    w.Header();
    w.Line("<methodCall>");
    w.out() += "<methodName>" + call.method + "</methodName>";
    if (w.python()) w.out() += '\n';
    w.WriteParams(call.params);
    w.Line("</methodCall>");
    return std::move(w.out());
  } catch (const Unwritable& u) {
    return Fault{interop::kInternalError, u.message};
  }
}

Result<std::string> WriteResponse(const Response& response, Style style) {
  if (!response.ok()) return WriteFault(response.fault(), style);
  try {
    Writer w(style);
    w.Header();
    w.Line("<methodResponse>");
    w.WriteParams({response.value()});
    w.Line("</methodResponse>");
    return std::move(w.out());
  } catch (const Unwritable& u) {
    return Fault{interop::kInternalError, u.message};
  }
}

std::string WriteFault(const Fault& fault, Style style) {
  Writer w(style);
  const bool py = w.python();
  std::string message = SanitizeXmlText(fault.message);
  w.Header();
  w.Line("<methodResponse>");
  w.Line("<fault>");
  std::string& out = w.out();
  if (py) {
    out += "<value><struct>\n<member>\n<name>faultCode</name>\n";
    out += "<value><int>" + std::to_string(fault.code) + "</int></value>\n";
    out += "</member>\n<member>\n<name>faultString</name>\n<value><string>";
    AppendEscaped(message, EscapeStyle::kPython, &out);
    out += "</string></value>\n</member>\n</struct></value>\n";
  } else {
    out += "<value><struct><member><name>faultCode</name><value><int>";
    out += std::to_string(fault.code);
    out +=
        "</int></value></member><member><name>faultString</name>"
        "<value><string>";
    AppendEscaped(message, EscapeStyle::kXapi, &out);
    out += "</string></value></member></struct></value>";
  }
  w.Line("</fault>");
  w.Line("</methodResponse>");
  return std::move(out);
}

}  // namespace xmlrpc
