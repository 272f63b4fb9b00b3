#include "xmlrpc/http_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "base/log.h"
#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"
#include "xmlrpc/http_server.h"
#include "xmlrpc/listen_socket.h"
#include "xmlrpc/writer.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::TempDir;

// Accepts one connection on a Unix socket, reads one request and answers
// with `reply` (or with nothing, if empty, until the client gives up).
class CannedServer {
 public:
  CannedServer(const std::string& path, std::string reply)
      : reply_(std::move(reply)) {
    Result<int> fd = ListenUnix(path, 0600);
    EXPECT_OK(fd);
    listen_fd_ = fd.ok() ? fd.value() : -1;
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    thread_.join();
    close(listen_fd_);
  }
  const std::string& request() const { return request_; }

 private:
  void Serve() {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    // Headers, then Content-Length bytes of body.
    while (request_.find("\r\n\r\n") == std::string::npos) {
      std::string more = xmlrpc_test::ReadSome(fd, 2000, 1);
      if (more.empty()) break;
      request_ += more;
    }
    size_t header_end = request_.find("\r\n\r\n") + 4;
    size_t length_at = request_.find("Content-Length: ");
    size_t length = std::stoul(request_.substr(length_at + 16));
    while (request_.size() < header_end + length) {
      std::string more = xmlrpc_test::ReadSome(fd, 2000, 1);
      if (more.empty()) break;
      request_ += more;
    }
    if (reply_.empty()) {
      xmlrpc_test::ReadSome(fd, 3000);  // until the client hangs up
    } else {
      xmlrpc_test::SendAll(fd, reply_);
    }
    close(fd);
  }

  std::string reply_;
  int listen_fd_ = -1;
  std::string request_;
  std::thread thread_;
};

std::string Http200(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

ClientOptions At(const std::string& path) {
  ClientOptions options;
  options.unix_socket_path = path;
  options.timeout_ms = 5000;
  return options;
}

TEST(HttpClientTest, SendsACompactPostWithTheRightHeaders) {
  TempDir dir;
  CannedServer server(dir.File("s"),
                      Http200("<methodResponse><params><param><value>ok"
                              "</value></param></params></methodResponse>"));
  Client client(At(dir.File("s")));
  Response r = client.Call("vdi_attach", {Value("true")});
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value(), Value("ok"));
  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("POST /RPC2 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: text/xml\r\n"), std::string::npos);
  EXPECT_NE(req.find("User-Agent: "), std::string::npos);
  EXPECT_NE(req.find("Host: localhost"), std::string::npos);
  EXPECT_NE(req.find("\r\n\r\n<methodCall><methodName>vdi_attach</methodName>"
                     "<params><param><value>true</value></param></params>"
                     "</methodCall>"),
            std::string::npos)
      << req;
}

TEST(HttpClientTest, PeerFaultIsReturnedAsIs) {
  TempDir dir;
  CannedServer server(dir.File("s"),
                      Http200(WriteFault(Fault{109,
                                               "The snapshot chain is "
                                               "too long"},
                                         Style::kPython)));
  Client client(At(dir.File("s")));
  EXPECT_EQ(client.Call("vdi_snapshot").fault(),
            (Fault{109, "The snapshot chain is too long"}));
}

TEST(HttpClientTest, NonOkStatusIsATransportError) {
  TempDir dir;
  CannedServer server(dir.File("s"),
                      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0"
                      "\r\nConnection: close\r\n\r\n");
  Client client(At(dir.File("s")));
  Response r = client.Call("m");
  EXPECT_EQ(r.fault(), (Fault{interop::kTransportError, "HTTP status 503"}));
}

TEST(HttpClientTest, GarbageResponseIsAParseError) {
  TempDir dir;
  CannedServer server(dir.File("s"), Http200("<html>oops</html>"));
  Client client(At(dir.File("s")));
  Response r = client.Call("m");
  EXPECT_EQ(r.fault().code, interop::kParseError);
  EXPECT_NE(r.fault().message.find("bad response"), std::string::npos);
}

TEST(HttpClientTest, OversizedResponseIsCutOff) {
  TempDir dir;
  CannedServer server(dir.File("s"), Http200(std::string(4096, 'x')));
  ClientOptions options = At(dir.File("s"));
  options.limits.max_body_bytes = 1024;
  Client client(options);
  Response r = client.Call("m");
  EXPECT_EQ(r.fault().code, interop::kTransportError);
  EXPECT_NE(r.fault().message.find("larger than 1024"), std::string::npos);
}

TEST(HttpClientTest, TimeoutIsATransportError) {
  TempDir dir;
  CannedServer server(dir.File("s"), "");
  ClientOptions options = At(dir.File("s"));
  options.timeout_ms = 200;
  Client client(options);
  auto start = std::chrono::steady_clock::now();
  Response r = client.Call("m");
  EXPECT_EQ(r.fault().code, interop::kTransportError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(HttpClientTest, NoServerIsATransportError) {
  TempDir dir;
  Client client(At(dir.File("missing")));
  Response r = client.Call("m");
  EXPECT_EQ(r.fault().code, interop::kTransportError);
  ClientOptions tcp;
  tcp.url = "http://127.0.0.1:1/RPC2";
  EXPECT_EQ(Client(tcp).Call("m").fault().code, interop::kTransportError);
}

TEST(HttpClientTest, UnwritableParamsNeverLeave) {
  TempDir dir;
  Client client(At(dir.File("missing")));
  Response r = client.Call("m", {Value::Int64(int64_t{1} << 40)});
  EXPECT_EQ(r.fault().code, interop::kInternalError);
}

TEST(HttpClientTest, PythonStyleRequestsAgainstOurServer) {
  TempDir dir;
  base::SetLogSinkForTesting([](int, std::string_view) {});
  Dispatcher dispatcher;
  dispatcher.Register("echo",
                      [](const Params& p) -> Response { return p.At(0); });
  HttpServerOptions server_options;
  server_options.unix_socket_path = dir.File("s");
  HttpServer server(dispatcher, server_options);
  ASSERT_OK(server.Start());
  ClientOptions options = At(dir.File("s"));
  options.style = Style::kPython;
  Client client(options);
  Value v(Struct{{"a", Value(Array{Value(1.5), Value(Bytes{"\x01\x02"})})}});
  Response r = client.Call("echo", {v});
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value(), v);
  Result<HttpReply> raw = client.Post("<methodCall/>", "application/json");
  ASSERT_OK(raw);
  EXPECT_EQ(raw.value().status, 415);
  server.Stop();
  base::SetLogSinkForTesting(nullptr);
}

}  // namespace
}  // namespace xmlrpc
