#include "xmlrpc/http_server.h"

#include <microhttpd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "base/log.h"
#include "xmlrpc/listen_socket.h"
#include "xmlrpc/worker_pool.h"

namespace xmlrpc {

namespace {

constexpr auto kSendGrace = std::chrono::seconds(5);
// How often the reaper looks for connections past their deadline.
constexpr auto kReaperTick = std::chrono::milliseconds(100);
// What a chunked body takes from the budget before its first byte.
constexpr size_t kChunkedInitialCharge = size_t{64} << 10;

using Clock = std::chrono::steady_clock;

// Bytes of request bodies a listener holds at once.
class BodyBudget {
 public:
  explicit BodyBudget(size_t limit) : limit_(limit) {}
  bool Take(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (n > limit_ - used_) return false;
    used_ += n;
    return true;
  }
  void Give(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= n;
  }

 private:
  std::mutex mu_;
  const size_t limit_;
  size_t used_ = 0;
};

// One connection, from accept to close. Guarded by its listener's `mu`.
struct ConnectionState {
  int fd = -1;
  Peer peer;
  bool armed = true;  // the request deadline runs
  bool expired = false;
  Clock::time_point deadline;
};

// One request, from its headers to the completion callback.
struct RequestState {
  std::string body;
  size_t charged = 0;  // taken from the listener's BodyBudget
  Peer peer;
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
  base::Log(LOG_WARNING, "HTTP " + std::to_string(status) + ": " + message);
  return Reply(connection, status, message + "\n", "text/plain", allow);
}

void OnLibraryLog(void* /*cls*/, const char* format, va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), format, args);
  base::Log(LOG_INFO, std::string("libmicrohttpd: ") + buf);
}

}  // namespace

struct HttpServer::Impl {
  struct Listener;

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
  static void OnConnection(void* cls, MHD_Connection* connection,
                           void** socket_context,
                           MHD_ConnectionNotificationCode code);

  MHD_Result OnHeaders(Listener* listener, MHD_Connection* connection,
                       const char* method, RequestState* state);
  MHD_Result OnBody(Listener* listener, RequestState* state, const char* data,
                    size_t size);
  MHD_Result Dispatch(Listener* listener, MHD_Connection* connection,
                      RequestState* state);
  bool PeerAllowed(const Peer& peer) const;
  Result<void> StartListener(int listen_fd, bool unix);
  void Stop();

  const RequestHandler handler;
  const HttpServerOptions options;
  const size_t max_body_bytes;

  std::vector<std::unique_ptr<Listener>> listeners;
  int tcp_port = -1;
  bool unix_socket_created = false;
  dev_t unix_socket_dev = 0;
  ino_t unix_socket_ino = 0;

  // Guards `stopping` (so that no job is submitted after the pools began to
  // drain) and `in_flight` (requests between their headers and completion).
  std::mutex mu;
  std::condition_variable idle;
  bool stopping = false;
  int in_flight = 0;
};

// One listening socket: its libmicrohttpd daemon (which runs its own
// event-loop thread), its pool, its budget, and the reaper thread that
// enforces the request deadline.
struct HttpServer::Impl::Listener {
  Listener(Impl* s, bool unix, unsigned threads, size_t budget)
      : server(s), is_unix(unix), pool(threads), budget(budget) {}

  void Reap();
  void ArmDeadline(MHD_Connection* connection, bool armed);

  Impl* const server;
  const bool is_unix;
  WorkerPool pool;
  BodyBudget budget;
  MHD_Daemon* daemon = nullptr;
  std::thread reaper;

  std::mutex mu;  // guards what follows and every ConnectionState
  std::condition_variable wake;
  std::set<ConnectionState*> connections;
  bool stop_reaper = false;
};

namespace {

ConnectionState* StateOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info == nullptr ? nullptr
                         : static_cast<ConnectionState*>(info->socket_context);
}

}  // namespace

// Disconnects clients whose request deadline has passed. shutdown() (not
// close) makes libmicrohttpd see the end of the stream and close the
// connection itself. It is done under `mu`, which libmicrohttpd's
// connection-closed notification also takes before it closes the socket,
// so the fd is still this connection's.
void HttpServer::Impl::Listener::Reap() {
  const unsigned timeout = server->options.request_timeout_seconds;
  std::unique_lock<std::mutex> lock(mu);
  while (!stop_reaper) {
    wake.wait_for(lock, kReaperTick);
    if (timeout == 0) continue;
    Clock::time_point now = Clock::now();
    for (ConnectionState* c : connections) {
      if (!c->armed || c->expired || now < c->deadline) continue;
      c->expired = true;
      base::Log(LOG_WARNING,
                std::string("HTTP: closing a ") + (is_unix ? "Unix" : "TCP") +
                    " connection that did not complete its request "
                    "in " +
                    std::to_string(timeout) + " s");
      ::shutdown(c->fd, SHUT_RDWR);
    }
  }
}

// Starts the deadline afresh (armed) or stops it while a method runs.
void HttpServer::Impl::Listener::ArmDeadline(MHD_Connection* connection,
                                             bool armed) {
  ConnectionState* c = StateOf(connection);
  if (c == nullptr) return;
  std::lock_guard<std::mutex> lock(mu);
  c->armed = armed;
  c->deadline = Clock::now() +
                std::chrono::seconds(server->options.request_timeout_seconds);
}

void HttpServer::Impl::OnConnection(void* cls, MHD_Connection* connection,
                                    void** socket_context,
                                    MHD_ConnectionNotificationCode code) {
  auto* listener = static_cast<Listener*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    auto* c = static_cast<ConnectionState*>(*socket_context);
    if (c != nullptr) {
      std::lock_guard<std::mutex> lock(listener->mu);
      listener->connections.erase(c);
      delete c;
      *socket_context = nullptr;
    }
    return;
  }
  auto* c = new ConnectionState();
  const MHD_ConnectionInfo* fd =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  c->fd = fd != nullptr ? fd->connect_fd : -1;
  c->peer.transport =
      listener->is_unix ? Peer::Transport::kUnix : Peer::Transport::kTcp;
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (listener->is_unix && c->fd >= 0 &&
      getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    c->peer.uid = cred.uid;
    c->peer.pid = cred.pid;
  }
  c->deadline =
      Clock::now() +
      std::chrono::seconds(listener->server->options.request_timeout_seconds);
  std::lock_guard<std::mutex> lock(listener->mu);
  listener->connections.insert(c);
  *socket_context = c;
}

MHD_Result HttpServer::Impl::OnRequest(void* cls, MHD_Connection* connection,
                                       const char* /*url*/, const char* method,
                                       const char* /*version*/,
                                       const char* upload_data,
                                       size_t* upload_data_size,
                                       void** con_cls) {
  auto* listener = static_cast<Listener*>(cls);
  Impl* self = listener->server;
  auto* state = static_cast<RequestState*>(*con_cls);
  if (state == nullptr) {
    state = new RequestState();
    *con_cls = state;
    {
      std::lock_guard<std::mutex> lock(self->mu);
      ++self->in_flight;
    }
    if (ConnectionState* c = StateOf(connection)) state->peer = c->peer;
    return self->OnHeaders(listener, connection, method, state);
  }
  if (*upload_data_size > 0) {
    size_t size = *upload_data_size;
    *upload_data_size = 0;
    return self->OnBody(listener, state, upload_data, size);
  }
  if (state->ready) {
    listener->ArmDeadline(connection, true);  // for sending the response
    if (state->status == MHD_HTTP_OK) {
      return Reply(connection, MHD_HTTP_OK, state->response, "text/xml");
    }
    return ReplyError(connection, state->status, state->response);
  }
  if (state->dispatched) return MHD_YES;  // spurious call while suspended
  return self->Dispatch(listener, connection, state);
}

// Appends body bytes within the limit and the listener's budget; MHD_NO
// closes the connection (no status line can be sent once reading began).
MHD_Result HttpServer::Impl::OnBody(Listener* listener, RequestState* state,
                                    const char* data, size_t size) {
  size_t need = state->body.size() + size;
  if (need > max_body_bytes) {
    base::Log(LOG_WARNING, "HTTP: request body exceeds the limit of " +
                               std::to_string(max_body_bytes) +
                               " bytes; closing the connection");
    return MHD_NO;
  }
  if (need > state->charged) {
    // A chunked body: grow the charge geometrically, as std::string would.
    size_t want = std::min(max_body_bytes, std::max(need, 2 * state->charged));
    if (!listener->budget.Take(want - state->charged)) {
      base::Log(LOG_WARNING,
                "HTTP: the body budget is spent; closing a connection whose "
                "chunked body grows past " +
                    std::to_string(state->charged) + " bytes");
      return MHD_NO;
    }
    state->charged = want;
    state->body.reserve(want);
  }
  state->body.append(data, size);
  return MHD_YES;
}

bool HttpServer::Impl::PeerAllowed(const Peer& peer) const {
  if (options.unix_peer_uids.empty() ||
      peer.transport != Peer::Transport::kUnix) {
    return true;
  }
  for (uid_t uid : options.unix_peer_uids) {
    if (peer.uid == static_cast<int64_t>(uid)) return true;
  }
  base::Log(LOG_WARNING, "HTTP: refused a Unix-socket peer with uid " +
                             std::to_string(peer.uid) + " (pid " +
                             std::to_string(peer.pid) + ")");
  return false;
}

// First call for a request: only the headers have been read.
MHD_Result HttpServer::Impl::OnHeaders(Listener* listener,
                                       MHD_Connection* connection,
                                       const char* method,
                                       RequestState* state) {
  if (!PeerAllowed(state->peer)) {
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
  size_t charge = kChunkedInitialCharge;
  if (length != nullptr) {
    // libmicrohttpd has already checked that it is a number.
    unsigned long long n = std::strtoull(length, nullptr, 10);
    if (n > max_body_bytes) {
      return ReplyError(connection, MHD_HTTP_CONTENT_TOO_LARGE,
                        "request body of " + std::string(length) +
                            " bytes exceeds the limit of " +
                            std::to_string(max_body_bytes));
    }
    charge = static_cast<size_t>(n);
  }
  charge = std::min(charge, max_body_bytes);
  if (!listener->budget.Take(charge)) {
    return ReplyError(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "the server holds too many request bodies; retry later");
  }
  state->charged = charge;
  state->body.reserve(charge);
  return MHD_YES;
}

// The body is complete: run the method on the pool. The connection stays
// suspended until the job has stored the response and resumed it; then
// OnRequest is called again and sends it.
MHD_Result HttpServer::Impl::Dispatch(Listener* listener,
                                      MHD_Connection* connection,
                                      RequestState* state) {
  std::lock_guard<std::mutex> lock(mu);
  if (stopping) {
    return ReplyError(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "server is shutting down");
  }
  state->dispatched = true;
  listener->ArmDeadline(connection, false);
  MHD_suspend_connection(connection);
  bool queued = listener->pool.Submit([this, listener, connection, state] {
    Dispatcher::Outcome outcome;
    try {
      state->response = handler(state->body, state->peer, &outcome);
      state->status = MHD_HTTP_OK;
    } catch (const std::exception& e) {  // only bad_alloc can get here
      state->response = std::string("internal error: ") + e.what();
      state->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    // The body is no longer needed: give its memory back now.
    std::string().swap(state->body);
    listener->budget.Give(state->charged);
    state->charged = 0;
    if (outcome.fault) {
      base::Log(LOG_WARNING, (outcome.method.empty() ? std::string("(unparsed)")
                                                     : outcome.method) +
                                 ": fault " +
                                 std::to_string(outcome.fault->code) + ": " +
                                 outcome.fault->message);
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

void HttpServer::Impl::OnCompleted(void* cls, MHD_Connection* connection,
                                   void** con_cls,
                                   MHD_RequestTerminationCode /*code*/) {
  auto* listener = static_cast<Listener*>(cls);
  Impl* self = listener->server;
  auto* state = static_cast<RequestState*>(*con_cls);
  if (state == nullptr) return;
  listener->budget.Give(state->charged);
  delete state;
  *con_cls = nullptr;
  listener->ArmDeadline(connection, true);  // for the next request
  std::lock_guard<std::mutex> lock(self->mu);
  if (--self->in_flight == 0) self->idle.notify_all();
}

Result<void> HttpServer::Impl::StartListener(int listen_fd, bool unix) {
  auto listener = std::make_unique<Listener>(this, unix, options.threads,
                                             options.body_budget_bytes);
  Listener* l = listener.get();
  l->daemon = MHD_start_daemon(
      MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
          MHD_USE_ERROR_LOG,
      0, nullptr, nullptr, &Impl::OnRequest, l, MHD_OPTION_LISTEN_SOCKET,
      listen_fd, MHD_OPTION_CONNECTION_LIMIT, options.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, options.connection_timeout_seconds,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, l,
      MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, l,
      MHD_OPTION_EXTERNAL_LOGGER, &OnLibraryLog, nullptr, MHD_OPTION_END);
  if (l->daemon == nullptr) {
    ::close(listen_fd);
    return Fault{interop::kTransportError, "libmicrohttpd failed to start"};
  }
  l->reaper = std::thread([l] { l->Reap(); });
  listeners.push_back(std::move(listener));
  return {};
}

void HttpServer::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  // 1. No new connections.
  for (auto& l : listeners) {
    MHD_socket fd = MHD_quiesce_daemon(l->daemon);
    if (fd != MHD_INVALID_SOCKET) ::close(fd);
  }
  // 2. Every method under way finishes and resumes its connection.
  for (auto& l : listeners) l->pool.Shutdown();
  // 3. Their responses go out (bounded: a client may stop reading).
  {
    std::unique_lock<std::mutex> lock(mu);
    idle.wait_for(lock, kSendGrace, [this] { return in_flight == 0; });
  }
  // 4. Close everything.
  for (auto& l : listeners) {
    {
      std::lock_guard<std::mutex> lock(l->mu);
      l->stop_reaper = true;
    }
    l->wake.notify_all();
    l->reaper.join();
    MHD_stop_daemon(l->daemon);
  }
  listeners.clear();
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
          [&dispatcher](std::string_view body, const Peer& peer,
                        Dispatcher::Outcome* outcome) {
            return dispatcher.Handle(body, outcome, peer);
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
  if (!s.listeners.empty()) {
    return Fault{interop::kTransportError, "server already started"};
  }
  if (s.options.unix_socket_path.empty() && s.options.tcp_port < 0) {
    return Fault{interop::kTransportError, "no Unix socket and no TCP port"};
  }
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
    Result<void> started = s.StartListener(fd.value(), /*unix=*/true);
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
    Result<void> started = s.StartListener(fd.value(), /*unix=*/false);
    if (!started.ok()) {
      s.Stop();
      return started;
    }
    s.tcp_port = port;
  }
  return {};
}

}  // namespace xmlrpc
