#include "xmlrpc/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"
#include "tests/xmlrpc/validator1.h"
#include "xmlrpc/http_client.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::Call;
using xmlrpc_test::HttpPost;
using xmlrpc_test::Param;
using xmlrpc_test::ReadSome;
using xmlrpc_test::SendAll;

Dispatcher::Options InteropOptions(size_t max_body = 1 << 20) {
  Dispatcher::Options options;
  options.faults = FaultPolicy::Interop();
  options.limits.max_body_bytes = max_body;
  return options;
}

// Where the test and the handlers on the server's pool meet: handlers say
// they are running, and wait for each other or for the test. Every wait has
// a deadline far beyond any scheduling delay, so a loaded machine slows a
// test down but never fails it; only a server that serialises, stalls or
// drops calls does.
class Meeting {
 public:
  static constexpr std::chrono::seconds kDeadline{8};  // < the client's 10 s

  void Enter() {
    std::lock_guard<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
  }
  // Whether `n` handlers have entered by the deadline.
  bool WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitOpen() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : dispatcher_(InteropOptions()) {
    xmlrpc_test::RegisterValidator1(&dispatcher_);
    dispatcher_.Register("ping",
                         [](const Params&) -> Response { return Value(); });
    dispatcher_.Register("sleep", [this](const Params& p) -> Response {
      meeting_.Enter();
      std::this_thread::sleep_for(std::chrono::milliseconds(p.IntAt(0)));
      return Value(true);
    });
    // True when n calls of it run at the same time.
    dispatcher_.Register("meet", [this](const Params& p) -> Response {
      meeting_.Enter();
      return Value(meeting_.WaitEntered(static_cast<int>(p.IntAt(0))));
    });
    // Runs until the test opens the meeting.
    dispatcher_.Register("hold", [this](const Params&) -> Response {
      meeting_.Enter();
      return Value(meeting_.WaitOpen());
    });
    dispatcher_.Register("whoami", [](const Params& p) -> Response {
      const Peer& peer = p.peer();
      std::string t = peer.transport == Peer::Transport::kUnix  ? "unix"
                      : peer.transport == Peer::Transport::kTcp ? "tcp"
                                                                : "inprocess";
      return Value(t + ":" + std::to_string(peer.uid));
    });
  }

  void SetUp() override {
    base::SetLogSinkForTesting([](int, std::string_view) {});
    HttpServerOptions options;
    options.unix_socket_path = socket_path();
    options.tcp_port = 0;
    options.threads = 4;
    server_ = std::make_unique<HttpServer>(dispatcher_, options);
    Result<void> started = server_->Start();
    ASSERT_OK(started) << started.fault().message;
  }

  void TearDown() override {
    server_.reset();
    base::SetLogSinkForTesting(nullptr);
  }

  std::string socket_path() const { return dir_.File("xmlrpc.sock"); }

  ClientOptions UnixClient() const {
    ClientOptions options;
    options.unix_socket_path = socket_path();
    options.timeout_ms = 10000;
    return options;
  }

  // Sends raw bytes on a fresh Unix connection; returns what comes back.
  // Every caller expects an answer, so the wait ends with it: the timeout
  // only bounds a broken server.
  std::string Exchange(const std::string& raw, int timeout_ms = 15000) {
    int fd = xmlrpc_test::ConnectUnix(socket_path());
    EXPECT_GE(fd, 0);
    SendAll(fd, raw);
    std::string out = xmlrpc_test::ReadHttpResponse(fd, timeout_ms);
    close(fd);
    return out;
  }

  // The server still answers an ordinary call.
  void ExpectAlive() {
    Client client(UnixClient());
    Response r = client.Call("ping");
    ASSERT_OK(r) << r.fault().message;
    EXPECT_EQ(r.value(), Value());
  }

  // Starts a chunked POST on `fd` and sends 64 KiB chunks until `limit`
  // bytes are sent or the server stops taking them; returns the bytes sent.
  static size_t SendChunkedUntilCut(int fd, size_t limit) {
    SendAll(fd,
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
    std::string chunk(1 << 16, 'x');
    char size_line[32];
    snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
    size_t sent = 0;
    while (sent < limit &&
           SendAll(fd, std::string(size_line) + chunk + "\r\n")) {
      sent += chunk.size();
    }
    return sent;
  }

  // A call on a fresh TCP connection to `port`.
  static Response TcpCall(int port, const std::string& method,
                          std::vector<Value> params = {}) {
    ClientOptions tcp;
    tcp.url = "http://127.0.0.1:" + std::to_string(port) + "/RPC2";
    tcp.timeout_ms = 10000;
    Client client(tcp);
    return client.Call(method, std::move(params));
  }

  static Response UnixCall(const std::string& path, const std::string& method,
                           std::vector<Value> params = {}) {
    ClientOptions unix;
    unix.unix_socket_path = path;
    unix.timeout_ms = 10000;
    Client client(unix);
    return client.Call(method, std::move(params));
  }

  xmlrpc_test::TempDir dir_;
  Meeting meeting_;
  Dispatcher dispatcher_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersOverUnixSocketAndTcp) {
  Client unix_client(UnixClient());
  Response r =
      unix_client.Call("validator1.simpleStructReturnTest", {Value(7)});
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value(), Value(Struct{{"times10", Value(70)},
                                    {"times100", Value(700)},
                                    {"times1000", Value(7000)}}));
  ASSERT_GT(server_->tcp_port(), 0);
  ClientOptions tcp;
  tcp.url = "http://127.0.0.1:" + std::to_string(server_->tcp_port()) + "/RPC2";
  Client tcp_client(tcp);
  Response t = tcp_client.Call(
      "validator1.easyStructTest",
      {Value(Struct{
          {"moe", Value(1)}, {"larry", Value(2)}, {"curly", Value(3)}})});
  ASSERT_OK(t) << t.fault().message;
  EXPECT_EQ(t.value(), Value(6));
}

TEST_F(HttpServerTest, UnixSocketIsPrivate) {
  struct stat st;
  ASSERT_EQ(stat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(HttpServerTest, ResponseIs200TextXml) {
  std::string out = Exchange(HttpPost(Call("ping", "")));
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/xml\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n<methodResponse><params><param><value><nil/>"
                     "</value></param></params></methodResponse>"),
            std::string::npos);
}

TEST_F(HttpServerTest, KeepsConnectionsAlive) {
  Client client(UnixClient());
  for (int i = 0; i < 50; ++i) ASSERT_OK(client.Call("ping"));
  EXPECT_EQ(client.connections_opened(), 1);

  // Two requests on one raw connection, both answered.
  int fd = xmlrpc_test::ConnectUnix(socket_path());
  ASSERT_GE(fd, 0);
  SendAll(fd, HttpPost(Call("ping", "")) + HttpPost(Call("ping", "")));
  std::string first = xmlrpc_test::ReadHttpResponse(fd);
  std::string second = xmlrpc_test::ReadHttpResponse(fd);
  close(fd);
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK", 0), 0u) << first;
  EXPECT_EQ(second.rfind("HTTP/1.1 200 OK", 0), 0u) << second;
  EXPECT_NE(second.find("<nil/>"), std::string::npos);
}

TEST_F(HttpServerTest, ServesConcurrentRequestsOnThePool) {
  // Four calls from four connections that each return true only when all
  // four run at once: a serialising server makes them time out as false.
  std::vector<std::thread> threads;
  std::atomic<int> met{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Client client(UnixClient());
      Response r = client.Call("meet", {Value(4)});
      if (r.ok() && r.value() == Value(true)) ++met;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(met, 4);
}

TEST_F(HttpServerTest, SlowMethodDoesNotStallOtherConnections) {
  std::atomic<bool> held{false};
  std::thread slow([&] {
    Client client(UnixClient());
    Response r = client.Call("hold");
    held = r.ok() && r.value() == Value(true);
  });
  ASSERT_TRUE(meeting_.WaitEntered(1));
  // The held call finishes only when these have been answered.
  Client client(UnixClient());
  int answered = 0;
  for (int i = 0; i < 20; ++i) answered += client.Call("ping").ok() ? 1 : 0;
  meeting_.Open();
  slow.join();
  EXPECT_EQ(answered, 20);
  EXPECT_TRUE(held);  // it was still running while the pings were served
}

TEST_F(HttpServerTest, StopLetsTheRequestUnderWayFinish) {
  std::atomic<bool> answered{false};
  std::thread caller([&] {
    Client client(UnixClient());
    Response r = client.Call("sleep", {Value(500)});
    answered = r.ok() && r.value() == Value(true);
  });
  // Stop while the method runs (its 500 ms have just begun).
  bool entered = meeting_.WaitEntered(1);
  server_->Stop();
  caller.join();
  EXPECT_TRUE(entered);
  EXPECT_TRUE(answered);
  EXPECT_EQ(xmlrpc_test::ConnectUnix(socket_path()), -1);
}

TEST_F(HttpServerTest, NonPostIs405) {
  std::string out = Exchange("GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 405", 0), 0u) << out;
  EXPECT_NE(out.find("Allow: POST"), std::string::npos);
  out = Exchange("PUT /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 405", 0), 0u) << out;
  ExpectAlive();
}

TEST_F(HttpServerTest, WrongContentTypeIs415) {
  std::string body = Call("ping", "");
  EXPECT_EQ(
      Exchange(HttpPost(body, "application/json")).rfind("HTTP/1.1 415", 0),
      0u);
  std::string no_type = "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(Exchange(no_type).rfind("HTTP/1.1 415", 0), 0u);
  EXPECT_EQ(Exchange(HttpPost(body, "text/xml", "Content-Encoding: gzip\r\n"))
                .rfind("HTTP/1.1 415", 0),
            0u);
  // Parameters and case do not matter.
  EXPECT_EQ(Exchange(HttpPost(body, "Text/XML; charset=utf-8"))
                .rfind("HTTP/1.1 200", 0),
            0u);
  ExpectAlive();
}

TEST_F(HttpServerTest, GigabyteBodyIsRefusedFromTheHeaders) {
  int fd = xmlrpc_test::ConnectUnix(socket_path());
  ASSERT_GE(fd, 0);
  const size_t kGiB = size_t{1} << 30;
  ASSERT_TRUE(SendAll(fd,
                      "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "text/xml\r\nContent-Length: " +
                          std::to_string(kGiB) + "\r\n\r\n"));
  // Stream the body as a client would, until the server stops reading.
  std::atomic<size_t> sent{0};
  std::thread sender([&] {
    std::string chunk(1 << 16, 'x');
    while (sent < kGiB && SendAll(fd, chunk)) sent += chunk.size();
  });
  std::string out = ReadSome(fd, 3000, 4096);
  shutdown(fd, SHUT_RDWR);
  sender.join();
  close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("exceeds the limit"), std::string::npos);
  EXPECT_LT(sent.load(), size_t{64} << 20);  // far from the whole GiB
  ExpectAlive();
}

TEST_F(HttpServerTest, OversizedChunkedBodyClosesTheConnection) {
  int fd = xmlrpc_test::ConnectUnix(socket_path());
  ASSERT_GE(fd, 0);
  size_t sent = SendChunkedUntilCut(fd, size_t{64} << 20);
  bool refused = sent < (size_t{64} << 20);
  std::string out = ReadSome(fd, 2000);
  close(fd);
  EXPECT_TRUE(refused || out.empty() ||
              out.find("HTTP/1.1 200") == std::string::npos);
  EXPECT_EQ(out.find("HTTP/1.1 200"), std::string::npos) << out;
  EXPECT_LT(sent, size_t{64} << 20);
  ExpectAlive();
}

TEST_F(HttpServerTest, SmallChunkedBodyIsServed) {
  std::string body = Call("ping", "");
  char size_line[32];
  snprintf(size_line, sizeof(size_line), "%zx\r\n", body.size());
  std::string out = Exchange(
      "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string(size_line) + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("<nil/>"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedHttpIs400) {
  std::string out =
      Exchange("POST /RPC2 HTTP/1.1\r\nContent-Length: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  ExpectAlive();
}

TEST_F(HttpServerTest, ApplicationErrorsAre200WithAFault) {
  Client client(UnixClient());
  Response unknown = client.Call("nope");
  EXPECT_EQ(unknown.fault().code, interop::kMethodNotFound);
  Response bad = client.Call("validator1.easyStructTest", {Value(1)});
  EXPECT_EQ(bad.fault().code, interop::kInvalidParams);
  Result<HttpReply> raw = client.Post("<not xml");
  ASSERT_OK(raw);
  EXPECT_EQ(raw.value().status, 200);
  EXPECT_EQ(raw.value().content_type, "text/xml");
  Result<Response> parsed = ParseMethodResponse(raw.value().body);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed.value().fault().code, interop::kParseError);
}

TEST_F(HttpServerTest, StopRemovesTheSocketAndIsIdempotent) {
  server_->Stop();
  struct stat st;
  EXPECT_NE(stat(socket_path().c_str(), &st), 0);
  EXPECT_EQ(xmlrpc_test::ConnectUnix(socket_path()), -1);
  EXPECT_EQ(server_->tcp_port(), -1);
  server_->Stop();
}

TEST_F(HttpServerTest, StartErrors) {
  EXPECT_FALSE(server_->Start().ok());  // already running
  HttpServer none(dispatcher_, HttpServerOptions());
  EXPECT_FALSE(none.Start().ok());
  HttpServerOptions same;
  same.unix_socket_path = socket_path();  // live: refused, left alone
  HttpServer clash(dispatcher_, same);
  Result<void> r = clash.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fault().code, interop::kTransportError);
  ExpectAlive();
}

// The answer a peer running as `uid` gets for one ping on `path`: the
// connection and the request are made in a child that has dropped to `uid`.
std::string ExchangeAsUid(const std::string& path, uid_t uid) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    std::string out = "setuid failed";
    if (setgid(uid) == 0 && setuid(uid) == 0) {
      int fd = xmlrpc_test::ConnectUnix(path);
      if (fd < 0) {
        out = "connect failed";
      } else {
        SendAll(fd, HttpPost(Call("ping", "")));
        out = xmlrpc_test::ReadHttpResponse(fd, 5000);
      }
    }
    ssize_t ignored = write(pipefd[1], out.data(), out.size());
    (void)ignored;
    _exit(0);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  close(pipefd[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

TEST_F(HttpServerTest, UnixPeersAreCheckedByUid) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another uid";
  // A socket anyone may open, so that only SO_PEERCRED stands in the way.
  xmlrpc_test::TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  HttpServerOptions options;
  options.unix_socket_path = dir.File("open.sock");
  options.unix_socket_mode = 0666;
  options.unix_peer_uids = {0};
  HttpServer server(dispatcher_, options);
  ASSERT_OK(server.Start());
  std::string nobody = ExchangeAsUid(options.unix_socket_path, 65534);
  EXPECT_NE(nobody.find("HTTP/1.1 403"), std::string::npos) << nobody;
  EXPECT_EQ(nobody.find("methodResponse"), std::string::npos) << nobody;
  std::string root = ExchangeAsUid(options.unix_socket_path, 0);
  EXPECT_NE(root.find("HTTP/1.1 200"), std::string::npos) << root;
  EXPECT_NE(root.find("methodResponse"), std::string::npos) << root;
  // Without a list, whoever can connect is served (the mode is the guard).
  options.unix_socket_path = dir.File("any.sock");
  options.unix_peer_uids.clear();
  HttpServer open(dispatcher_, options);
  ASSERT_OK(open.Start());
  std::string any = ExchangeAsUid(options.unix_socket_path, 65534);
  EXPECT_NE(any.find("HTTP/1.1 200"), std::string::npos) << any;
}

TEST_F(HttpServerTest, HandlersSeeTheTransportAndThePeersUid) {
  Client unix_client(UnixClient());
  Response r = unix_client.Call("whoami");
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value(), Value("unix:" + std::to_string(geteuid())));
  Response t = TcpCall(server_->tcp_port(), "whoami");
  ASSERT_OK(t) << t.fault().message;
  EXPECT_EQ(t.value(), Value("tcp:-1"));
}

// True once the server has closed `fd` (EOF or an error on read).
bool ClosedByPeer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

TEST_F(HttpServerTest, SlowClientsAreClosedByTheRequestDeadline) {
  HttpServerOptions o;
  o.unix_socket_path = dir_.File("slow.sock");
  o.tcp_port = 0;
  o.request_timeout_seconds = 1;
  o.max_connections = 16;  // the attack below takes every TCP slot
  HttpServer server(dispatcher_, o);
  ASSERT_OK(server.Start());
  const int port = server.tcp_port();
  // Half trickle their headers, half their body, a byte every 200 ms: the
  // idle timeout (60 s) alone would keep them all open for ever.
  const std::string head =
      "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
      "Content-Length: 100000\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < 16; ++i) {
    int fd = xmlrpc_test::ConnectTcp(port);
    ASSERT_GE(fd, 0);
    if (i % 2 == 1) {
      ASSERT_TRUE(SendAll(fd, head));
    }
    fds.push_back(fd);
  }
  std::vector<bool> closed(fds.size(), false);
  size_t n_closed = 0;
  bool unix_answered = false;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  while (n_closed < fds.size() && std::chrono::steady_clock::now() < give_up) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i]) continue;
      if (ClosedByPeer(fds[i]) || !SendAll(fds[i], i % 2 ? "x" : "X")) {
        closed[i] = true;
        ++n_closed;
      }
    }
    // The Unix socket is served while every TCP slot is held.
    if (!unix_answered && n_closed == 0) {
      Response r = UnixCall(o.unix_socket_path, "ping");
      unix_answered = r.ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (int fd : fds) close(fd);
  EXPECT_TRUE(unix_answered);
  EXPECT_EQ(n_closed, fds.size());
  // TCP is served again, and a method may run longer than the deadline:
  // only the client's own sending and reading count.
  Response r = TcpCall(port, "sleep", {Value(2500)});
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value(), Value(true));
}

TEST_F(HttpServerTest, BodyBudgetAnswers503FromTheHeaders) {
  HttpServerOptions o;
  o.unix_socket_path = dir_.File("budget.sock");
  o.tcp_port = 0;
  o.max_body_bytes = 1 << 20;
  o.body_budget_bytes = 4 << 20;  // four whole bodies per listener
  HttpServer server(dispatcher_, o);
  ASSERT_OK(server.Start());
  const int port = server.tcp_port();
  // 16 clients announce 1 MiB bodies and send only the first KiB.
  const std::string head =
      "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
      "Content-Length: " +
      std::to_string(1 << 20) + "\r\n\r\n" + std::string(1024, 'x');
  std::vector<int> fds;
  for (int i = 0; i < 16; ++i) {
    int fd = xmlrpc_test::ConnectTcp(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, head));
    fds.push_back(fd);
  }
  // The refusals are sent once the headers are read: gather them however
  // slowly they come, then the four within the budget must still be
  // reading their bodies (no answer at all).
  std::vector<std::string> outs(fds.size());
  int refused = 0;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (refused < 12 && std::chrono::steady_clock::now() < give_up) {
    refused = 0;
    for (size_t i = 0; i < fds.size(); ++i) {
      outs[i] += xmlrpc_test::ReadSome(fds[i], 10);
      if (outs[i].find("\r\n\r\n") != std::string::npos) ++refused;
    }
  }
  int held = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    outs[i] += xmlrpc_test::ReadSome(fds[i], 200);
    if (outs[i].empty()) {
      ++held;
    } else {
      EXPECT_EQ(outs[i].rfind("HTTP/1.1 503", 0), 0u) << outs[i];
    }
  }
  EXPECT_EQ(held, 4);
  EXPECT_EQ(refused, 12);
  // The Unix socket has a budget of its own.
  Response unix = UnixCall(o.unix_socket_path, "ping");
  EXPECT_OK(unix) << unix.fault().message;
  // The TCP budget is spent: even a small request is refused...
  int fd = xmlrpc_test::ConnectTcp(port);
  ASSERT_GE(fd, 0);
  SendAll(fd, HttpPost(Call("ping", "")));
  std::string out = xmlrpc_test::ReadHttpResponse(fd, 5000);
  close(fd);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  // ...until the bodies are gone.
  for (int f : fds) close(f);
  bool served = false;
  give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!served && std::chrono::steady_clock::now() < give_up) {
    served = TcpCall(port, "ping").ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ChunkedBodyPastTheBudgetIsCutOff) {
  HttpServerOptions o;
  o.unix_socket_path = dir_.File("chunked.sock");
  o.max_body_bytes = 4 << 20;
  o.body_budget_bytes = 256 << 10;
  HttpServer server(dispatcher_, o);
  ASSERT_OK(server.Start());
  int fd = xmlrpc_test::ConnectUnix(o.unix_socket_path);
  ASSERT_GE(fd, 0);
  size_t sent = SendChunkedUntilCut(fd, size_t{4} << 20);
  std::string out = ReadSome(fd, 2000);
  close(fd);
  EXPECT_LT(sent, size_t{4} << 20);
  EXPECT_EQ(out.find("HTTP/1.1 200"), std::string::npos) << out;
  // The budget came back.
  Response r = UnixCall(o.unix_socket_path, "ping");
  EXPECT_OK(r) << r.fault().message;
}

}  // namespace
}  // namespace xmlrpc
