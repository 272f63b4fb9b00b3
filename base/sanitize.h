// SanitizeText: untrusted bytes (object-store replies, file contents, names
// from an SR) made safe to put into JSON, XML, logs and terminals.
//
// The result is always valid UTF-8 (shortest forms, no surrogates), so that
// nlohmann::json::dump() cannot throw on it and an XML writer can carry it:
//   - each ill-formed UTF-8 byte becomes U+FFFD (one per byte, as xml_text);
//   - C0 controls, DEL and C1 controls become a visible "\xNN" and the
//     bidirectional overrides (U+202A..U+202E, U+2066..U+2069) "\u{NNNN}":
//     no line breaks to forge log lines, no escapes to drive a terminal;
//     a backslash stays as is (the output is for people, not for decoding);
//   - the result is at most `max_bytes` long (at least 16 is assumed), cut at
//     a character boundary, and ends in "..." when something was cut.
#ifndef VHDSM_BASE_SANITIZE_H_
#define VHDSM_BASE_SANITIZE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace base {

// Long enough for any message we write ourselves plus a quoted reply.
constexpr size_t kDefaultSanitizeBytes = 4096;

std::string SanitizeText(std::string_view s,
                         size_t max_bytes = kDefaultSanitizeBytes);

}  // namespace base

#endif  // VHDSM_BASE_SANITIZE_H_
