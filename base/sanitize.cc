#include "base/sanitize.h"

#include <cstdint>
#include <cstdio>

#include "base/utf8.h"

namespace base {
namespace {

bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string SanitizeText(std::string_view s, size_t max_bytes) {
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
      piece = kUtf8Replacement;
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
