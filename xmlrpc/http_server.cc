#include "xmlrpc/http_server.h"

#include <microhttpd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "xmlrpc/listen_socket.h"
#include "xmlrpc/log.h"
#include "xmlrpc/worker_pool.h"

namespace xmlrpc {

namespace {

constexpr auto kSendGrace = std::chrono::seconds(5);

// One request, from its headers to the completion callback.
struct RequestState {
  std::string body;
  bool dispatched = false;  // handed to the pool (connection suspended)
  bool ready = false;       // `status` and `response` are set
  unsigned status = 0;
  std::string response;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "text/xml; charset=utf-8" -> true. application/xml is tolerated too.
bool IsXmlMediaType(const char* content_type) {
  if (content_type == nullptr) return false;
  std::string_view v(content_type);
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  return EqualsIgnoreCase(v, "text/xml") ||
         EqualsIgnoreCase(v, "application/xml");
}

MHD_Result Reply(MHD_Connection* connection, unsigned status,
                 std::string_view body, const char* content_type,
                 const char* allow = nullptr) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow != nullptr) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
  }
  MHD_Result ret = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return ret;
}

MHD_Result ReplyError(MHD_Connection* connection, unsigned status,
                      const std::string& message, const char* allow = nullptr) {
  Log(LOG_WARNING, "HTTP " + std::to_string(status) + ": " + message);
  return Reply(connection, status, message + "\n", "text/plain", allow);
}

void OnLibraryLog(void* /*cls*/, const char* format, va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), format, args);
  Log(LOG_INFO, std::string("libmicrohttpd: ") + buf);
}

}  // namespace

struct HttpServer::Impl {
  Impl(RequestHandler h, HttpServerOptions o, size_t default_max_body)
      : handler(std::move(h)),
        options(std::move(o)),
        max_body_bytes(options.max_body_bytes != 0 ? options.max_body_bytes
                                                   : default_max_body) {}

  static MHD_Result OnRequest(void* cls, MHD_Connection* connection,
                              const char* url, const char* method,
                              const char* version, const char* upload_data,
                              size_t* upload_data_size, void** con_cls);
  static void OnCompleted(void* cls, MHD_Connection* connection, void** con_cls,
                          MHD_RequestTerminationCode code);

  MHD_Result OnHeaders(MHD_Connection* connection, const char* method,
                       RequestState* state);
  MHD_Result Dispatch(MHD_Connection* connection, RequestState* state);
  bool PeerAllowed(MHD_Connection* connection) const;
  Result<void> StartDaemon(int listen_fd);
  void Stop();

  const RequestHandler handler;
  const HttpServerOptions options;
  const size_t max_body_bytes;

  std::unique_ptr<WorkerPool> pool;
  std::vector<MHD_Daemon*> daemons;
  int tcp_port = -1;
  bool unix_socket_created = false;
  dev_t unix_socket_dev = 0;
  ino_t unix_socket_ino = 0;

  // Guards `stopping` (so that no job is submitted after the pool began to
  // drain) and `in_flight` (requests between their headers and completion).
  std::mutex mu;
  std::condition_variable idle;
  bool stopping = false;
  int in_flight = 0;
};

MHD_Result HttpServer::Impl::OnRequest(void* cls, MHD_Connection* connection,
                                       const char* /*url*/, const char* method,
                                       const char* /*version*/,
                                       const char* upload_data,
                                       size_t* upload_data_size,
                                       void** con_cls) {
  auto* self = static_cast<Impl*>(cls);
  auto* state = static_cast<RequestState*>(*con_cls);
  if (state == nullptr) {
    state = new RequestState();
    *con_cls = state;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      ++self->in_flight;
    }
    return self->OnHeaders(connection, method, state);
  }
  if (*upload_data_size > 0) {
    if (state->body.size() + *upload_data_size > self->max_body_bytes) {
      Log(LOG_WARNING, "HTTP: chunked request body exceeds the limit of " +
                           std::to_string(self->max_body_bytes) +
                           " bytes; closing the connection");
      return MHD_NO;
    }
    state->body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (state->ready) {
    if (state->status == MHD_HTTP_OK) {
      return Reply(connection, MHD_HTTP_OK, state->response, "text/xml");
    }
    return ReplyError(connection, state->status, state->response);
  }
  if (state->dispatched) return MHD_YES;  // spurious call while suspended
  return self->Dispatch(connection, state);
}

// Unix-socket peers by uid; TCP (loopback only) is not checked here.
bool HttpServer::Impl::PeerAllowed(MHD_Connection* connection) const {
  if (options.unix_peer_uids.empty()) return true;
  const MHD_ConnectionInfo* addr =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (addr == nullptr || addr->client_addr == nullptr ||
      addr->client_addr->sa_family != AF_UNIX) {
    return true;
  }
  const MHD_ConnectionInfo* fd =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (fd == nullptr ||
      getsockopt(fd->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return false;
  }
  for (uid_t uid : options.unix_peer_uids) {
    if (cred.uid == uid) return true;
  }
  Log(LOG_WARNING, "HTTP: refused a Unix-socket peer with uid " +
                       std::to_string(cred.uid) + " (pid " +
                       std::to_string(cred.pid) + ")");
  return false;
}

// First call for a request: only the headers have been read.
MHD_Result HttpServer::Impl::OnHeaders(MHD_Connection* connection,
                                       const char* method,
                                       RequestState* /*state*/) {
  if (!PeerAllowed(connection)) {
    return ReplyError(connection, MHD_HTTP_FORBIDDEN,
                      "this peer may not use the Unix socket");
  }
  if (std::strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
    return ReplyError(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                      std::string("method ") + method + " not allowed", "POST");
  }
  const char* type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
  const char* encoding = MHD_lookup_connection_value(
      connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
  const char* length = MHD_lookup_connection_value(
      connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (options.require_xml_content_type && !IsXmlMediaType(type)) {
    return ReplyError(connection, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                      std::string("Content-Type must be text/xml, not ") +
                          (type != nullptr ? type : "(none)"));
  }
  if (encoding != nullptr && !EqualsIgnoreCase(encoding, "identity")) {
    return ReplyError(connection, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                      "Content-Encoding is not supported");
  }
  if (length != nullptr) {
    // libmicrohttpd has already checked that it is a number.
    unsigned long long n = std::strtoull(length, nullptr, 10);
    if (n > max_body_bytes) {
      return ReplyError(connection, MHD_HTTP_CONTENT_TOO_LARGE,
                        "request body of " + std::string(length) +
                            " bytes exceeds the limit of " +
                            std::to_string(max_body_bytes));
    }
  }
  return MHD_YES;
}

// The body is complete: run the method on the pool. The connection stays
// suspended until the job has stored the response and resumed it; then
// OnRequest is called again and sends it.
MHD_Result HttpServer::Impl::Dispatch(MHD_Connection* connection,
                                      RequestState* state) {
  std::lock_guard<std::mutex> lock(mu);
  if (stopping) {
    return ReplyError(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "server is shutting down");
  }
  state->dispatched = true;
  MHD_suspend_connection(connection);
  bool queued = pool->Submit([this, connection, state] {
    Dispatcher::Outcome outcome;
    try {
      state->response = handler(state->body, &outcome);
      state->status = MHD_HTTP_OK;
    } catch (const std::exception& e) {  // only bad_alloc can get here
      state->response = std::string("internal error: ") + e.what();
      state->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (outcome.fault) {
      Log(LOG_WARNING, (outcome.method.empty() ? std::string("(unparsed)")
                                               : outcome.method) +
                           ": fault " + std::to_string(outcome.fault->code) +
                           ": " + outcome.fault->message);
    }
    state->ready = true;
    MHD_resume_connection(connection);
  });
  if (!queued) {  // cannot happen while !stopping; be safe anyway
    state->status = MHD_HTTP_SERVICE_UNAVAILABLE;
    state->response = "server is shutting down";
    state->ready = true;
    MHD_resume_connection(connection);
  }
  return MHD_YES;
}

void HttpServer::Impl::OnCompleted(void* cls, MHD_Connection* /*connection*/,
                                   void** con_cls,
                                   MHD_RequestTerminationCode /*code*/) {
  auto* self = static_cast<Impl*>(cls);
  auto* state = static_cast<RequestState*>(*con_cls);
  if (state == nullptr) return;
  delete state;
  *con_cls = nullptr;
  std::lock_guard<std::mutex> lock(self->mu);
  if (--self->in_flight == 0) self->idle.notify_all();
}

Result<void> HttpServer::Impl::StartDaemon(int listen_fd) {
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
          MHD_USE_ERROR_LOG,
      0, nullptr, nullptr, &Impl::OnRequest, this, MHD_OPTION_LISTEN_SOCKET,
      listen_fd, MHD_OPTION_CONNECTION_LIMIT, options.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, options.connection_timeout_seconds,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, this,
      MHD_OPTION_EXTERNAL_LOGGER, &OnLibraryLog, nullptr, MHD_OPTION_END);
  if (daemon == nullptr) {
    ::close(listen_fd);
    return Fault{interop::kTransportError, "libmicrohttpd failed to start"};
  }
  daemons.push_back(daemon);
  return {};
}

void HttpServer::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  // 1. No new connections.
  for (MHD_Daemon* daemon : daemons) {
    MHD_socket fd = MHD_quiesce_daemon(daemon);
    if (fd != MHD_INVALID_SOCKET) ::close(fd);
  }
  // 2. Every method under way finishes and resumes its connection.
  if (pool) pool->Shutdown();
  // 3. Their responses go out (bounded: a client may stop reading).
  {
    std::unique_lock<std::mutex> lock(mu);
    idle.wait_for(lock, kSendGrace, [this] { return in_flight == 0; });
  }
  // 4. Close everything.
  for (MHD_Daemon* daemon : daemons) MHD_stop_daemon(daemon);
  daemons.clear();
  pool.reset();
  tcp_port = -1;
  if (unix_socket_created) {
    // Remove the socket only if it is still the one we created.
    struct stat st;
    if (::lstat(options.unix_socket_path.c_str(), &st) == 0 &&
        st.st_dev == unix_socket_dev && st.st_ino == unix_socket_ino) {
      ::unlink(options.unix_socket_path.c_str());
    }
    unix_socket_created = false;
  }
  std::lock_guard<std::mutex> lock(mu);
  stopping = false;
  in_flight = 0;
}

HttpServer::HttpServer(const Dispatcher& dispatcher, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(
          [&dispatcher](std::string_view body, Dispatcher::Outcome* outcome) {
            return dispatcher.Handle(body, outcome);
          },
          std::move(options), dispatcher.options().limits.max_body_bytes)) {}

HttpServer::HttpServer(RequestHandler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options),
                                   Limits().max_body_bytes)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::tcp_port() const { return impl_->tcp_port; }

void HttpServer::Stop() { impl_->Stop(); }

Result<void> HttpServer::Start() {
  Impl& s = *impl_;
  if (!s.daemons.empty()) {
    return Fault{interop::kTransportError, "server already started"};
  }
  if (s.options.unix_socket_path.empty() && s.options.tcp_port < 0) {
    return Fault{interop::kTransportError, "no Unix socket and no TCP port"};
  }
  s.pool = std::make_unique<WorkerPool>(s.options.threads);
  if (!s.options.unix_socket_path.empty()) {
    Result<int> fd =
        ListenUnix(s.options.unix_socket_path, s.options.unix_socket_mode);
    if (!fd.ok()) {
      s.Stop();
      return fd.fault();
    }
    struct stat st;
    if (::stat(s.options.unix_socket_path.c_str(), &st) == 0) {
      s.unix_socket_created = true;
      s.unix_socket_dev = st.st_dev;
      s.unix_socket_ino = st.st_ino;
    }
    Result<void> started = s.StartDaemon(fd.value());
    if (!started.ok()) {
      s.Stop();
      return started;
    }
  }
  if (s.options.tcp_port >= 0) {
    int port = -1;
    Result<int> fd = ListenLoopbackTcp(s.options.tcp_port, &port);
    if (!fd.ok()) {
      s.Stop();
      return fd.fault();
    }
    Result<void> started = s.StartDaemon(fd.value());
    if (!started.ok()) {
      s.Stop();
      return started;
    }
    s.tcp_port = port;
  }
  return {};
}

}  // namespace xmlrpc
