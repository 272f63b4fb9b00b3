#include "xmlrpc/xml_text.h"

#include <cstdint>

#include "base/utf8.h"

namespace xmlrpc {

namespace {

bool IsXmlChar(uint32_t c) {
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  if (c <= 0xD7FF) return true;
  if (c >= 0xE000 && c <= 0xFFFD) return true;
  return c >= 0x10000 && c <= 0x10FFFF;
}

}  // namespace

bool IsXmlText(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[pos]);
    if (b >= 0x20 && b < 0x80) {  // fast path for ASCII
      ++pos;
      continue;
    }
    uint32_t cp;
    size_t len = base::DecodeUtf8(s, pos, &cp);
    if (len == 0 || !IsXmlChar(cp)) return false;
    pos += len;
  }
  return true;
}

std::string SanitizeXmlText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    uint32_t cp;
    size_t len = base::DecodeUtf8(s, pos, &cp);
    if (len == 0) {
      out.append(base::kUtf8Replacement);
      ++pos;
    } else {
      if (IsXmlChar(cp)) {
        out.append(s.substr(pos, len));
      } else {
        out.append(base::kUtf8Replacement);
      }
      pos += len;
    }
  }
  return out;
}

void AppendEscaped(std::string_view s, EscapeStyle style, std::string* out) {
  const bool xapi = style == EscapeStyle::kXapi;
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const char* entity = nullptr;
    switch (s[i]) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '"':
        if (xapi) entity = "&quot;";
        break;
      case '\r':
        if (xapi) entity = "&#xD;";
        break;
      default:
        break;
    }
    if (entity != nullptr) {
      out->append(s.substr(run, i - run));
      out->append(entity);
      run = i + 1;
    }
  }
  out->append(s.substr(run));
}

}  // namespace xmlrpc
