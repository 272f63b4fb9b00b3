// Toolstack: what the plugin tells the host's toolstack about VDIs it
// created, changed or removed, as an SMAPIv1 driver must (xapi looks new
// VDIs up in its database after vdi_create/snapshot/clone; the driver
// writes those records, "VDI.db_introduce" etc.).
//
// The plugin calls these hooks after the on-disk change succeeded and before
// it answers. A hook's failure fails the command (fault 150-154 range is the
// toolstack's; see xapi_toolstack.h). Without a session (standalone use, the
// GC, the vhdsm CLI) the no-op Toolstack is used.
#ifndef VHDSM_SM_TOOLSTACK_H_
#define VHDSM_SM_TOOLSTACK_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "sm/sr.h"
#include "xmlrpc/peer.h"
#include "xmlrpc/value.h"

namespace vhdsm {

// The caller's identity in a call: from its struct, and from the transport
// (`peer`: who connected, which decides what location the call may name;
// see sr_location.h).
struct CallContext {
  std::string session_ref;  // "" when the call has none
  std::string host_ref;
  std::string sr_ref;
  std::string sr_uuid;
  std::string vdi_ref;
  std::string subtask_of;
  xmlrpc::Peer peer;
};

class Toolstack {
 public:
  virtual ~Toolstack() = default;
  // A new VDI (vdi_create, the new leaf of a snapshot/clone, a base copy).
  virtual base::Status Introduced(const CallContext& ctx, const Vdi& vdi) {
    (void)ctx, (void)vdi;
    return base::Status::OK();
  }
  // A VDI's record changed (size, parent, read-only...).
  virtual base::Status Updated(const CallContext& ctx, const Vdi& vdi) {
    (void)ctx, (void)vdi;
    return base::Status::OK();
  }
  // A VDI is gone from disk.
  virtual base::Status Forgotten(const CallContext& ctx,
                                 const std::string& uuid) {
    (void)ctx, (void)uuid;
    return base::Status::OK();
  }
  // sr_scan: the toolstack's records are reconciled with `vdis` (every VDI
  // on disk), and the SR's sizes set.
  virtual base::Status Scanned(const CallContext& ctx,
                               const std::map<std::string, Vdi>& vdis,
                               uint64_t physical_size,
                               uint64_t physical_utilisation) {
    (void)ctx, (void)vdis, (void)physical_size, (void)physical_utilisation;
    return base::Status::OK();
  }
};

}  // namespace vhdsm

#endif  // VHDSM_SM_TOOLSTACK_H_
