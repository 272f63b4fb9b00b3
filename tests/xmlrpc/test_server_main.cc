// xmlrpc-test-server: the validator1 methods (validator1.h) plus "ping"
// (no params, returns nil: the benchmarks' trivial call) behind either
// transport.
//
//   xmlrpc-test-server --port N | --socket PATH [--threads N]
//                      [--max-body BYTES] [--socket-mode OCTAL]
//       HTTP on 127.0.0.1:N (0: any free port) and/or a Unix socket.
//       Prints "READY tcp_port=<port or -1>" on stdout once it accepts
//       connections; stops cleanly on SIGTERM or SIGINT (exit 0). Faults use
//       the interoperability codes (parse error -32700, ...).
//   xmlrpc-test-server REQUEST | xmlrpc-test-server < REQUEST
//       The exec transport, as xapi runs a driver: one <methodResponse> on
//       stdout, exit 0. Faults use the SMAPIv1 codes (parse error 143, ...).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/log.h"
#include "tests/xmlrpc/validator1.h"
#include "xmlrpc/dispatcher.h"
#include "xmlrpc/exec.h"
#include "xmlrpc/http_server.h"

namespace {

void RegisterAll(xmlrpc::Dispatcher* d) {
  xmlrpc_test::RegisterValidator1(d);
  d->Register(
      "ping",
      [](const xmlrpc::Params&) -> xmlrpc::Response { return xmlrpc::Value(); },
      {"Returns nil.", {{"nil", {}}}});
}

int Usage() {
  std::fprintf(stderr,
               "usage: xmlrpc-test-server --port N | --socket PATH "
               "[--threads N] [--max-body BYTES] [--socket-mode OCTAL]\n"
               "       xmlrpc-test-server REQUEST   (exec mode)\n");
  return 2;
}

int ServeHttp(int argc, char** argv) {
  xmlrpc::HttpServerOptions options;
  xmlrpc::Dispatcher::Options dispatch_options;
  dispatch_options.faults = xmlrpc::FaultPolicy::Interop();
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* arg = argv[++i];
    if (flag == "--port") {
      options.tcp_port = std::atoi(arg);
    } else if (flag == "--socket") {
      options.unix_socket_path = arg;
    } else if (flag == "--threads") {
      options.threads = static_cast<unsigned>(std::atoi(arg));
    } else if (flag == "--max-body") {
      dispatch_options.limits.max_body_bytes = std::strtoull(arg, nullptr, 10);
    } else if (flag == "--socket-mode") {
      options.unix_socket_mode =
          static_cast<mode_t>(std::strtoul(arg, nullptr, 8));
    } else {
      return Usage();
    }
  }

  // Block the stop signals in every thread (the server's threads inherit
  // this mask), then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  xmlrpc::Dispatcher dispatcher(dispatch_options);
  RegisterAll(&dispatcher);
  xmlrpc::HttpServer server(dispatcher, options);
  xmlrpc::Result<void> started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "xmlrpc-test-server: %s\n",
                 started.fault().message.c_str());
    return 1;
  }
  std::printf("READY tcp_port=%d\n", server.tcp_port());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  base::Log(LOG_INFO,
            std::string("stopping on signal ") + strsignal(signal_number));
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  base::LogOptions log;
  log.ident = "xmlrpc-test-server";
  log.to_syslog = false;
  log.max_priority = LOG_WARNING;
  base::ConfigureLog(log);

  if (argc >= 2 && std::strncmp(argv[1], "--", 2) == 0) {
    return ServeHttp(argc, argv);
  }
  xmlrpc::Dispatcher dispatcher;
  RegisterAll(&dispatcher);
  return xmlrpc::RunExecMain(dispatcher, argc, argv);
}
