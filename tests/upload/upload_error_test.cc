// The upload library's error codes: a Status detail, never parsed from the
// message.
#include "upload/upload_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/status_matchers.h"

namespace upload {
namespace {

TEST(UploadError, MessagesQuotingServersAreSanitized) {
  // A 403 body with 0xFF, a forged log line and a terminal escape.
  base::Status st =
      MakeError(UploadError::kRejected, "PUT x: 403 (\xff\nFAKE LINE\x1b[2J)");
  EXPECT_EQ(st.message(),
            "REJECTED: PUT x: 403 (\xEF\xBF\xBD\\x0AFAKE LINE\\x1B[2J)");
  EXPECT_NO_THROW(nlohmann::json({{"m", st.message()}}).dump());
  EXPECT_EQ(ErrorOf(st), UploadError::kRejected);
  EXPECT_LE(MakeError(UploadError::kRejected, std::string(1 << 20, 'x'))
                .message()
                .size(),
            4096u + 10);
}

TEST(UploadError, NamesNumbersAndBaseCodesAreStable) {
  struct Row {
    UploadError e;
    int number;
    const char* name;
    base::Code code;
  };
  const Row rows[] = {
      {UploadError::kInvalidArgument, 1, "INVALID_ARGUMENT",
       base::Code::kInvalidArgument},
      {UploadError::kSource, 2, "SOURCE", base::Code::kIOError},
      {UploadError::kAuthFailed, 3, "AUTH_FAILED",
       base::Code::kInvalidArgument},
      {UploadError::kAuthResponse, 4, "AUTH_RESPONSE", base::Code::kCorruption},
      {UploadError::kRetriesExhausted, 5, "RETRIES_EXHAUSTED",
       base::Code::kIOError},
      {UploadError::kRejected, 6, "REJECTED", base::Code::kIOError},
      {UploadError::kChecksumMismatch, 7, "CHECKSUM_MISMATCH",
       base::Code::kCorruption},
      {UploadError::kTooLarge, 8, "TOO_LARGE", base::Code::kTooLarge},
      {UploadError::kVerifyFailed, 9, "VERIFY_FAILED", base::Code::kCorruption},
      {UploadError::kCancelled, 10, "CANCELLED", base::Code::kBusy},
      {UploadError::kTransport, 11, "TRANSPORT", base::Code::kIOError},
      {UploadError::kInternal, 12, "INTERNAL", base::Code::kIOError},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(static_cast<int>(r.e), r.number);
    EXPECT_STREQ(UploadErrorName(r.e), r.name);
    base::Status st = MakeError(r.e, "PUT x: 503");
    EXPECT_EQ(st.code(), r.code);
    EXPECT_EQ(st.detail(), r.number);
    EXPECT_EQ(st.message(), std::string(r.name) + ": PUT x: 503");
    EXPECT_EQ(ErrorOf(st), r.e);
  }
  EXPECT_STREQ(UploadErrorName(UploadError::kNone), "OK");
  EXPECT_OK(MakeError(UploadError::kNone, "nothing"));
}

TEST(UploadError, TheCodeIsTheDetailNotTheMessage) {
  EXPECT_EQ(ErrorOf(base::Status::OK()), UploadError::kNone);
  // A message that merely looks like one of ours carries no code.
  EXPECT_EQ(ErrorOf(base::Status::IOError("RETRIES_EXHAUSTED: PUT x: 503")),
            UploadError::kSource);
  EXPECT_EQ(ErrorOf(base::Status::IOError("read failed")),
            UploadError::kSource);
  // The detail decides, whatever the message says.
  EXPECT_EQ(ErrorOf(base::Status::IOError("no name here").WithDetail(7)),
            UploadError::kChecksumMismatch);
  // A detail that is no UploadError counts as a failure of the source.
  EXPECT_EQ(ErrorOf(base::Status::IOError("x").WithDetail(99)),
            UploadError::kSource);
  // Context added on the way up keeps the code.
  EXPECT_EQ(ErrorOf(MakeError(UploadError::kTooLarge, "x").Annotate("image")),
            UploadError::kTooLarge);
}

TEST(UploadError, SourceErrorMarksOnlyForeignFailures) {
  base::Status src = SourceError(base::Status::Corruption("short"));
  EXPECT_EQ(src.code(), base::Code::kCorruption);
  EXPECT_EQ(src.message(), "SOURCE: short");
  EXPECT_EQ(src.detail(), static_cast<int>(UploadError::kSource));
  EXPECT_EQ(ErrorOf(src), UploadError::kSource);
  // Once is enough.
  EXPECT_EQ(SourceError(src).message(), "SOURCE: short");
  // A source that failed with one of our codes keeps it.
  base::Status cancelled = MakeError(UploadError::kCancelled, "stop");
  EXPECT_EQ(SourceError(cancelled).message(), cancelled.message());
  EXPECT_EQ(ErrorOf(SourceError(cancelled)), UploadError::kCancelled);
  EXPECT_OK(SourceError(base::Status::OK()));
}

}  // namespace
}  // namespace upload
