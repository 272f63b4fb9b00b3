// Character data rules for what the writer emits.
//
// XML 1.0 can carry only its Char set (TAB, LF, CR, U+0020-U+D7FF,
// U+E000-U+FFFD, U+10000-U+10FFFF), and our documents are UTF-8. A string
// outside that cannot be written without corrupting the document, so the
// writer checks with IsXmlText and refuses, and fault messages (which must
// always be writable) are repaired with SanitizeXmlText.
#ifndef VHDSM_XMLRPC_XML_TEXT_H_
#define VHDSM_XMLRPC_XML_TEXT_H_

#include <string>
#include <string_view>

namespace xmlrpc {

// True when `s` is well-formed UTF-8 (shortest forms, no surrogates) and
// every character is an XML 1.0 Char.
bool IsXmlText(std::string_view s);

// `s` with every ill-formed UTF-8 sequence and every non-Char replaced by
// U+FFFD; unchanged when IsXmlText(s).
std::string SanitizeXmlText(std::string_view s);

enum class EscapeStyle {
  // xapi's escaping (xml-light2): & < > " as entities. CR additionally as
  // &#xD;, because a parser turns a literal CR into LF (XML 1.0 2.11).
  kXapi,
  // CPython's xmlrpc.client.escape: only & < >.
  kPython,
};

// Appends `s` to `out` as character data. Does not validate.
void AppendEscaped(std::string_view s, EscapeStyle style, std::string* out);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_XML_TEXT_H_
