// Parsing of XML-RPC documents: <methodCall> and <methodResponse>.
//
// Input is untrusted. The bytes go through ReadXmlTree (xml_tree.h: libxml2,
// hardened, bounded by Limits), then the tree is checked against the
// XML-RPC grammar, strictly but accepting everything xapi and the common
// clients (CPython xmlrpc.client, xmlrpc-c) send:
//   - no XML declaration needed; whitespace between elements ignored;
//   - <value>text</value> and <value/> are strings (text kept verbatim);
//   - <i4>, <int>, <i8> integers (32-bit range for the first two, surrounding
//     whitespace allowed), <boolean> 0/1 (also "true"/"false"), <double> in
//     decimal or exponent notation (also nan/inf), <string> and <string/>,
//     <dateTime.iso8601> (datetime.h), <base64> (whitespace ignored), <nil/>,
//     <array><data/></array>, <struct/>, <name/> (empty member name);
//   - a struct with two members of the same name is an error (which one a
//     handler would see is otherwise a guess);
//   - the method name must be 1..256 characters of A-Z a-z 0-9 _ . : /.
// Any violation gives a Fault with code interop::kParseError whose message
// says what and where; callers map it to their own code (the dispatcher
// uses its parse_error FaultKind, e.g. SMAPIv1 143).
#ifndef VHDSM_XMLRPC_PARSER_H_
#define VHDSM_XMLRPC_PARSER_H_

#include <string_view>

#include "xmlrpc/fault.h"
#include "xmlrpc/limits.h"
#include "xmlrpc/message.h"
#include "xmlrpc/value.h"

namespace xmlrpc {

Result<MethodCall> ParseMethodCall(std::string_view document,
                                   const Limits& limits = Limits());

// The outer Result fails when the document is not a valid methodResponse;
// the inner Response is the peer's result value or the peer's fault (a
// struct with an integer faultCode and a string faultString).
Result<Response> ParseMethodResponse(std::string_view document,
                                     const Limits& limits = Limits());

// True when `name` is a valid method name as described above.
bool IsValidMethodName(std::string_view name);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_PARSER_H_
