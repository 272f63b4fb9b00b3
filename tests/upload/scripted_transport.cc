#include "tests/upload/scripted_transport.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace uploadtest {
namespace {

constexpr size_t kMaxBody = 16 << 20;  // as HttpClient keeps

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t from = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return from == std::string::npos ? "/" : url.substr(from);
}

// Reads the whole body as libcurl would; false if it cannot be read.
bool ReadBody(const upload::HttpBody& b, std::string* out) {
  out->clear();
  if (b.stream != nullptr) {
    uint8_t buf[65536];
    for (;;) {
      int64_t r = b.stream->ReadAt(out->size(), buf, sizeof(buf));
      if (r < 0) return false;
      if (r == 0) return true;
      out->append(reinterpret_cast<char*>(buf), static_cast<size_t>(r));
    }
  }
  if (b.fd >= 0) {
    out->resize(b.size);
    size_t done = 0;
    while (done < b.size) {
      ssize_t r = ::pread(b.fd, out->data() + done, b.size - done,
                          static_cast<off_t>(b.offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }
  if (b.size > 0) out->assign(reinterpret_cast<const char*>(b.data), b.size);
  return true;
}

class ScriptedTransport : public upload::HttpTransport {
 public:
  ScriptedTransport(HttpScript* script, upload::HttpOptions options)
      : script_(script), options_(std::move(options)) {}
  base::Status Perform(const upload::HttpRequest& request,
                       upload::HttpResponse* response) override {
    return script_->Perform(options_, request, response);
  }

 private:
  HttpScript* script_;
  upload::HttpOptions options_;
};

}  // namespace

std::string Exchange::Header(std::string_view name) const {
  std::string want = Lower(name);
  for (const std::string& h : headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || Lower(h.substr(0, colon)) != want) {
      continue;
    }
    std::string_view v = std::string_view(h).substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return std::string(v);
  }
  return "";
}

bool Exchange::HasHeader(std::string_view name) const {
  std::string want = Lower(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return Lower(h.substr(0, h.find(':'))) == want;
  });
}

Reply Reply::Status(long status, std::string body) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Reply Reply::Reset() {
  Reply r;
  r.transport = upload::Transport::kRetryable;
  r.status = 0;
  return r;
}

Reply& Reply::Set(const std::string& name, std::string value) {
  headers[Lower(name)] = std::move(value);
  return *this;
}

void HttpScript::Queue(const std::string& method, const std::string& path_regex,
                       std::vector<Reply> replies) {
  std::lock_guard<std::mutex> l(mu_);
  queued_.push_back(
      {method, path_regex, std::regex(path_regex), std::move(replies), 0, {}});
}

void HttpScript::Serve(const std::string& method, const std::string& path_regex,
                       Responder respond) {
  std::lock_guard<std::mutex> l(mu_);
  served_.push_back(
      {method, path_regex, std::regex(path_regex), {}, 0, std::move(respond)});
}

bool HttpScript::Find(const Exchange& e, Reply* reply) {
  for (Rule& r : queued_) {
    if (r.next < r.queued.size() && r.method == e.method &&
        std::regex_search(e.path, r.path)) {
      *reply = r.queued[r.next++];
      return true;
    }
  }
  for (Rule& r : served_) {
    if (r.method == e.method && std::regex_search(e.path, r.path)) {
      *reply = r.respond(e);
      return true;
    }
  }
  return false;
}

base::Status HttpScript::Perform(const upload::HttpOptions& options,
                                 const upload::HttpRequest& request,
                                 upload::HttpResponse* response) {
  *response = upload::HttpResponse();
  const std::string what = request.method + " " + request.url;
  if (options.cancelled && options.cancelled()) {
    response->transport = upload::Transport::kCancelled;
    return base::Status::IOError("cancelled");
  }
  Exchange e{request.method, request.url, PathOf(request.url), request.headers,
             ""};
  if ((request.method == "PUT" || request.method == "POST") &&
      !ReadBody(request.body, &e.body)) {
    response->transport = upload::Transport::kFatal;
    return base::Status::IOError(what + ": reading the body failed");
  }
  Reply reply;
  {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back(e);
    if (!Find(e, &reply)) {
      unmatched_.push_back(what);
      response->transport = upload::Transport::kFatal;
      return base::Status::IOError(what + ": not in the script");
    }
  }
  if (reply.transport != upload::Transport::kOk) {
    response->transport = reply.transport;
    return base::Status::IOError(what + ": scripted transport failure");
  }
  response->status = reply.status;
  for (const auto& [k, v] : reply.headers) response->headers[Lower(k)] = v;
  if (request.method != "HEAD") {
    response->body = reply.body.substr(0, kMaxBody);
  }
  return base::Status::OK();
}

std::vector<Exchange> HttpScript::Requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_;
}

std::vector<Exchange> HttpScript::Requests(
    const std::string& method, const std::string& path_regex) const {
  std::regex re(path_regex);
  std::vector<Exchange> out;
  for (const Exchange& e : Requests()) {
    if (e.method == method && std::regex_search(e.path, re)) out.push_back(e);
  }
  return out;
}

std::vector<std::string> HttpScript::Unmatched() const {
  std::lock_guard<std::mutex> l(mu_);
  return unmatched_;
}

std::unique_ptr<upload::HttpTransport> HttpScript::NewTransport(
    const upload::HttpOptions& options) {
  return std::make_unique<ScriptedTransport>(this, options);
}

upload::HttpTransportFactory HttpScript::Factory() {
  return [this](const upload::HttpOptions& o) { return NewTransport(o); };
}

}  // namespace uploadtest
