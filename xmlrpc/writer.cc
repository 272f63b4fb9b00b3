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
    const bool py = python();
    switch (v.type()) {
      case Value::Type::kNil:
        out_ += "<value><nil/></value>";  // CPython too writes no newline
        return;
      case Value::Type::kBoolean:
        out_ += v.as_bool() ? "<value><boolean>1</boolean></value>"
                            : "<value><boolean>0</boolean></value>";
        break;
      case Value::Type::kInt: {
        int64_t i = v.as_int();
        if (i < std::numeric_limits<int32_t>::min() ||
            i > std::numeric_limits<int32_t>::max()) {
          Refuse("integer " + std::to_string(i) +
                 " does not fit <int> (32 bits); send it as a string");
        }
        out_ += "<value><int>";
        out_ += std::to_string(i);
        out_ += "</int></value>";
        break;
      }
      case Value::Type::kDouble: {
        double d = v.as_double();
        if (!std::isfinite(d)) Refuse("double is not finite");
        out_ += "<value><double>";
        out_ += py ? PythonFloatRepr(d) : CompactDouble(d);
        out_ += "</double></value>";
        break;
      }
      case Value::Type::kString: {
        const std::string& s = v.as_string();
        if (py) {
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
        break;
      }
      case Value::Type::kDateTime:
        if (!v.as_datetime().IsValid()) Refuse("invalid dateTime");
        out_ += "<value><dateTime.iso8601>";
        out_ += v.as_datetime().Format();
        out_ += "</dateTime.iso8601></value>";
        break;
      case Value::Type::kBase64:
        if (py) {
          out_ += "<value><base64>\n";
          out_ += EncodeBase64Lines(v.as_base64().data);
        } else {
          out_ += "<value><base64>";
          out_ += EncodeBase64(v.as_base64().data);
        }
        out_ += "</base64></value>";
        break;
      case Value::Type::kArray: {
        const Array& items = v.as_array();
        if (py) {
          out_ += "<value><array><data>\n";
        } else if (items.empty()) {
          out_ += "<value><array><data/></array></value>";
          return;
        } else {
          out_ += "<value><array><data>";
        }
        for (const Value& item : items) WriteValue(item, depth + 1);
        out_ += "</data></array></value>";
        break;
      }
      case Value::Type::kStruct: {
        const Struct& s = v.as_struct();
        if (py) {
          out_ += "<value><struct>\n";
        } else if (s.empty()) {
          out_ += "<value><struct/></value>";
          return;
        } else {
          out_ += "<value><struct>";
        }
        for (const Member& m : s) {
          if (py) {
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
          out_ += py ? "</member>\n" : "</member>";
        }
        out_ += "</struct></value>";
        break;
      }
    }
    if (py) out_ += '\n';
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
