// Base64 (RFC 4648, standard alphabet, '=' padding) for <base64> values.
//
// Encode writes one line, no line breaks (the compact style). DecodeBase64
// ignores ASCII whitespace anywhere (CPython breaks lines every 76 chars) and
// otherwise is strict: only the alphabet, padding only at the end and only
// as much as the length needs, no data after the padding.
#ifndef VHDSM_XMLRPC_BASE64_H_
#define VHDSM_XMLRPC_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace xmlrpc {

std::string EncodeBase64(std::string_view bytes);

// CPython's base64.encodebytes: lines of at most 76 characters, each ended
// by '\n'; empty input gives an empty string.
std::string EncodeBase64Lines(std::string_view bytes);

// nullopt when `text` is not valid base64.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_BASE64_H_
