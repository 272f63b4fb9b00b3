// Listening sockets for the HTTP server: a Unix socket with exact
// permissions, or a TCP port on the loopback interface only.
#ifndef VHDSM_XMLRPC_LISTEN_SOCKET_H_
#define VHDSM_XMLRPC_LISTEN_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "xmlrpc/fault.h"

namespace xmlrpc {

// A listening Unix stream socket at `path` with permission bits `mode`.
// The socket is bound inside a fresh private directory next to `path`,
// chmod-ed there, then renamed into place, so it is never reachable with
// looser permissions, whatever the umask. An existing socket at `path` that
// nobody answers on (left by a crash) is replaced; a live one, or any other
// kind of file, is an error. The fd is close-on-exec. Errors carry
// interop::kTransportError.
Result<int> ListenUnix(const std::string& path, mode_t mode, int backlog = 128);

// A listening TCP socket on 127.0.0.1:`port` (0: the kernel picks; the
// port actually bound is stored in *bound_port). Close-on-exec.
Result<int> ListenLoopbackTcp(int port, int* bound_port, int backlog = 128);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_LISTEN_SOCKET_H_
