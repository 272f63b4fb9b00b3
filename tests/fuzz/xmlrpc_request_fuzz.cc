// libFuzzer target for the XML-RPC request path: parsing (libxml2 behind
// xml_tree.h), the grammar (parser.h), the writer and the dispatcher.
//
// Invariants checked on every input, besides "no crash, no sanitizer
// report, no hang":
//   - whatever ParseMethodCall accepts, WriteMethodCall (compact) either
//     refuses or writes a document that parses back to an equal call;
//   - Dispatcher::Handle always answers with a valid <methodResponse>.
//
// Build: `make fuzz` (scripts/fuzz.sh: clang, libFuzzer, ASan + UBSan);
// the normal build links it with tests/fuzz/replay_main.cc as
// build/fuzz/xmlrpc_request_replay, which runs the corpus once:
//   ./xmlrpc_request_fuzz tests/fuzz/corpus/xmlrpc_request -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "xmlrpc/dispatcher.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace {

const xmlrpc::Dispatcher& TheDispatcher() {
  static const xmlrpc::Dispatcher* d = [] {
    auto* dispatcher = new xmlrpc::Dispatcher();
    dispatcher->Register(
        "echo",
        [](const xmlrpc::Params& p) -> xmlrpc::Response { return p.At(0); });
    dispatcher->Register(
        "sum",
        [](const xmlrpc::Params& p) -> xmlrpc::Response {
          return xmlrpc::Value(p.IntAt(0) / 2 + p.IntAt(1) / 2);
        },
        {"", {{"int", {"int", "int"}}}});
    dispatcher->Register(
        "struct", [](const xmlrpc::Params& p) -> xmlrpc::Response {
          return xmlrpc::Value(xmlrpc::RequireString(p.StructAt(0), "command"));
        });
    return dispatcher;
  }();
  return *d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view doc(reinterpret_cast<const char*>(data), size);

  xmlrpc::Result<xmlrpc::MethodCall> call = xmlrpc::ParseMethodCall(doc);
  if (call.ok()) {
    xmlrpc::Result<std::string> written = xmlrpc::WriteMethodCall(call.value());
    if (written.ok()) {
      xmlrpc::Result<xmlrpc::MethodCall> again =
          xmlrpc::ParseMethodCall(written.value());
      if (!again.ok() || !(again.value() == call.value())) std::abort();
    }
    xmlrpc::Result<std::string> python =
        xmlrpc::WriteMethodCall(call.value(), xmlrpc::Style::kPython);
    if (python.ok() && !xmlrpc::ParseMethodCall(python.value()).ok()) {
      std::abort();
    }
  }

  xmlrpc::ParseMethodResponse(doc);  // the client's path: must not crash

  std::string response = TheDispatcher().Handle(doc);
  if (!xmlrpc::ParseMethodResponse(response).ok()) std::abort();
  return 0;
}
