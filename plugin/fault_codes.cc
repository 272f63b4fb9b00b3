#include "plugin/fault_codes.h"

namespace vhdsm {
namespace fault {

xmlrpc::Fault FromStatus(const vhd::Status& status,
                         const xmlrpc::FaultKind& command_kind) {
  const std::string& m = status.message();
  switch (status.code()) {
    case vhd::Code::kNoSpace:
      return xmlrpc::MakeFault(kNoSpace, m);
    case vhd::Code::kChainTooLong:
      return xmlrpc::MakeFault(kChainTooLong, m);
    case vhd::Code::kNotFound:
      return xmlrpc::MakeFault(kVdiMissing, m);
    case vhd::Code::kInvalidArgument:
      return xmlrpc::MakeFault(kBadRequest, m);
    case vhd::Code::kTooLarge:
      return xmlrpc::MakeFault(kVdiSize, m);
    case vhd::Code::kExists:
      return xmlrpc::MakeFault(kVdiExists, m);
    case vhd::Code::kNotSupported:
      return xmlrpc::MakeFault(kUnimplemented, m);
    case vhd::Code::kBusy:
      return xmlrpc::MakeFault(kVdiInUse, m);
    default:
      return xmlrpc::MakeFault(command_kind, status.ToString());
  }
}

}  // namespace fault
}  // namespace vhdsm
