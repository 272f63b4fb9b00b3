// Stable error codes of the upload library.
//
// Every failing call of this library returns a base::Status whose detail()
// is the UploadError value (base::Status::WithDetail) and whose code() is the
// base::Code of the table below. The detail is what callers test (ErrorOf);
// the message starts with the code's name for humans, e.g.
// "RETRIES_EXHAUSTED: PUT .../00000003: 503 after 6 attempts", but nothing
// parses it. The numbers and names are part of the contract (task records,
// CLI exit codes) and are never renumbered. Messages never contain
// credentials or tokens.
//
//   code                 base::Code          meaning
//   1 INVALID_ARGUMENT   kInvalidArgument   bad options (names, sizes, URLs)
//   2 SOURCE             (the source's)     reading or compressing the image
//   3 AUTH_FAILED        kInvalidArgument   credentials rejected (401/403)
//   4 AUTH_RESPONSE      kCorruption        identity answered without a
//                                           usable token or storage endpoint
//   5 RETRIES_EXHAUSTED  kIOError           transient failures (network,
//                                           timeouts, 408/429/498/5xx)
//                                           outlasted the retry policy
//   6 REJECTED           kIOError           Swift refused a request with a
//                                           status retrying cannot fix
//   7 CHECKSUM_MISMATCH  kCorruption        a segment arrived corrupted twice
//                                           (422, or a different ETag)
//   8 TOO_LARGE          kTooLarge          the image cannot fit the store's
//                                           limits (checked before uploading)
//   9 VERIFY_FAILED      kCorruption        the final object's size or ETag
//                                           differ from what was sent
//  10 CANCELLED          kBusy              the caller cancelled
//  11 TRANSPORT          kIOError           a failure retrying cannot fix
//                                           (TLS verification, bad URL)
//  12 INTERNAL           kIOError           an exception inside the library
//                                           (a defect, or out of memory)
#ifndef VHDSM_UPLOAD_UPLOAD_ERROR_H_
#define VHDSM_UPLOAD_UPLOAD_ERROR_H_

#include <string>

#include "base/status.h"

namespace upload {

enum class UploadError : int {
  kNone = 0,
  kInvalidArgument = 1,
  kSource = 2,
  kAuthFailed = 3,
  kAuthResponse = 4,
  kRetriesExhausted = 5,
  kRejected = 6,
  kChecksumMismatch = 7,
  kTooLarge = 8,
  kVerifyFailed = 9,
  kCancelled = 10,
  kTransport = 11,
  kInternal = 12,
};

// "RETRIES_EXHAUSTED", ...; "OK" for kNone.
const char* UploadErrorName(UploadError e);

// A Status with detail `e`, the base::Code of the table and the message
// "<NAME>: <message>"; `message` passes through base::SanitizeText (it may
// quote a server). kNone gives OK.
base::Status MakeError(UploadError e, const std::string& message);
// A failure of the stream being uploaded: an error of this library passes
// unchanged; any other Status keeps its code, gets detail kSource and the
// prefix "SOURCE: ".
base::Status SourceError(const base::Status& source_status);

// The code a Status of this library carries: kNone for OK, its detail when
// that is an UploadError, kSource for any other failure (one that did not
// come through MakeError, e.g. the source's own). The message is not read.
UploadError ErrorOf(const base::Status& status);

}  // namespace upload

#endif  // VHDSM_UPLOAD_UPLOAD_ERROR_H_
