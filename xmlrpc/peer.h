// Peer: who sent a request, as far as the transport can tell.
//
// A transport fills it in (HttpServer: the listener a connection came in
// on, and SO_PEERCRED on a Unix socket) and the Dispatcher hands it to
// every handler through Params::peer(), so that a method can decide what
// the caller may do without a second channel. A call made in-process (the
// exec transport, a host calling a plugin directly) runs with the caller's
// own privileges, which is what the default says.
#ifndef VHDSM_XMLRPC_PEER_H_
#define VHDSM_XMLRPC_PEER_H_

#include <cstdint>

namespace xmlrpc {

struct Peer {
  enum class Transport { kInProcess, kUnix, kTcp };
  Transport transport = Transport::kInProcess;
  // The peer's uid and pid on a Unix socket (SO_PEERCRED); -1 when the
  // transport does not know them (TCP, in-process).
  int64_t uid = -1;
  int64_t pid = -1;

  // A Unix-socket peer running as root. TCP peers never are: loopback TCP
  // does not say which local user connected.
  bool IsRootOverUnix() const {
    return transport == Transport::kUnix && uid == 0;
  }
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_PEER_H_
