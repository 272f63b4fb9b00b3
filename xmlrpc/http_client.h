// Client: calls XML-RPC methods over HTTP with libcurl, on a Unix socket or
// over TCP.
//
// One Client holds one libcurl handle and reuses its connection between
// calls (HTTP/1.1 keep-alive). It is not thread-safe: use one per thread.
//
// Call() returns the peer's result or the peer's fault as they are. Errors
// that are not the peer's answer are faults too, with the interoperability
// codes: interop::kTransportError (cannot connect, timeout, HTTP status other
// than 200, response larger than Limits::max_body_bytes) and
// interop::kParseError (the 200 response is not a valid methodResponse).
#ifndef VHDSM_XMLRPC_HTTP_CLIENT_H_
#define VHDSM_XMLRPC_HTTP_CLIENT_H_

#include <string>
#include <string_view>
#include <vector>

#include "xmlrpc/fault.h"
#include "xmlrpc/limits.h"
#include "xmlrpc/message.h"
#include "xmlrpc/value.h"
#include "xmlrpc/writer.h"

namespace xmlrpc {

struct ClientOptions {
  // When set, connect to this Unix socket; the URL then only supplies the
  // path and the Host header.
  std::string unix_socket_path;
  std::string url = "http://localhost/RPC2";
  long timeout_ms = 0;  // for a whole call; 0: none
  long connect_timeout_ms = 5000;
  Limits limits;                  // for the responses
  Style style = Style::kCompact;  // of the requests
};

// A raw HTTP exchange, for tests and diagnostics.
struct HttpReply {
  long status = 0;
  std::string content_type;
  std::string body;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response Call(const std::string& method, std::vector<Value> params = {});

  // POSTs `body` as is.
  Result<HttpReply> Post(std::string_view body,
                         std::string_view content_type = "text/xml");

  // How many TCP/Unix connections libcurl has opened so far (1 after any
  // number of calls on a kept-alive connection).
  long connections_opened() const { return connections_opened_; }

 private:
  ClientOptions options_;
  void* curl_;  // CURL*
  long connections_opened_ = 0;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_HTTP_CLIENT_H_
