// xmlrpc-exec-bench-driver: the smallest VHDSR-style program. It answers a
// call given as argv[1] (or on stdin) exactly as a driver would: parse,
// dispatch, print one <methodResponse>, exit 0. The one method, "ping",
// returns nil. bench/xmlrpc_bench.sh times it against the Python floor.
#include "xmlrpc/dispatcher.h"
#include "xmlrpc/exec.h"

int main(int argc, char** argv) {
  xmlrpc::Dispatcher dispatcher;
  dispatcher.Register(
      "ping",
      [](const xmlrpc::Params&) -> xmlrpc::Response { return xmlrpc::Value(); },
      {"Returns nil.", {}});
  return xmlrpc::RunExecMain(dispatcher, argc, argv);
}
