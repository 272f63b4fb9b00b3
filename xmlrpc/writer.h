// Writing XML-RPC documents.
//
// Two styles:
//   kCompact  what xapi itself emits (xml-light2): no XML declaration, no
//             whitespace, untyped strings <value>s</value>, <value/> for "",
//             <data/>, <struct/>, <params/> and <name/> when empty, <int>
//             integers, <boolean>0|1</boolean>, <nil/>, doubles in plain
//             decimal notation (shortest form that reads back exactly), base64
//             on one line. Faults are the two-member struct with <int>
//             faultCode and <string> faultString. Escapes & < > " (and CR).
//   kPython   byte for byte what CPython's xmlrpc.client.dumps(...,
//             allow_none=True) writes: "<?xml version='1.0'?>" and a newline
//             after most tags, <string> typed strings, repr() doubles, base64
//             in 76-column lines. xapi-project/sm's tests pin this form for
//             faults; use it where a peer compares bytes with sm's output.
// Neither style writes attributes, namespaces or <i8>.
//
// A value that cannot be written faithfully is refused with a Fault (code
// interop::kInternalError) rather than written wrongly: an integer outside
// 32 bits (send 64-bit numbers as decimal strings, as XenAPI does), a
// non-finite double, text that is not UTF-8 or holds characters XML 1.0
// cannot carry (xml_text.h), an invalid DateTime, a method name that is not
// valid (parser.h), nesting deeper than 1000. Faults themselves are always
// writable: WriteFault repairs the message (SanitizeXmlText).
#ifndef VHDSM_XMLRPC_WRITER_H_
#define VHDSM_XMLRPC_WRITER_H_

#include <string>

#include "xmlrpc/fault.h"
#include "xmlrpc/message.h"
#include "xmlrpc/value.h"

namespace xmlrpc {

enum class Style { kCompact, kPython };

// One <value>...</value> element.
Result<std::string> WriteValue(const Value& value,
                               Style style = Style::kCompact);

Result<std::string> WriteMethodCall(const MethodCall& call,
                                    Style style = Style::kCompact);

// A <methodResponse> with the value, or with the fault if `response` holds one.
Result<std::string> WriteResponse(const Response& response,
                                  Style style = Style::kCompact);

// A <methodResponse> with a <fault>. Never fails.
std::string WriteFault(const Fault& fault, Style style = Style::kCompact);

// CPython's repr() of a float: shortest round-trip digits, exponent form
// outside 1e-4 <= |d| < 1e16 ("1e-05", "1e+16"), ".0" added to integral
// values; "nan", "inf", "-inf".
std::string PythonFloatRepr(double d);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_WRITER_H_
