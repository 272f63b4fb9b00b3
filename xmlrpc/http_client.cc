#include "xmlrpc/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "xmlrpc/parser.h"

namespace xmlrpc {

namespace {

struct Sink {
  std::string* body;
  size_t limit;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->body->size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // makes libcurl abort the transfer
  }
  sink->body->append(data, n);
  return n;
}

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

Client::~Client() {
  if (curl_ != nullptr) curl_easy_cleanup(Handle(curl_));
}

Result<HttpReply> Client::Post(std::string_view body,
                               std::string_view content_type) {
  CURL* curl = Handle(curl_);
  if (curl == nullptr) {
    return Fault{interop::kTransportError, "libcurl initialisation failed"};
  }
  HttpReply reply;
  Sink sink{&reply.body, options_.limits.max_body_bytes};
  std::string type_header = "Content-Type: " + std::string(content_type);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, type_header.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue wait
  headers = curl_slist_append(headers, "User-Agent: vhdsm-xmlrpc");

  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
                   options_.unix_socket_path.empty()
                       ? nullptr
                       : options_.unix_socket_path.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_ += connects;
  if (sink.overflow) {
    return Fault{
        interop::kTransportError,
        "response larger than " + std::to_string(sink.limit) + " bytes"};
  }
  if (rc != CURLE_OK) {
    return Fault{interop::kTransportError,
                 std::string("HTTP request failed: ") + curl_easy_strerror(rc)};
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) reply.content_type = type;
  return reply;
}

Response Client::Call(const std::string& method, std::vector<Value> params) {
  Result<std::string> request =
      WriteMethodCall(MethodCall{method, std::move(params)}, options_.style);
  if (!request.ok()) return request.fault();
  Result<HttpReply> reply = Post(request.value());
  if (!reply.ok()) return reply.fault();
  if (reply.value().status != 200) {
    return Fault{interop::kTransportError,
                 "HTTP status " + std::to_string(reply.value().status)};
  }
  Result<Response> response =
      ParseMethodResponse(reply.value().body, options_.limits);
  if (!response.ok()) {
    return Fault{interop::kParseError,
                 "bad response: " + response.fault().message};
  }
  return std::move(response).value();
}

}  // namespace xmlrpc
