#include "upload/object_names.h"

#include <string>

#include "base/sanitize.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

// Sanitizing changes exactly the bytes that are not valid UTF-8 or are
// control characters, so an unchanged name has neither (a name this short
// is never cut).
bool IsPrintableUtf8(std::string_view name) {
  return base::SanitizeText(name, 2 * kMaxObjectNameBytes) == name;
}

base::Status Bad(const char* what, std::string_view name,
                 const std::string& rule) {
  return MakeError(UploadError::kInvalidArgument,
                   std::string(what) + " name '" +
                       base::SanitizeText(name, 128) + "' " + rule);
}

}  // namespace

base::Status CheckContainerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxContainerNameBytes) {
    return Bad("container", name, "must be 1..256 bytes");
  }
  if (name.find('/') != std::string_view::npos) {
    return Bad("container", name, "must not contain '/'");
  }
  if (name == "." || name == "..") {
    return Bad("container", name, "must not be '.' or '..'");
  }
  if (!IsPrintableUtf8(name)) {
    return Bad("container", name,
               "must be UTF-8 without NUL or control characters");
  }
  return base::Status::OK();
}

base::Status CheckObjectName(std::string_view name) {
  if (name.empty() || name.size() > kMaxObjectNameBytes) {
    return Bad("object", name, "must be 1..1024 bytes");
  }
  if (!IsPrintableUtf8(name)) {
    return Bad("object", name,
               "must be UTF-8 without NUL or control characters");
  }
  for (size_t start = 0;;) {
    size_t slash = name.find('/', start);
    std::string_view seg = name.substr(start, slash == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : slash - start);
    if (seg == "." || seg == "..") {
      return Bad("object", name, "must not have a '.' or '..' path segment");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return base::Status::OK();
}

}  // namespace upload
