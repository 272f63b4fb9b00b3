// MethodCall and Response: the two XML-RPC documents as data.
#ifndef VHDSM_XMLRPC_MESSAGE_H_
#define VHDSM_XMLRPC_MESSAGE_H_

#include <string>
#include <vector>

#include "xmlrpc/fault.h"
#include "xmlrpc/value.h"

namespace xmlrpc {

// A <methodCall>: the method name (characters A-Z a-z 0-9 _ . : / only, as
// the spec says) and its params in order.
struct MethodCall {
  std::string method;
  std::vector<Value> params;
  bool operator==(const MethodCall&) const = default;
};

// A <methodResponse>: the single result value, or the fault.
using Response = Result<Value>;

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_MESSAGE_H_
