// Helpers shared by the xmlrpc test files: temporary directories, raw
// socket I/O and request builders. Header-only (tests/xmlrpc/*_test.cc are
// the only sources the suite's build picks up).
#ifndef VHDSM_TESTS_XMLRPC_TEST_UTIL_H_
#define VHDSM_TESTS_XMLRPC_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace xmlrpc_test {

// A fresh directory under $TMPDIR, removed with its content on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "xmlrpc-test-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const {
    return path_ + "/" + std::string(name);
  }

 private:
  std::string path_;
};

// A connected stream socket to a Unix path or a loopback port; -1 on error.
inline int ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline int ConnectTcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes, `timeout_ms` passes without data, or
// `max` bytes arrived.
inline std::string ReadSome(int fd, int timeout_ms, size_t max = 1 << 20) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = recv(fd, buf, std::min(sizeof(buf), max - out.size()), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Reads one HTTP response (headers and a Content-Length body) or whatever
// arrived before the peer closed or `timeout_ms` passed without data.
inline std::string ReadHttpResponse(int fd, int timeout_ms = 3000) {
  std::string out;
  while (true) {
    size_t header_end = out.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      size_t at = out.find("Content-Length: ");
      size_t length = at < header_end
                          ? std::strtoul(out.c_str() + at + 16, nullptr, 10)
                          : 0;
      if (out.size() >= header_end + 4 + length) return out;
    }
    std::string more = ReadSome(fd, timeout_ms, 1);
    if (more.empty()) return out;
    out += more;
  }
}

// A complete HTTP/1.1 POST of `body` with Content-Type text/xml.
inline std::string HttpPost(std::string_view body,
                            std::string_view content_type = "text/xml",
                            std::string_view extra_headers = "") {
  return "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: " +
         std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

inline std::string Call(std::string_view method, std::string_view params_xml) {
  return "<methodCall><methodName>" + std::string(method) +
         "</methodName><params>" + std::string(params_xml) +
         "</params></methodCall>";
}

inline std::string Param(std::string_view value_xml) {
  return "<param>" + std::string(value_xml) + "</param>";
}

}  // namespace xmlrpc_test

#endif  // VHDSM_TESTS_XMLRPC_TEST_UTIL_H_
