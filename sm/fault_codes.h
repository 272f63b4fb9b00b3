// SMAPIv1 fault codes, from xapi-project/sm's XE_SR_ERRORCODES.xml (the
// numbers xapi maps to SR_BACKEND_FAILURE_<n>, and the special ones it maps
// to its own errors: 38, 39, 24, 16, 144), and the mapping of base::Status
// codes onto them.
#ifndef VHDSM_SM_FAULT_CODES_H_
#define VHDSM_SM_FAULT_CODES_H_

#include "base/status.h"
#include "xmlrpc/fault.h"

namespace vhdsm {
namespace fault {

inline const xmlrpc::FaultKind kSrInUse{16,
                                        "The SR device is currently in use"};
inline const xmlrpc::FaultKind kVdiInUse{24, "The VDI is currently in use"};
inline const xmlrpc::FaultKind kUnimplemented{
    38, "The requested method is not supported/implemented"};
inline const xmlrpc::FaultKind kSrNotEmpty{39, "The SR is not empty"};
inline const xmlrpc::FaultKind kSrScan{40, "The SR scan failed"};
inline const xmlrpc::FaultKind kSrExists{42, "The SR already exists"};
inline const xmlrpc::FaultKind kVdiExists{43, "The VDI already exists"};
inline const xmlrpc::FaultKind kNoSpace{44, "There is insufficient space"};
inline const xmlrpc::FaultKind kVdiUnavailable{46, "The VDI is not available"};
inline const xmlrpc::FaultKind kSrUnavailable{47, "The SR is not available"};
inline const xmlrpc::FaultKind kVdiLoad{65, "Failed to load VDI"};
inline const xmlrpc::FaultKind kVdiCreate{78, "VDI Creation failed"};
inline const xmlrpc::FaultKind kVdiSize{79, "VDI Invalid size"};
inline const xmlrpc::FaultKind kVdiDelete{80, "Failed to mark VDI hidden"};
inline const xmlrpc::FaultKind kVdiClone{81, "Failed to clone VDI"};
inline const xmlrpc::FaultKind kVdiSnapshot{82, "Failed to snapshot VDI"};
inline const xmlrpc::FaultKind kChainTooLong{109,
                                             "The snapshot chain is too long"};
inline const xmlrpc::FaultKind kVdiResize{110, "VDI resize failed"};
inline const xmlrpc::FaultKind kConfigMissing{
    115, "Not all required parameters specified."};
inline const xmlrpc::FaultKind kBadRequest{143, "Failed to parse the request"};
inline const xmlrpc::FaultKind kVdiMissing{144, "VDI could not be found"};
inline const xmlrpc::FaultKind kApiFailure{153, "Failure from XenAPI call"};
inline const xmlrpc::FaultKind kEio{200, "General IO error"};
inline const xmlrpc::FaultKind kGeneral{202, "General backend error"};

// The fault for `status` raised by a command whose generic failure is
// `command_kind` (sm re-raises unexpected errors per command: vdi_create ->
// 78, vdi_snapshot -> 82, ...). Specific codes win: no space -> 44, chain
// too long -> 109, missing VDI -> 144, a bad argument -> 143.
xmlrpc::Fault FromStatus(const base::Status& status,
                         const xmlrpc::FaultKind& command_kind);

}  // namespace fault
}  // namespace vhdsm

#endif  // VHDSM_SM_FAULT_CODES_H_
