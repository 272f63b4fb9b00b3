// SMAPIv1 fault codes, from xapi-project/sm's XE_SR_ERRORCODES.xml (the
// numbers xapi maps to SR_BACKEND_FAILURE_<n>, and the special ones it maps
// to its own errors: 38, 39, 24, 16, 144), and the mapping of base::Status
// codes onto them.
//
// Inside sm/ and the image methods a failure is a base::Status. A Status
// that has been given its fault (Error, Raise) carries the fault's code as
// its detail() and the fault's "[opterr=...]" text as its message; ToFault,
// at the method boundary (smapi_call.h), is the one place where it becomes
// an xmlrpc::Fault.
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

// A failure that is the fault `kind` with `detail` as its opterr. Its Code
// is the closest base::Code (143 -> kInvalidArgument, 144 -> kNotFound...;
// kIOError when none is closer).
base::Status Error(const xmlrpc::FaultKind& kind, std::string detail);

// `status` given the fault FromStatus chooses for it (OK stays OK). Any
// detail it had is replaced: Raise a Status once, where its command is known.
base::Status Raise(const base::Status& status,
                   const xmlrpc::FaultKind& command_kind);

// The fault a failed method answers: the fault Error/Raise gave `status`;
// a Status that was given none is FromStatus(status, kGeneral).
xmlrpc::Fault ToFault(const base::Status& status);

// The kind with fault code `code`, or nullptr if it is none of the above.
const xmlrpc::FaultKind* KindOf(int code);

}  // namespace fault
}  // namespace vhdsm

#endif  // VHDSM_SM_FAULT_CODES_H_
