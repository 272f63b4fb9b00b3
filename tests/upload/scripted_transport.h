// A scripted upload::HttpTransport for tests that need no live Swift: rules
// answer requests by method and path, every request is recorded (method,
// URL, headers, whole body) for the test to assert on.
//
// Rules: Queue() gives the next matching requests one reply each, in order,
// then is used up (a fault on cue: "the next 3 PUTs of segment 2 get 503");
// Serve() answers every matching request with a function (a store, see
// fake_swift.h). Queued replies are tried first, in the order queued, then
// served ones; a request no rule matches fails as a fatal transport error
// and is listed in Unmatched(). Transports made by one script share it and
// may be used from several threads at once; responders run one at a time
// (under the script's lock: they must not call the script).
#ifndef VHDSM_TESTS_UPLOAD_SCRIPTED_TRANSPORT_H_
#define VHDSM_TESTS_UPLOAD_SCRIPTED_TRANSPORT_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "upload/http_transport.h"

namespace uploadtest {

// One request as the transport received it.
struct Exchange {
  std::string method;
  std::string url;
  std::string path;  // the URL from its path on: "/v1/AUTH_t/c/o?x=y"
  std::vector<std::string> headers;  // "Name: value", as sent
  std::string body;                  // the whole body, streamed ones included
  // The value of header `name` (any case), or "" if absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

// What the script answers: a response, or (transport != kOk) none.
struct Reply {
  upload::Transport transport = upload::Transport::kOk;
  long status = 200;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  static Reply Status(long status, std::string body = "");
  // No response: a reset connection (retryable).
  static Reply Reset();
  Reply& Set(const std::string& name, std::string value);
};

using Responder = std::function<Reply(const Exchange&)>;

class HttpScript {
 public:
  // `path_regex` is searched (ECMAScript) in Exchange::path.
  void Queue(const std::string& method, const std::string& path_regex,
             std::vector<Reply> replies);
  void Serve(const std::string& method, const std::string& path_regex,
             Responder respond);

  // Requests received so far, in order; those with `method` and a path
  // matching `path_regex`.
  std::vector<Exchange> Requests() const;
  std::vector<Exchange> Requests(const std::string& method,
                                 const std::string& path_regex) const;
  // "METHOD URL" of the requests no rule matched.
  std::vector<std::string> Unmatched() const;

  // A transport on this script honouring options.cancelled (checked before
  // each request). The script must outlive it.
  std::unique_ptr<upload::HttpTransport> NewTransport(
      const upload::HttpOptions& options = {});
  upload::HttpTransportFactory Factory();

  // Used by the transports.
  base::Status Perform(const upload::HttpOptions& options,
                       const upload::HttpRequest& request,
                       upload::HttpResponse* response);

 private:
  struct Rule {
    std::string method;
    std::string pattern;
    std::regex path;
    std::vector<Reply> queued;  // front first; unused when `respond` is set
    size_t next = 0;
    Responder respond;
  };
  bool Find(const Exchange& e, Reply* reply);

  mutable std::mutex mu_;
  std::vector<Rule> queued_;
  std::vector<Rule> served_;
  std::vector<Exchange> log_;
  std::vector<std::string> unmatched_;
};

}  // namespace uploadtest

#endif  // VHDSM_TESTS_UPLOAD_SCRIPTED_TRANSPORT_H_
