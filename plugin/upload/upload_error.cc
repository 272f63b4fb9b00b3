#include "plugin/upload/upload_error.h"

#include <string_view>

#include "vhd/sanitize.h"

namespace upload {
namespace {

struct Entry {
  UploadError error;
  const char* name;
  vhd::Code code;
};

constexpr Entry kTable[] = {
    {UploadError::kInvalidArgument, "INVALID_ARGUMENT",
     vhd::Code::kInvalidArgument},
    {UploadError::kSource, "SOURCE", vhd::Code::kIOError},
    {UploadError::kAuthFailed, "AUTH_FAILED", vhd::Code::kInvalidArgument},
    {UploadError::kAuthResponse, "AUTH_RESPONSE", vhd::Code::kCorruption},
    {UploadError::kRetriesExhausted, "RETRIES_EXHAUSTED", vhd::Code::kIOError},
    {UploadError::kRejected, "REJECTED", vhd::Code::kIOError},
    {UploadError::kChecksumMismatch, "CHECKSUM_MISMATCH",
     vhd::Code::kCorruption},
    {UploadError::kTooLarge, "TOO_LARGE", vhd::Code::kTooLarge},
    {UploadError::kVerifyFailed, "VERIFY_FAILED", vhd::Code::kCorruption},
    {UploadError::kCancelled, "CANCELLED", vhd::Code::kBusy},
    {UploadError::kTransport, "TRANSPORT", vhd::Code::kIOError},
    {UploadError::kInternal, "INTERNAL", vhd::Code::kIOError},
};

}  // namespace

const char* UploadErrorName(UploadError e) {
  for (const Entry& entry : kTable) {
    if (entry.error == e) return entry.name;
  }
  return "OK";
}

vhd::Status MakeError(UploadError e, const std::string& message) {
  for (const Entry& entry : kTable) {
    if (entry.error == e) {
      // Messages quote servers (bodies, headers, URLs they handed out):
      // sanitized here, once, for every caller.
      return vhd::Status(entry.code, std::string(entry.name) + ": " +
                                         vhd::SanitizeText(message));
    }
  }
  return vhd::Status::OK();
}

vhd::Status SourceError(const vhd::Status& source_status) {
  if (ErrorOf(source_status) != UploadError::kSource) return source_status;
  if (std::string_view(source_status.message()).starts_with("SOURCE: ")) {
    return source_status;
  }
  return vhd::Status(source_status.code(),
                     "SOURCE: " + source_status.message());
}

UploadError ErrorOf(const vhd::Status& status) {
  if (status.ok()) return UploadError::kNone;
  std::string_view msg = status.message();
  for (const Entry& entry : kTable) {
    std::string_view name = entry.name;
    if (msg.size() > name.size() && msg.starts_with(name) &&
        msg[name.size()] == ':') {
      return entry.error;
    }
  }
  return UploadError::kSource;
}

}  // namespace upload
