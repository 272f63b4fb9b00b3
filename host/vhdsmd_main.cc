// vhdsmd: a daemon hosting libvhdsm.so, serving the same XML-RPC methods as
// VHDSR over HTTP POST on a Unix socket (mode 0600) and, when configured, on
// a loopback TCP port. The GC and image tasks run in its threads.
//
//   vhdsmd [--config PATH] [--socket PATH] [--tcp-port N] [--foreground]
//
// Runs in the foreground (systemd Type=notify: READY=1 once listening).
// SIGHUP reloads the configuration (a new plugin takes new requests; the old
// one finishes its own); SIGTERM/SIGINT stop it cleanly.
#include <signal.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "base/harden.h"
#include "base/size.h"
#include "host/config.h"
#include "vhdsm/plugin.h"
#include "xmlrpc/http_server.h"
#include "xmlrpc/writer.h"

namespace {

struct PluginRef {
  vhdsm_plugin* p = nullptr;
  ~PluginRef() {
    if (p) vhdsm_close(p);
  }
};

std::mutex g_mu;
std::shared_ptr<PluginRef> g_plugin;

std::shared_ptr<PluginRef> Current() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_plugin;
}

bool Load(const std::string& config, std::string* error) {
  char* err = nullptr;
  vhdsm_plugin* p = vhdsm_open(config.empty() ? nullptr : config.c_str(), &err);
  if (p == nullptr) {
    *error = err ? err : "cannot open the plugin";
    vhdsm_free(err);
    return false;
  }
  auto ref = std::make_shared<PluginRef>();
  ref->p = p;
  std::lock_guard<std::mutex> lock(g_mu);
  g_plugin = ref;
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: vhdsmd [--config PATH] [--socket PATH] [--tcp-port N] "
               "[--foreground]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string socket;
  int tcp_port = -2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (a == "--config") {
      const char* v = next();
      if (!v) return Usage();
      config_path = v;
    } else if (a == "--socket") {
      const char* v = next();
      if (!v) return Usage();
      socket = v;
    } else if (a == "--tcp-port") {
      const char* v = next();
      if (!v) return Usage();
      uint64_t port = 0;
      if (!base::ParseCount(v, 65535, &port).ok()) return Usage();
      tcp_port = static_cast<int>(port);
    } else if (a == "--foreground") {
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      return Usage();
    }
  }
  openlog("vhdsmd", LOG_PID, LOG_DAEMON);
  // Keys from the configuration and image tasks' tokens live here all the
  // time: no core dumps, no same-uid ptrace, from the start.
  if (base::Status s = base::ProtectCredentials(); !s.ok()) {
    std::fprintf(stderr, "vhdsmd: %s\n", s.message().c_str());
    return 1;
  }
  if (config_path.empty() && ::access("/etc/vhdsm/vhdsm.conf", R_OK) == 0) {
    config_path = "/etc/vhdsm/vhdsm.conf";
  }
  vhdsm::Config config;
  if (!config_path.empty()) {
    base::Status s = vhdsm::Config::Load(config_path, &config);
    if (!s.ok()) {
      std::fprintf(stderr, "vhdsmd: %s: %s\n", config_path.c_str(),
                   s.message().c_str());
      return 1;
    }
  }
  if (!socket.empty()) config.socket = socket;
  if (tcp_port != -2) config.tcp_port = tcp_port;
  setenv("VHDSM_GC", "thread", 0);

  // Signals are taken by sigwait below, in no other thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  if (!Load(config_path, &error)) {
    std::fprintf(stderr, "vhdsmd: %s\n", error.c_str());
    return 1;
  }
  xmlrpc::HttpServerOptions o;
  o.unix_socket_path = config.socket;
  o.tcp_port = config.tcp_port;
  // Only root (xapi) and the daemon's own user may call in: SMAPIv1 has no
  // authentication of its own.
  o.unix_peer_uids = {0, geteuid()};
  o.threads = config.threads;
  o.max_body_bytes = 8 << 20;
  o.max_connections = config.max_connections;
  o.request_timeout_seconds = config.request_timeout_seconds;
  o.body_budget_bytes = config.body_memory_bytes;
  xmlrpc::HttpServer server(
      [](std::string_view body, const xmlrpc::Peer& peer,
         xmlrpc::Dispatcher::Outcome*) -> std::string {
        std::shared_ptr<PluginRef> ref = Current();
        char* resp = nullptr;
        size_t len = 0;
        vhdsm_peer from{peer.transport == xmlrpc::Peer::Transport::kUnix
                            ? VHDSM_PEER_UNIX
                            : VHDSM_PEER_TCP,
                        peer.uid, peer.pid};
        if (!ref || vhdsm_handle_peer(ref->p, &from, body.data(), body.size(),
                                      &resp, &len) != 0) {
          return xmlrpc::WriteFault({202, "General backend error"});
        }
        std::string out(resp, len);
        vhdsm_free(resp);
        return out;
      },
      o);
  xmlrpc::Result<void> started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "vhdsmd: %s\n", started.fault().message.c_str());
    return 1;
  }
  syslog(LOG_INFO, "listening on %s%s", config.socket.c_str(),
         config.tcp_port >= 0
             ? (" and 127.0.0.1:" + std::to_string(server.tcp_port())).c_str()
             : "");
  if (config.tcp_port >= 0) {
    std::printf("tcp_port=%d\n", server.tcp_port());
    std::fflush(stdout);
  }
  sd_notify(0, "READY=1");
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      if (!Load(config_path, &error)) {
        syslog(LOG_ERR, "reload failed, keeping the old configuration: %s",
               error.c_str());
      } else {
        syslog(LOG_INFO, "configuration reloaded");
      }
      sd_notify(0, "READY=1");
      continue;
    }
    break;
  }
  sd_notify(0, "STOPPING=1");
  syslog(LOG_INFO, "stopping");
  server.Stop();
  std::lock_guard<std::mutex> lock(g_mu);
  g_plugin.reset();
  return 0;
}
