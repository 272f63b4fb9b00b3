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
#include <optional>
#include <string>

#include "base/harden.h"
#include "base/size.h"
#include "host/config.h"
#include "vhdsm/plugin.h"
#include "xmlrpc/http_server.h"
#include "xmlrpc/writer.h"

namespace {

constexpr char kDefaultConfig[] = "/etc/vhdsm/vhdsm.conf";

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

struct Args {
  std::string config_path;  // "" : the default, if it exists
  std::string socket;       // "" : the configuration's
  int tcp_port = -2;        // -2: the configuration's
};

// Fills `args`; nullopt to go on, else the exit status (--help, bad usage).
std::optional<int> ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    bool takes_value = a == "--config" || a == "--socket" || a == "--tcp-port";
    if (takes_value && v == nullptr) return Usage();
    if (takes_value) ++i;
    if (a == "--config") {
      args->config_path = v;
    } else if (a == "--socket") {
      args->socket = v;
    } else if (a == "--tcp-port") {
      uint64_t port = 0;
      if (!base::ParseCount(v, 65535, &port).ok()) return Usage();
      args->tcp_port = static_cast<int>(port);
    } else if (a == "--foreground") {
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      return Usage();
    }
  }
  return std::nullopt;
}

// The configuration (the default file when none is named and it is
// readable), with the command line's socket and port over it.
bool LoadConfig(Args* args, vhdsm::Config* config) {
  if (args->config_path.empty() && ::access(kDefaultConfig, R_OK) == 0) {
    args->config_path = kDefaultConfig;
  }
  if (!args->config_path.empty()) {
    base::Status s = vhdsm::Config::Load(args->config_path, config);
    if (!s.ok()) {
      std::fprintf(stderr, "vhdsmd: %s: %s\n", args->config_path.c_str(),
                   s.message().c_str());
      return false;
    }
  }
  if (!args->socket.empty()) config->socket = args->socket;
  if (args->tcp_port != -2) config->tcp_port = args->tcp_port;
  return true;
}

// Blocks the signals that sigwait takes in WaitForStop (in no other
// thread: the threads started later inherit the mask).
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

xmlrpc::HttpServerOptions ServerOptions(const vhdsm::Config& config) {
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
  return o;
}

// One request, answered by the current plugin (a reload may replace it
// meanwhile: this one finishes with the plugin it started with).
std::string Serve(std::string_view body, const xmlrpc::Peer& peer,
                  xmlrpc::Dispatcher::Outcome*) {
  std::shared_ptr<PluginRef> ref = Current();
  char* resp = nullptr;
  size_t len = 0;
  vhdsm_peer from{peer.transport == xmlrpc::Peer::Transport::kUnix
                      ? VHDSM_PEER_UNIX
                      : VHDSM_PEER_TCP,
                  peer.uid, peer.pid};
  if (!ref || vhdsm_handle_peer(ref->p, &from, body.data(), body.size(), &resp,
                                &len) != 0) {
    return xmlrpc::WriteFault({202, "General backend error"});
  }
  std::string out(resp, len);
  vhdsm_free(resp);
  return out;
}

void AnnounceListening(const vhdsm::Config& config,
                       const xmlrpc::HttpServer& server) {
  syslog(LOG_INFO, "listening on %s%s", config.socket.c_str(),
         config.tcp_port >= 0
             ? (" and 127.0.0.1:" + std::to_string(server.tcp_port())).c_str()
             : "");
  if (config.tcp_port >= 0) {
    std::printf("tcp_port=%d\n", server.tcp_port());
    std::fflush(stdout);
  }
  sd_notify(0, "READY=1");
}

// Until SIGTERM or SIGINT; each SIGHUP loads `config_path` into a new
// plugin, keeping the old one if that fails.
void WaitForStop(const sigset_t& set, const std::string& config_path) {
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGHUP) return;
    sd_notify(0, "RELOADING=1");
    std::string error;
    if (!Load(config_path, &error)) {
      syslog(LOG_ERR, "reload failed, keeping the old configuration: %s",
             error.c_str());
    } else {
      syslog(LOG_INFO, "configuration reloaded");
    }
    sd_notify(0, "READY=1");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (std::optional<int> rc = ParseArgs(argc, argv, &args)) return *rc;
  openlog("vhdsmd", LOG_PID, LOG_DAEMON);
  // Keys from the configuration and image tasks' tokens live here all the
  // time: no core dumps, no same-uid ptrace, from the start.
  if (base::Status s = base::ProtectCredentials(); !s.ok()) {
    std::fprintf(stderr, "vhdsmd: %s\n", s.message().c_str());
    return 1;
  }
  vhdsm::Config config;
  if (!LoadConfig(&args, &config)) return 1;
  setenv("VHDSM_GC", "thread", 0);
  sigset_t signals = BlockSignals();

  std::string error;
  if (!Load(args.config_path, &error)) {
    std::fprintf(stderr, "vhdsmd: %s\n", error.c_str());
    return 1;
  }
  xmlrpc::HttpServer server(Serve, ServerOptions(config));
  xmlrpc::Result<void> started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "vhdsmd: %s\n", started.fault().message.c_str());
    return 1;
  }
  AnnounceListening(config, server);
  WaitForStop(signals, args.config_path);
  sd_notify(0, "STOPPING=1");
  syslog(LOG_INFO, "stopping");
  server.Stop();
  std::lock_guard<std::mutex> lock(g_mu);
  g_plugin.reset();
  return 0;
}
