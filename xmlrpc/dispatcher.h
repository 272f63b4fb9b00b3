// Dispatcher: the method registry that turns a request into a response.
//
// Register every method first (Register is not thread-safe), then call
// Handle or Call from any number of threads; the dispatcher itself keeps no
// mutable state, so concurrency is up to the handlers.
//
// Faults come in four kinds, each with a configurable code and description
// (FaultPolicy). The defaults are SMAPIv1's (xapi-project/sm
// XE_SR_ERRORCODES.xml), since the storage plugin is the main user:
//   parse_error     143 "Failed to parse the request": not a well-formed,
//                   XML-RPC methodCall, or over a Limit
//   unknown_method   38 "The requested method is not supported/implemented"
//   bad_params      143 "Failed to parse the request": wrong count or types
//                   (from a Signature check or a ParamError in the handler)
//   internal_error  202 "General backend error": the handler threw, or its
//                   result cannot be written (e.g. an int beyond 32 bits)
// Messages follow sm's XenError form "<description> [opterr=<detail>]".
// FaultPolicy::Interop() gives the xmlrpc-epi interoperability codes instead
// (-32700, -32601, -32602, -32603) for general-purpose servers.
//
// Built in (unless Options::system_methods is false), as in the XML-RPC
// introspection and multicall conventions: system.listMethods,
// system.methodHelp, system.methodSignature, system.multicall (a nested
// system.multicall inside a multicall is refused per entry).
#ifndef VHDSM_XMLRPC_DISPATCHER_H_
#define VHDSM_XMLRPC_DISPATCHER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xmlrpc/fault.h"
#include "xmlrpc/limits.h"
#include "xmlrpc/message.h"
#include "xmlrpc/params.h"
#include "xmlrpc/peer.h"
#include "xmlrpc/value.h"
#include "xmlrpc/writer.h"

namespace xmlrpc {

// Return the result Value or a Fault. May also throw ParamError (becomes a
// bad_params fault) or any other exception (becomes internal_error).
using Handler = std::function<Response(const Params& params)>;

// One accepted calling form, in type names as TypeName() spells them
// ("int", "struct", ...). A param "any" accepts every type.
struct Signature {
  std::string result;
  std::vector<std::string> params;
};

struct MethodInfo {
  std::string help;
  // Empty: params are not checked before the call, and
  // system.methodSignature answers "undef". Otherwise a call must match one.
  std::vector<Signature> signatures;
};

struct FaultPolicy {
  FaultKind parse_error{143, "Failed to parse the request"};
  FaultKind unknown_method{38,
                           "The requested method is not supported/implemented"};
  FaultKind bad_params{143, "Failed to parse the request"};
  FaultKind internal_error{202, "General backend error"};

  static FaultPolicy Interop();
};

class Dispatcher {
 public:
  struct Options {
    FaultPolicy faults;
    Limits limits;
    Style style = Style::kCompact;  // of the responses Handle writes
    bool system_methods = true;
  };

  // What Handle saw, for the transports' logs.
  struct Outcome {
    std::string method;          // empty if the request did not parse
    std::optional<Fault> fault;  // set when the response is a fault
  };

  Dispatcher();
  explicit Dispatcher(Options options);

  // Adds `name` (which must be a valid method name, see parser.h), or
  // replaces an earlier registration. Throws std::invalid_argument for an
  // invalid name or an unknown type name in `info.signatures`.
  void Register(std::string name, Handler handler, MethodInfo info = {});

  // Registered names, the system.* ones included, sorted.
  std::vector<std::string> MethodNames() const;
  bool Has(std::string_view name) const;

  // Dispatches one parsed call made by `peer` (handlers see it as
  // Params::peer(); system.multicall passes it on to every entry).
  Response Call(const MethodCall& call, const Peer& peer = Peer()) const;

  // Parses `request`, dispatches it and writes the one <methodResponse>.
  // Never fails: every error becomes a fault document.
  std::string Handle(std::string_view request, Outcome* outcome = nullptr,
                     const Peer& peer = Peer()) const;

  const Options& options() const { return options_; }

 private:
  struct Entry {
    Handler handler;
    MethodInfo info;
  };

  const Entry* Find(std::string_view name) const;
  std::optional<Fault> CheckSignatures(const std::string& method,
                                       const MethodInfo& info,
                                       const std::vector<Value>& params) const;
  Response Invoke(const std::string& method, const Entry& entry,
                  const std::vector<Value>& params, const Peer& peer) const;
  Response MultiCall(const Params& params) const;
  void RegisterSystemMethods();

  Options options_;
  std::map<std::string, Entry, std::less<>> methods_;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_DISPATCHER_H_
