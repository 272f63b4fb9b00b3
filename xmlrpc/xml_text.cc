#include "xmlrpc/xml_text.h"

#include <cstdint>

namespace xmlrpc {

namespace {

bool IsXmlChar(uint32_t c) {
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  if (c <= 0xD7FF) return true;
  if (c >= 0xE000 && c <= 0xFFFD) return true;
  return c >= 0x10000 && c <= 0x10FFFF;
}

// Decodes one UTF-8 character at s[*pos]. Returns its length in bytes and
// the code point, or 0 for an ill-formed sequence (then *pos is untouched).
size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* code_point) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - pos < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return len;
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
    size_t len = DecodeUtf8(s, pos, &cp);
    if (len == 0 || !IsXmlChar(cp)) return false;
    pos += len;
  }
  return true;
}

std::string SanitizeXmlText(std::string_view s) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    uint32_t cp;
    size_t len = DecodeUtf8(s, pos, &cp);
    if (len == 0) {
      out.append(kReplacement);
      ++pos;
    } else {
      if (IsXmlChar(cp)) {
        out.append(s.substr(pos, len));
      } else {
        out.append(kReplacement);
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
