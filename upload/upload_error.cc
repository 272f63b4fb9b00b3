#include "upload/upload_error.h"

#include "base/sanitize.h"

namespace upload {
namespace {

struct Entry {
  UploadError error;
  const char* name;
  base::Code code;
};

constexpr Entry kTable[] = {
    {UploadError::kInvalidArgument, "INVALID_ARGUMENT",
     base::Code::kInvalidArgument},
    {UploadError::kSource, "SOURCE", base::Code::kIOError},
    {UploadError::kAuthFailed, "AUTH_FAILED", base::Code::kInvalidArgument},
    {UploadError::kAuthResponse, "AUTH_RESPONSE", base::Code::kCorruption},
    {UploadError::kRetriesExhausted, "RETRIES_EXHAUSTED", base::Code::kIOError},
    {UploadError::kRejected, "REJECTED", base::Code::kIOError},
    {UploadError::kChecksumMismatch, "CHECKSUM_MISMATCH",
     base::Code::kCorruption},
    {UploadError::kTooLarge, "TOO_LARGE", base::Code::kTooLarge},
    {UploadError::kVerifyFailed, "VERIFY_FAILED", base::Code::kCorruption},
    {UploadError::kCancelled, "CANCELLED", base::Code::kBusy},
    {UploadError::kTransport, "TRANSPORT", base::Code::kIOError},
    {UploadError::kInternal, "INTERNAL", base::Code::kIOError},
};

}  // namespace

const char* UploadErrorName(UploadError e) {
  for (const Entry& entry : kTable) {
    if (entry.error == e) return entry.name;
  }
  return "OK";
}

base::Status MakeError(UploadError e, const std::string& message) {
  for (const Entry& entry : kTable) {
    if (entry.error == e) {
      // Messages quote servers (bodies, headers, URLs they handed out):
      // sanitized here, once, for every caller.
      return base::Status(entry.code, std::string(entry.name) + ": " +
                                          base::SanitizeText(message))
          .WithDetail(static_cast<int>(e));
    }
  }
  return base::Status::OK();
}

base::Status SourceError(const base::Status& source_status) {
  if (source_status.ok()) return source_status;
  if (source_status.detail() == static_cast<int>(UploadError::kSource)) {
    return source_status;
  }
  if (ErrorOf(source_status) != UploadError::kSource) return source_status;
  return base::Status(source_status.code(),
                      "SOURCE: " + source_status.message())
      .WithDetail(static_cast<int>(UploadError::kSource));
}

UploadError ErrorOf(const base::Status& status) {
  if (status.ok()) return UploadError::kNone;
  for (const Entry& entry : kTable) {
    if (static_cast<int>(entry.error) == status.detail()) return entry.error;
  }
  return UploadError::kSource;
}

}  // namespace upload
