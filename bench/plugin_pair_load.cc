// plugin-pair-load: drives vhdsmd with vdi_snapshot + vdi_delete pairs (the
// snapshot is deleted at once) from several threads, each with its own
// kept-alive connection and its own VDIs, and prints the rate.
//
//   plugin-pair-load --url URL --sr DIR --vdis UUID[,UUID...]
//                    [--clients N] [--seconds S] [--pairs-per-vdi K]
// Client i takes VDIs i, i+N, i+2N, ... in turn, K pairs each (every pair
// leaves one more base copy in the VDI's chain until the GC folds it away:
// K < 30 keeps the chain under the depth limit without counting on the GC),
// and stops at the deadline or when its VDIs are used up. Output, one line:
// "pairs=<n> errors=<n> seconds=<s> pairs_per_s=<rate> connections=<n>", and
// the first fault on stderr. Exit status 1 if any call failed.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xmlrpc/http_client.h"

namespace {

using xmlrpc::Struct;
using xmlrpc::Value;

// A call's struct as xapi sends it to an SR master.
Value Params(const std::string& command, const std::string& sr,
             const std::string& uuid) {
  Struct s;
  s.Append("host_ref", "OpaqueRef:NULL");
  s.Append("command", command);
  s.Append("args", xmlrpc::Array());
  s.Append("device_config", Struct{{"location", sr}, {"SRmaster", "true"}});
  s.Append("sr_uuid", "5e1b7a4e-0000-4000-8000-0000000be4c4");
  s.Append("vdi_uuid", uuid);
  s.Append("vdi_location", uuid);
  return s;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  xmlrpc::ClientOptions options;
  std::string sr;
  std::vector<std::string> vdis;
  int clients = 4;
  double seconds = 3;
  long pairs_per_vdi = 1L << 40;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* arg = argv[i + 1];
    if (flag == "--url") {
      options.url = arg;
    } else if (flag == "--sr") {
      sr = arg;
    } else if (flag == "--vdis") {
      vdis = Split(arg);
    } else if (flag == "--clients") {
      clients = std::atoi(arg);
    } else if (flag == "--seconds") {
      seconds = std::atof(arg);
    } else if (flag == "--pairs-per-vdi") {
      pairs_per_vdi = std::atol(arg);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (sr.empty() || vdis.empty() || clients < 1 || pairs_per_vdi < 1) {
    std::fprintf(stderr,
                 "usage: plugin-pair-load --url URL --sr DIR --vdis UUID,... "
                 "[--clients N] [--seconds S] [--pairs-per-vdi K]\n");
    return 2;
  }
  options.timeout_ms = 60000;

  std::atomic<long> pairs{0}, errors{0}, connections{0};
  std::once_flag first_error;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      xmlrpc::Client client(options);
      size_t next = t;  // index of this client's current VDI
      auto failed = [&](const xmlrpc::Response& r, const char* what) {
        if (r.ok()) return false;
        errors++;
        std::call_once(first_error, [&] {
          std::fprintf(stderr, "%s failed: %d %s\n", what, r.fault().code,
                       r.fault().message.c_str());
        });
        return true;
      };
      long done = 0, on_this_vdi = 0;
      while (std::chrono::steady_clock::now() < deadline) {
        if (on_this_vdi == pairs_per_vdi) {
          next += clients;
          on_this_vdi = 0;
        }
        if (next >= vdis.size()) break;
        const std::string& vdi = vdis[next];
        ++on_this_vdi;
        xmlrpc::Response snap =
            client.Call("vdi_snapshot", {Params("vdi_snapshot", sr, vdi)});
        if (failed(snap, "vdi_snapshot")) continue;
        const Value* uuid = snap.value().type() == Value::Type::kStruct
                                ? snap.value().as_struct().Find("uuid")
                                : nullptr;
        if (uuid == nullptr || uuid->type() != Value::Type::kString) {
          errors++;
          continue;
        }
        xmlrpc::Response del = client.Call(
            "vdi_delete", {Params("vdi_delete", sr, uuid->as_string())});
        if (failed(del, "vdi_delete")) continue;
        ++done;
      }
      pairs += done;
      connections += client.connections_opened();
    });
  }
  for (std::thread& t : threads) t.join();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "pairs=%ld errors=%ld seconds=%.2f pairs_per_s=%.1f connections=%ld\n",
      pairs.load(), errors.load(), elapsed, pairs.load() / elapsed,
      connections.load());
  return errors.load() == 0 ? 0 : 1;
}
