// HttpTransport: the seam between the Swift logic (auth, SwiftSession, the
// uploader) and the network. Every request of the upload library goes
// through one; the library's own is HttpClient (libcurl, http_client.h), and
// tests script one to play a store that fails on cue.
//
// Perform() returns OK whenever an HTTP response arrived, whatever its status
// (the caller classifies 4xx/5xx); a non-OK Status means no response: the
// transport failed (refused, reset, timeout, TLS) or the transfer was
// cancelled. response->transport says which, so that retry logic can tell a
// transient network error from one that retrying cannot fix (certificate
// verification, a malformed URL) or a cancel. A transport is used by one
// thread at a time; an HttpTransportFactory makes one per thread.
#ifndef VHDSM_UPLOAD_HTTP_TRANSPORT_H_
#define VHDSM_UPLOAD_HTTP_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace upload {

struct TlsOptions {
  bool verify = true;   // verify the peer's certificate and host name
  std::string ca_file;  // PEM bundle; empty = the system's default
};

struct HttpOptions {
  TlsOptions tls;
  long connect_timeout_s = 10;
  // A transfer slower than 1 byte/s for this long is aborted as a timeout
  // (a segment upload may legitimately take long; a stall may not).
  long stall_timeout_s = 60;
  // Polled during transfers (about once a second, and before each request):
  // returning true aborts the transfer in progress and refuses new ones.
  std::function<bool()> cancelled;
};

// A body still being produced while it is sent: ReadAt() copies up to n
// bytes at `offset` into buf, blocking until they exist; returns the count,
// 0 at the end of the body, -1 if the body will never be complete (its
// producer failed or was cancelled). Everything produced stays readable, so
// a retry can send it again from the start.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual int64_t ReadAt(uint64_t offset, uint8_t* buf, size_t n) = 0;
};

// A request body: `size` bytes from memory (`data`) or, when fd >= 0, from
// the file at `offset` (read with pread, so it can be resent from its start);
// or, when `stream` is set, a body of unknown length sent with
// Transfer-Encoding: chunked.
struct HttpBody {
  const uint8_t* data = nullptr;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t size = 0;
  BodyStream* stream = nullptr;
};

struct HttpRequest {
  std::string method;                // GET HEAD PUT POST DELETE
  std::string url;                   // absolute, already URL-encoded
  std::vector<std::string> headers;  // "Name: value"
  HttpBody body;                     // sent for PUT and POST
};

enum class Transport {
  kOk,         // a response arrived
  kRetryable,  // connect/send/receive failure or timeout
  kFatal,      // TLS verification, bad URL, unsupported: do not retry
  kCancelled,  // HttpOptions::cancelled said so
};

struct HttpResponse {
  Transport transport = Transport::kOk;
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // at most 16 MiB kept
  // The value of header `name` (any case), or "" if absent.
  std::string Header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual base::Status Perform(const HttpRequest& request,
                               HttpResponse* response) = 0;
};

// Makes the transport of one thread, honouring `options` (its cancel
// predicate included).
using HttpTransportFactory =
    std::function<std::unique_ptr<HttpTransport>(const HttpOptions& options)>;

// Percent-encodes everything but RFC 3986 unreserved characters and, if
// keep_slash, '/': for container and object names in URLs.
std::string UrlEncode(std::string_view s, bool keep_slash);
// The inverse for what servers send (X-Object-Manifest, query strings): each
// %XY with two hex digits becomes its byte; anything else is kept as is.
std::string UrlDecode(std::string_view s);
// An ETag header's value without its surrounding double quotes, if any.
std::string UnquoteEtag(std::string s);

}  // namespace upload

#endif  // VHDSM_UPLOAD_HTTP_TRANSPORT_H_
