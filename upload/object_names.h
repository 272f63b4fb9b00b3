// Swift's rules for container and object names, checked before any request
// is made with them (names come from callers, and from listings and headers
// of a server).
//
//   container  1..256 bytes, valid UTF-8, no control character (C0, DEL),
//              no '/', not "." or ".."
//   object     1..1024 bytes, valid UTF-8, no control character, and no "."
//              or ".." path segment: "a/../../AUTH_other/c/o" would name
//              another account's object once a URL is normalized
//
// Failures are INVALID_ARGUMENT (upload_error.h) naming the rule broken;
// the name itself is quoted sanitized.
#ifndef VHDSM_UPLOAD_OBJECT_NAMES_H_
#define VHDSM_UPLOAD_OBJECT_NAMES_H_

#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace upload {

constexpr size_t kMaxContainerNameBytes = 256;
constexpr size_t kMaxObjectNameBytes = 1024;

base::Status CheckContainerName(std::string_view name);
base::Status CheckObjectName(std::string_view name);

}  // namespace upload

#endif  // VHDSM_UPLOAD_OBJECT_NAMES_H_
