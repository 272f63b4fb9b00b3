#include "upload/swift_session.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "base/sanitize.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

double Uniform01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

SwiftSession::SwiftSession(const AuthOptions& auth, const RetryPolicy& retry,
                           std::function<bool()> cancelled, LogFn log)
    : auth_options_(auth),
      retry_(retry),
      cancelled_(std::move(cancelled)),
      log_(std::move(log)) {}

void SwiftSession::Log(const std::string& line) const {
  if (log_) log_(base::SanitizeText(line));
}

bool SwiftSession::Sleep(double seconds) const {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    if (cancelled_ && cancelled_()) return false;
    Clock::duration left = until - Clock::now();
    std::this_thread::sleep_for(
        std::min<Clock::duration>(left, std::chrono::milliseconds(20)));
  }
  return !(cancelled_ && cancelled_());
}

base::Status SwiftSession::AuthenticateLocked(HttpTransport* http) {
  const int attempts = std::max(1, retry_.max_attempts);
  base::Status st;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    bool retryable = false;
    AuthResult result;
    st = Authenticate(http, auth_options_, &result, &retryable);
    if (st.ok()) {
      auth_ = std::move(result);
      return st;
    }
    if (!retryable || attempt == attempts) break;
    double delay = BackoffDelay(retry_, attempt, Uniform01());
    Log("auth failed (" + st.message() + "); retry " + std::to_string(attempt) +
        " in " + std::to_string(delay) + " s");
    if (!Sleep(delay)) return MakeError(UploadError::kCancelled, "cancelled");
  }
  if (ErrorOf(st) == UploadError::kRetriesExhausted) {
    return base::Status(st.code(), st.message() + " (after " +
                                       std::to_string(attempts) + " attempts)")
        .WithDetail(st.detail());
  }
  return st;
}

base::Status SwiftSession::Connect(HttpTransport* http) {
  std::lock_guard<std::mutex> l(mu_);
  if (!auth_.token.empty()) return base::Status::OK();
  return AuthenticateLocked(http);
}

base::Status SwiftSession::Reauthenticate(HttpTransport* http,
                                          const std::string& stale) {
  std::lock_guard<std::mutex> l(mu_);
  if (auth_.token != stale) return base::Status::OK();  // someone else did
  reauths_.fetch_add(1);
  Log("token rejected (401): re-authenticating");
  return AuthenticateLocked(http);
}

std::string SwiftSession::storage_url() const {
  std::lock_guard<std::mutex> l(mu_);
  return auth_.storage_url;
}

AuthResult SwiftSession::current_auth() const {
  std::lock_guard<std::mutex> l(mu_);
  return auth_;
}

void SwiftSession::Seed(const AuthResult& auth) {
  std::lock_guard<std::mutex> l(mu_);
  auth_ = auth;
}

SessionStats SwiftSession::stats() const {
  return {requests_.load(), retries_.load(), reauths_.load(), resends_.load()};
}

SwiftSession::Next SwiftSession::OnResponse(
    HttpTransport* http, const std::string& token, const std::string& what,
    const HttpResponse& r, const CallOptions& options, CallState* state,
    base::Status* result) {
  const long s = r.status;
  const bool success = s >= 200 && s <= 299;
  bool ok = success || std::find(options.also_ok.begin(), options.also_ok.end(),
                                 s) != options.also_ok.end();
  // Only a 2xx or 422 answers a complete body: only then is a streamed
  // body's MD5 known.
  std::string expected = options.expected_etag;
  if (expected.empty() && options.expected_etag_after &&
      (success || s == 422)) {
    expected = options.expected_etag_after();
  }
  const bool corrupted = ok && success && !expected.empty() &&
                         UnquoteEtag(r.Header("etag")) != expected;
  *result = base::Status::OK();
  if (ok && !corrupted) return Next::kReturn;
  if (s == 401) {
    if (state->reauthed) {
      *result = MakeError(UploadError::kAuthFailed,
                          what + ": 401 again after re-authenticating");
      return Next::kReturn;
    }
    state->reauthed = true;
    *result = Reauthenticate(http, token);
    return result->ok() ? Next::kRepeat : Next::kReturn;
  }
  if (corrupted || (s == 422 && !expected.empty())) {
    std::string why =
        corrupted
            ? "stored ETag " + UnquoteEtag(r.Header("etag")) + " != " + expected
            : "422 (body MD5 differs from ETag)";
    if (state->resent) {
      *result = MakeError(UploadError::kChecksumMismatch,
                          what + ": " + why + ", twice");
      return Next::kReturn;
    }
    state->resent = true;
    resends_.fetch_add(1);
    Log(what + ": " + why + "; resending once");
    return Next::kRepeat;
  }
  if (IsTransientStatus(s)) return Next::kRetry;
  // The body is the server's: bounded and made printable here, cut at a
  // character boundary (a byte-wise cut made invalid UTF-8).
  std::string detail = base::SanitizeText(r.body, 512);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) {
    detail.pop_back();
  }
  *result = MakeError(UploadError::kRejected,
                      what + ": " + std::to_string(s) +
                          (detail.empty() ? "" : " (" + detail + ")"));
  return Next::kReturn;
}

base::Status SwiftSession::Backoff(const std::string& what,
                                   const std::string& failure,
                                   const HttpResponse& response,
                                   CallState* state) {
  const int attempts = std::max(1, retry_.max_attempts);
  if (++state->transient >= attempts) {
    return MakeError(UploadError::kRetriesExhausted,
                     what + ": " + failure + " after " +
                         std::to_string(attempts) + " attempts");
  }
  retries_.fetch_add(1);
  double delay = BackoffDelay(retry_, state->transient, Uniform01());
  double after =
      ParseRetryAfter(response.Header("retry-after"), std::time(nullptr));
  if (after >= 0) {
    delay = std::max(delay, std::min(after, retry_.max_retry_after_s));
  }
  Log(what + ": " + failure + "; retry " + std::to_string(state->transient) +
      " in " + std::to_string(delay) + " s");
  if (!Sleep(delay)) {
    return MakeError(UploadError::kCancelled, "cancelled during " + what);
  }
  return base::Status::OK();
}

base::Status SwiftSession::Call(HttpTransport* http, const std::string& method,
                                const std::string& path,
                                const std::vector<std::string>& headers,
                                const HttpBody& body, HttpResponse* response,
                                const CallOptions& options) {
  RETURN_IF_ERROR(Connect(http));
  CallState state;
  for (;;) {
    const AuthResult auth = current_auth();
    HttpRequest req;
    req.method = method;
    req.url = auth.storage_url + path;
    req.headers = headers;
    req.headers.push_back("X-Auth-Token: " + auth.token);
    req.body = body;
    const std::string what = method + " " + req.url;
    requests_.fetch_add(1);
    base::Status st = http->Perform(req, response);
    std::string failure;  // set for a transient failure
    if (!st.ok()) {
      if (response->transport == Transport::kCancelled) {
        return MakeError(UploadError::kCancelled, "cancelled during " + what);
      }
      if (response->transport == Transport::kFatal) {
        return MakeError(UploadError::kTransport, st.message());
      }
      failure = st.message();
    } else {
      base::Status result;
      Next next = OnResponse(http, auth.token, what, *response, options, &state,
                             &result);
      if (next == Next::kReturn) return result;
      if (next == Next::kRepeat) continue;
      failure = std::to_string(response->status);
    }
    RETURN_IF_ERROR(Backoff(what, failure, *response, &state));
  }
}

}  // namespace upload
