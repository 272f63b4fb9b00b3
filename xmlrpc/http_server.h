// HttpServer: XML-RPC over HTTP/1.1 POST, served by libmicrohttpd.
//
// Listens on a Unix socket (mode 0600 unless configured) and/or a TCP port
// on 127.0.0.1 (never another interface). Connections are kept alive.
//
// Each listener is independent, so that an attack on one (the TCP port is
// open to every local user) cannot starve the other (the Unix socket is
// xapi's): it has its own event-loop thread, its own connection limit, its
// own WorkerPool of `threads` threads that run the methods (a connection is
// suspended meanwhile, so a slow method never stalls other connections),
// and its own budget of request-body memory.
//
// Resource bounds, per listener:
//   max_connections            connections open at once; past it new ones
//                              are closed at once;
//   request_timeout_seconds    a whole-request deadline: from the moment a
//                              connection waits for a request (accepted, or
//                              its previous response sent) until the request
//                              is complete, and again from the response
//                              being queued until it is sent. The method's
//                              own running time does not count. A client
//                              that is not done by then (slow headers, a
//                              body trickled a byte at a time, a response
//                              not read) is disconnected, whatever its pace;
//   connection_timeout_seconds idle time of a connection (libmicrohttpd's);
//   body_budget_bytes          request bodies held in memory by the
//                              listener's requests at once. A request with a
//                              Content-Length reserves it from the headers;
//                              if the budget cannot cover it, 503 at once and
//                              none of the body is read. A chunked body takes
//                              from the budget as it grows, and is cut off by
//                              closing the connection when the budget is
//                              spent. Memory for bodies never exceeds it.
//
// HTTP semantics:
//   200  every XML-RPC answer, faults included ("unless there's a
//        lower-level error, always return 200 OK"), Content-Type text/xml;
//   405  a method other than POST (with "Allow: POST");
//   415  a Content-Type other than text/xml (parameters such as charset are
//        fine; application/xml is tolerated), when require_xml_content_type;
//        or any Content-Encoding but identity;
//   413  a Content-Length above the body limit: answered from the headers,
//        before any of the body is read (no 100 Continue is sent), and the
//        connection is closed. A chunked body that grows past the limit is
//        cut off by closing the connection (it cannot get a status line once
//        reading has begun); memory stays bounded either way;
//   400  malformed HTTP (libmicrohttpd's own checks);
//   503  the listener's body budget cannot hold the request (answered from
//        the headers, connection closed), or a request that arrives while
//        Stop() is under way;
//   403  a request on the Unix socket from a peer whose uid (SO_PEERCRED)
//        is not in unix_peer_uids, when that list is not empty. The socket's
//        mode already keeps others out; this holds even if the mode or a
//        directory is loosened by mistake.
//
// Every request reaches the handler with its Peer (peer.h): the listener it
// came in on and, on the Unix socket, the peer's uid and pid.
//
// Stop() (and the destructor) stops accepting connections, lets the
// requests under way finish and their responses go out (up to 5 s for the
// sending), closes every connection and removes the Unix socket file. To
// stop on SIGTERM, block the signal in all threads before Start(), sigwait()
// for it, then call Stop() (see tests/xmlrpc/test_server_main.cc).
#ifndef VHDSM_XMLRPC_HTTP_SERVER_H_
#define VHDSM_XMLRPC_HTTP_SERVER_H_

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xmlrpc/dispatcher.h"
#include "xmlrpc/fault.h"
#include "xmlrpc/peer.h"

namespace xmlrpc {

struct HttpServerOptions {
  std::string unix_socket_path;  // empty: no Unix socket
  mode_t unix_socket_mode = 0600;
  // Peers allowed on the Unix socket, by uid; empty: whoever can connect.
  std::vector<uid_t> unix_peer_uids;
  int tcp_port = -1;  // -1: no TCP; 0: any free port on 127.0.0.1
  // The rest is per listener (see above).
  unsigned threads = 4;  // methods running at once (the worker pool)
  unsigned max_connections = 256;
  unsigned connection_timeout_seconds = 60;  // idle keep-alive connections
  unsigned request_timeout_seconds = 30;     // 0: no deadline
  size_t body_budget_bytes = size_t{64} << 20;
  bool require_xml_content_type = true;
  // 0: the dispatcher's Limits::max_body_bytes.
  size_t max_body_bytes = 0;
};

// Turns one request body from `peer` into one <methodResponse>; never
// fails. Called on worker threads, concurrently.
using RequestHandler = std::function<std::string(
    std::string_view body, const Peer& peer, Dispatcher::Outcome*)>;

class HttpServer {
 public:
  // `dispatcher` must outlive the server.
  HttpServer(const Dispatcher& dispatcher, HttpServerOptions options);
  // Serves with `handler` instead of a Dispatcher (a host of a plugin that
  // speaks XML-RPC bytes in, bytes out); 0 for options.max_body_bytes means
  // Limits' default.
  HttpServer(RequestHandler handler, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Errors carry interop::kTransportError.
  Result<void> Start();
  // Idempotent. Safe to call from any thread but a request handler's.
  void Stop();

  // The TCP port bound, or -1 without TCP.
  int tcp_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_HTTP_SERVER_H_
