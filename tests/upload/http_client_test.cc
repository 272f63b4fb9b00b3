// The libcurl transport against a one-shot HTTP server on 127.0.0.1, and
// its classification of failures that leave no response.
#include "upload/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/util/status_matchers.h"

namespace upload {
namespace {

// Listens on an ephemeral port of 127.0.0.1; Serve() answers one request
// with `reply` and keeps what it received.
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen";
    }
    port_ = ntohs(a.sin_port);
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  // Reads the head and `body_bytes` more, then sends `reply`.
  void Serve(std::string reply, size_t body_bytes) {
    thread_ = std::thread([this, reply, body_bytes] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      size_t head_end = std::string::npos;
      while (head_end == std::string::npos ||
             received_.size() < head_end + 4 + body_bytes) {
        ssize_t r = ::read(c, buf, sizeof(buf));
        if (r <= 0) break;
        received_.append(buf, static_cast<size_t>(r));
        head_end = received_.find("\r\n\r\n");
      }
      ssize_t ignored = ::write(c, reply.data(), reply.size());
      (void)ignored;
      ::close(c);
    });
  }
  // Valid once the client has its answer.
  std::string received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string received_;
};

TEST(HttpClient, GetReadsStatusHeadersInLowerCaseAndBody) {
  OneShotServer server;
  server.Serve(
      "HTTP/1.1 201 Created\r\nETag: \"abc\"\r\nX-Trans-Id: tx1\r\n"
      "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
      0);
  HttpClient http((HttpOptions()));
  HttpRequest req;
  req.method = "GET";
  req.url = server.url("/v1/a/c?x=1");
  req.headers = {"X-Auth-Token: tok"};
  HttpResponse r;
  ASSERT_OK(http.Perform(req, &r));
  EXPECT_EQ(r.transport, Transport::kOk);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.at("etag"), "\"abc\"");
  EXPECT_EQ(r.Header("X-Trans-Id"), "tx1");
  EXPECT_EQ(r.body, "hello");
  std::string got = server.received();
  EXPECT_EQ(got.rfind("GET /v1/a/c?x=1 HTTP/1.1\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\r\nX-Auth-Token: tok\r\n"), std::string::npos);
}

TEST(HttpClient, PutSendsTheBodyWithItsLength) {
  OneShotServer server;
  server.Serve("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 11);
  HttpClient http((HttpOptions()));
  HttpRequest req;
  req.method = "PUT";
  req.url = server.url("/c/o");
  req.headers = {"Expect:"};
  std::string body = "hello world";
  req.body.data = reinterpret_cast<const uint8_t*>(body.data());
  req.body.size = body.size();
  HttpResponse r;
  ASSERT_OK(http.Perform(req, &r));
  EXPECT_EQ(r.status, 201);
  std::string got = server.received();
  EXPECT_NE(got.find("Content-Length: 11\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 11), body);
}

TEST(HttpClient, NoResponseIsClassified) {
  int port;
  {
    OneShotServer closed;  // a port nobody listens on once it is gone
    port = closed.port();
  }
  HttpClient http((HttpOptions()));
  HttpRequest req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  HttpResponse r;
  EXPECT_FALSE(http.Perform(req, &r).ok());
  EXPECT_EQ(r.transport, Transport::kRetryable);  // refused: may come back

  req.url = "ftp://127.0.0.1/x";  // never allowed
  base::Status st = http.Perform(req, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(r.transport, Transport::kFatal);
  EXPECT_NE(st.message().find("GET ftp://127.0.0.1/x"), std::string::npos);

  HttpOptions o;
  o.cancelled = [] { return true; };
  HttpClient cancelled(o);
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_FALSE(cancelled.Perform(req, &r).ok());
  EXPECT_EQ(r.transport, Transport::kCancelled);
}

TEST(HttpClient, NewHttpClientMakesOne) {
  std::unique_ptr<HttpTransport> t = NewHttpClient(HttpOptions());
  EXPECT_NE(dynamic_cast<HttpClient*>(t.get()), nullptr);
}

}  // namespace
}  // namespace upload
