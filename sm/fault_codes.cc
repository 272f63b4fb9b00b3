#include "sm/fault_codes.h"

namespace vhdsm {
namespace fault {

xmlrpc::Fault FromStatus(const base::Status& status,
                         const xmlrpc::FaultKind& command_kind) {
  const std::string& m = status.message();
  switch (status.code()) {
    case base::Code::kNoSpace:
      return xmlrpc::MakeFault(kNoSpace, m);
    case base::Code::kChainTooLong:
      return xmlrpc::MakeFault(kChainTooLong, m);
    case base::Code::kNotFound:
      return xmlrpc::MakeFault(kVdiMissing, m);
    case base::Code::kInvalidArgument:
      return xmlrpc::MakeFault(kBadRequest, m);
    case base::Code::kTooLarge:
      return xmlrpc::MakeFault(kVdiSize, m);
    case base::Code::kExists:
      return xmlrpc::MakeFault(kVdiExists, m);
    case base::Code::kNotSupported:
      return xmlrpc::MakeFault(kUnimplemented, m);
    case base::Code::kBusy:
      return xmlrpc::MakeFault(kVdiInUse, m);
    default:
      return xmlrpc::MakeFault(command_kind, status.ToString());
  }
}

}  // namespace fault
}  // namespace vhdsm
