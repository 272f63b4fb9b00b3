// SwiftSession: authenticated, retried requests to one Swift account, shared
// by the threads of an upload.
//
// The token is fetched once (Connect) and reused by every request and every
// thread. Call() sends one request with the current token and:
//   - retries transient failures (no response, 408, 429, 498, 5xx but
//     501/505) per the RetryPolicy, honouring Retry-After; the body is resent
//     from its start;
//   - on 401 re-authenticates once (one thread does it; the others reuse the
//     new token) and repeats the request;
//   - with CallOptions::expected_etag(_after), treats a 422 (Swift: the
//     body's MD5 differs from the ETag sent, i.e. corrupted in transit) or a
//     success whose ETag differs as corruption and resends once;
//   - fails at once on any other status outside 2xx and `also_ok`.
// Errors carry the codes of upload_error.h (RETRIES_EXHAUSTED, REJECTED,
// AUTH_FAILED, CHECKSUM_MISMATCH, CANCELLED, TRANSPORT). Waits between
// retries end early when `cancelled()` says so. Thread-safe; each thread passes
// its own HttpTransport.
#ifndef VHDSM_UPLOAD_SWIFT_SESSION_H_
#define VHDSM_UPLOAD_SWIFT_SESSION_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "upload/auth.h"
#include "upload/http_transport.h"
#include "upload/retry_policy.h"

namespace upload {

// Receives one line per notable event (a retry, a re-authentication);
// lines never contain credentials or tokens.
using LogFn = std::function<void(const std::string& line)>;

struct CallOptions {
  std::vector<long> also_ok;  // statuses accepted besides 2xx (e.g. 404)
  std::string expected_etag;  // MD5 hex the stored object must have
  // The same, for a body whose MD5 is known only once it has been sent
  // (a streamed segment): asked after a response to the complete body.
  std::function<std::string()> expected_etag_after;

  static CallOptions NotFoundOk() {
    CallOptions o;
    o.also_ok = {404};
    return o;
  }
  static CallOptions Etag(std::string md5) {
    CallOptions o;
    o.expected_etag = std::move(md5);
    return o;
  }
};

struct SessionStats {
  uint64_t requests = 0;  // HTTP exchanges with storage, retries included
  uint64_t retries = 0;   // transient failures retried
  uint64_t reauths = 0;   // re-authentications after a 401
  uint64_t resends = 0;   // bodies resent after a checksum mismatch
};

class SwiftSession {
 public:
  SwiftSession(const AuthOptions& auth, const RetryPolicy& retry,
               std::function<bool()> cancelled, LogFn log = nullptr);

  // Authenticates if no token is held yet.
  base::Status Connect(HttpTransport* http);

  // `path` is relative to the storage URL and URL-encoded ("/c/o?x=y").
  base::Status Call(HttpTransport* http, const std::string& method,
                    const std::string& path,
                    const std::vector<std::string>& headers,
                    const HttpBody& body, HttpResponse* response,
                    const CallOptions& options = {});

  std::string storage_url() const;
  // The token and storage URL in use, and a way to start another session
  // (e.g. one that ignores the cancel, for clean-up) without a new auth.
  AuthResult current_auth() const;
  void Seed(const AuthResult& auth);
  SessionStats stats() const;
  const RetryPolicy& retry_policy() const { return retry_; }

 private:
  // What one Call has been through so far.
  struct CallState {
    int transient = 0;  // transient failures
    bool reauthed = false;
    bool resent = false;
  };
  enum class Next {
    kReturn,  // the call ends with *result
    kRepeat,  // send again at once (new token, or a corrupted body)
    kRetry,   // a transient failure: back off, then send again
  };
  // Judges a response to `what`, sent with `token`.
  Next OnResponse(HttpTransport* http, const std::string& token,
                  const std::string& what, const HttpResponse& response,
                  const CallOptions& options, CallState* state,
                  base::Status* result);
  // Counts a transient failure and waits before the next attempt; non-OK
  // once the attempts are used up or on cancel.
  base::Status Backoff(const std::string& what, const std::string& failure,
                       const HttpResponse& response, CallState* state);
  // Authenticates with retries. mu_ held.
  base::Status AuthenticateLocked(HttpTransport* http);
  // Replaces `stale` unless another thread already did.
  base::Status Reauthenticate(HttpTransport* http, const std::string& stale);
  // Sleeps `seconds`, waking early on cancel; false if cancelled.
  bool Sleep(double seconds) const;
  void Log(const std::string& line) const;

  const AuthOptions auth_options_;
  const RetryPolicy retry_;
  const std::function<bool()> cancelled_;
  LogFn log_;

  mutable std::mutex mu_;
  AuthResult auth_;
  std::atomic<uint64_t> requests_{0}, retries_{0}, reauths_{0}, resends_{0};
};

}  // namespace upload

#endif  // VHDSM_UPLOAD_SWIFT_SESSION_H_
