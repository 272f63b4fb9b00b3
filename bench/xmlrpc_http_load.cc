// xmlrpc-http-load: calls one XML-RPC method in a loop from several
// threads, each with its own kept-alive connection, and prints the rate.
//
//   xmlrpc-http-load (--url URL | --socket PATH) [--method NAME]
//                    [--clients N] [--seconds S]
// Output, one line: "calls=<n> errors=<n> seconds=<s> calls_per_s=<rate>
// connections=<n>". Exit status 1 if any call failed.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "xmlrpc/http_client.h"

int main(int argc, char** argv) {
  xmlrpc::ClientOptions options;
  std::string method = "ping";
  int clients = 4;
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* arg = argv[i + 1];
    if (flag == "--url") {
      options.url = arg;
    } else if (flag == "--socket") {
      options.unix_socket_path = arg;
    } else if (flag == "--method") {
      method = arg;
    } else if (flag == "--clients") {
      clients = std::atoi(arg);
    } else if (flag == "--seconds") {
      seconds = std::atof(arg);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  options.timeout_ms = 10000;

  std::atomic<long> calls{0}, errors{0}, connections{0};
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      xmlrpc::Client client(options);
      long ok = 0, bad = 0;
      while (std::chrono::steady_clock::now() < deadline) {
        xmlrpc::Response r = client.Call(method);
        if (r.ok()) {
          ++ok;
        } else {
          if (bad++ == 0) {
            std::fprintf(stderr, "call failed: %d %s\n", r.fault().code,
                         r.fault().message.c_str());
          }
        }
      }
      calls += ok;
      errors += bad;
      connections += client.connections_opened();
    });
  }
  for (std::thread& t : threads) t.join();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "calls=%ld errors=%ld seconds=%.2f calls_per_s=%.0f "
      "connections=%ld\n",
      calls.load(), errors.load(), elapsed, calls.load() / elapsed,
      connections.load());
  return errors.load() == 0 ? 0 : 1;
}
