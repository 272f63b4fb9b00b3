// ReadXmlTree: a hardened libxml2 reader that turns untrusted bytes into a
// small element tree, or a parse error.
//
// This is the only place xmlrpc/ touches libxml2. It uses the SAX2 push
// parser with its own callbacks, so no DOM is built and nothing reaches
// libxml2's tree or entity machinery:
//   - options: XML_PARSE_NONET; never XML_PARSE_NOENT, XML_PARSE_DTDLOAD or
//     XML_PARSE_HUGE (libxml2's own size limits stay on);
//   - a DOCTYPE stops the parse as soon as its name is read, before any of
//     its internal subset (entity declarations) is parsed, so entity bombs
//     and external entities never get a chance; only the five predefined
//     entities and character references exist;
//   - an element with attributes, namespace declarations or a prefix is an
//     error (xapi's parser rejects attributes; we emit none);
//   - the document must fit Limits::max_body_bytes, contain at most
//     Limits::max_elements elements, nest at most 3 * max_value_depth + 8
//     elements deep, and have at most Limits::max_items children per element.
// Comments and processing instructions are skipped. Text is UTF-8 (libxml2
// converts from a declared encoding; ill-formed input is an error).
//
// Thread-safe: each call has its own parser context.
#ifndef VHDSM_XMLRPC_XML_TREE_H_
#define VHDSM_XMLRPC_XML_TREE_H_

#include <string>
#include <string_view>
#include <vector>

#include "xmlrpc/fault.h"
#include "xmlrpc/limits.h"

namespace xmlrpc {

struct XmlElement {
  std::string name;  // local name; prefixed names are rejected
  // All character data directly inside this element, concatenated, including
  // whitespace between child elements (CDATA sections count as text).
  std::string text;
  std::vector<XmlElement> children;
};

// On error the Fault has code interop::kParseError and a message saying
// what was wrong and where (line number when libxml2 knows it).
Result<XmlElement> ReadXmlTree(std::string_view document, const Limits& limits);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_XML_TREE_H_
