#include "base/sanitize.h"

#include <cstdint>
#include <cstdio>

namespace base {
namespace {

// Decodes one UTF-8 character at s[pos]: its length and code point, or 0
// for an ill-formed sequence (overlong, surrogate, beyond U+10FFFF, cut).
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

bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string SanitizeText(std::string_view s, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  static constexpr std::string_view kCut = "...";
  if (max_bytes < 16) max_bytes = 16;
  std::string out;
  out.reserve(s.size() < max_bytes ? s.size() : max_bytes);
  char piece_buf[16];
  for (size_t pos = 0; pos < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, pos, &cp);
    std::string_view piece;
    if (len == 0) {
      piece = kReplacement;
      len = 1;
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      int n = std::snprintf(piece_buf, sizeof(piece_buf), "\\x%02X",
                            static_cast<unsigned>(cp));
      piece = std::string_view(piece_buf, static_cast<size_t>(n));
    } else if (IsBidiControl(cp)) {
      int n = std::snprintf(piece_buf, sizeof(piece_buf), "\\u{%04X}",
                            static_cast<unsigned>(cp));
      piece = std::string_view(piece_buf, static_cast<size_t>(n));
    } else {
      piece = s.substr(pos, len);
    }
    out.append(piece);
    pos += len;
    if (out.size() > max_bytes) break;  // no need to look further
  }
  if (out.size() <= max_bytes) return out;
  // Cut at a character boundary with room for the marker (an escape may be
  // cut; a UTF-8 character never is).
  size_t end = max_bytes - kCut.size();
  while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) {
    --end;
  }
  out.resize(end);
  out.append(kCut);
  return out;
}

}  // namespace base
