// DecodeUtf8: the one UTF-8 decoder of the project.
//
// Strict by design: a sequence is accepted only in its shortest form, never
// as a surrogate (U+D800..U+DFFF), never beyond U+10FFFF, and never cut by
// the end of the input. Everything that turns untrusted bytes into text
// (log/JSON sanitizing, XML character data) decides validity here, so the
// two can never disagree about what is UTF-8.
#ifndef VHDSM_BASE_UTF8_H_
#define VHDSM_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace base {

// The bytes of U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// Decodes the character starting at s[pos] (pos < s.size()). Returns its
// length in bytes (1..4) and sets *code_point, or returns 0 for an
// ill-formed sequence and leaves *code_point untouched.
size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* code_point);

}  // namespace base

#endif  // VHDSM_BASE_UTF8_H_
