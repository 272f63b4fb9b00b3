#include "xmlrpc/fault.h"

namespace xmlrpc {

Fault MakeFault(const FaultKind& kind, std::string_view detail) {
  Fault fault{kind.code, kind.description};
  if (!detail.empty()) {
    fault.message.append(" [opterr=").append(detail).append("]");
  }
  return fault;
}

}  // namespace xmlrpc
