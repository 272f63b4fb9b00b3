#include "upload/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace upload {
namespace {

constexpr size_t kMaxBody = 16 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpBody* body;
  uint64_t sent = 0;
  HttpResponse* response;
  const std::function<bool()>* cancelled;
  bool read_error = false;
};

size_t ReadBody(char* buf, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->body->stream != nullptr) {
    int64_t r = t->body->stream->ReadAt(
        t->sent, reinterpret_cast<uint8_t*>(buf), size * nitems);
    if (r < 0) {
      t->read_error = true;
      return CURL_READFUNC_ABORT;
    }
    t->sent += static_cast<uint64_t>(r);
    return static_cast<size_t>(r);
  }
  size_t n = static_cast<size_t>(
      std::min<uint64_t>(size * nitems, t->body->size - t->sent));
  if (n == 0) return 0;
  if (t->body->fd >= 0) {
    ssize_t r;
    do {
      r = ::pread(t->body->fd, buf, n,
                  static_cast<off_t>(t->body->offset + t->sent));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
      t->read_error = true;
      return CURL_READFUNC_ABORT;
    }
    n = static_cast<size_t>(r);
  } else {
    std::memcpy(buf, t->body->data + t->sent, n);
  }
  t->sent += n;
  return n;
}

int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      (t->body->stream == nullptr &&
       static_cast<uint64_t>(offset) > t->body->size)) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  std::string& body = t->response->body;
  if (body.size() < kMaxBody) {
    body.append(data, std::min(n, kMaxBody - body.size()));
  }
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line (e.g. after "100 Continue"): keep only the last
    // response's headers.
    t->response->headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  t->response->headers[name] = std::string(value);
  return n;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return *t->cancelled && (*t->cancelled)() ? 1 : 0;
}

Transport Classify(CURLcode rc) {
  switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
      return Transport::kCancelled;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return Transport::kRetryable;
    default:
      return Transport::kFatal;
  }
}

}  // namespace

HttpClient::HttpClient(const HttpOptions& options) : options_(options) {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

base::Status HttpClient::Perform(const HttpRequest& request,
                                 HttpResponse* response) {
  *response = HttpResponse();
  if (options_.cancelled && options_.cancelled()) {
    response->transport = Transport::kCancelled;
    return base::Status::IOError("cancelled");
  }
  if (curl_ == nullptr) {
    response->transport = Transport::kFatal;
    return base::Status::IOError("curl_easy_init failed");
  }
  CURL* c = curl_;
  curl_easy_reset(c);
  Transfer t{&request.body, 0, response, &options_.cancelled};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // Names are checked (object_names.h) and sent as they are: libcurl must
  // not squash "/../" segments (that would change the account).
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls.verify ? 2L : 0L);
  if (!options_.tls.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
  }
  curl_easy_setopt(c, CURLOPT_USERAGENT, "vhdsm-upload/1");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

  struct curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  const std::string& m = request.method;
  if (m == "PUT" || m == "POST") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    if (request.body.stream != nullptr) {
      headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    } else {
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size));
    }
    if (m == "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (m == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (m != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    response->transport = t.read_error ? Transport::kFatal : Classify(rc);
    std::string what = m + " " + request.url + ": ";
    if (t.read_error)
      return base::Status::IOError(what + "reading the body failed");
    return base::Status::IOError(what + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response->status);
  return base::Status::OK();
}

std::unique_ptr<HttpTransport> NewHttpClient(const HttpOptions& options) {
  return std::make_unique<HttpClient>(options);
}

}  // namespace upload
