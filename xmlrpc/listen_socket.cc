#include "xmlrpc/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace xmlrpc {

namespace {

Fault Error(const std::string& what, int err) {
  return Fault{interop::kTransportError, what + ": " + std::strerror(err)};
}

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// True when a server accepts connections at `path`.
bool SomeoneListens(const std::string& path) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

}  // namespace

Result<int> ListenUnix(const std::string& path, mode_t mode, int backlog) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) {
    return Fault{interop::kTransportError,
                 "socket path empty or too long: " + path};
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Fault{interop::kTransportError,
                   path + " exists and is not a socket"};
    }
    if (SomeoneListens(path)) {
      return Fault{interop::kTransportError, path + " is in use"};
    }
  }

  // The private directory: same filesystem as `path`, so rename works.
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty()) dir = "/";
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp_dir = dir + "/." + base + ".XXXXXX";
  if (::mkdtemp(temp_dir.data()) == nullptr) {  // mode 0700
    return Error("mkdtemp in " + dir, errno);
  }
  std::string temp_path = temp_dir + "/s";
  sockaddr_un temp_addr;
  if (!FillAddress(temp_path, &temp_addr)) {
    ::rmdir(temp_dir.c_str());
    return Fault{interop::kTransportError, "socket path too long: " + path};
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    ::rmdir(temp_dir.c_str());
    return Error("socket", err);
  }
  auto fail = [&](const std::string& what) -> Result<int> {
    int err = errno;
    ::close(fd);
    ::unlink(temp_path.c_str());
    ::rmdir(temp_dir.c_str());
    return Error(what, err);
  };
  if (::bind(fd, reinterpret_cast<sockaddr*>(&temp_addr), sizeof(temp_addr)) !=
      0) {
    return fail("bind " + temp_path);
  }
  if (::chmod(temp_path.c_str(), mode) != 0) return fail("chmod " + temp_path);
  if (::listen(fd, backlog) != 0) return fail("listen " + temp_path);
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return fail("rename to " + path);
  }
  ::rmdir(temp_dir.c_str());
  return fd;
}

Result<int> ListenLoopbackTcp(int port, int* bound_port, int backlog) {
  if (port < 0 || port > 65535) {
    return Fault{interop::kTransportError,
                 "bad TCP port " + std::to_string(port)};
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error("socket", errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, backlog) != 0) {
    int err = errno;
    ::close(fd);
    return Error("bind/listen 127.0.0.1:" + std::to_string(port), err);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (bound_port != nullptr) *bound_port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace xmlrpc
