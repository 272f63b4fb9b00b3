// XapiToolstack: the Toolstack (toolstack.h) of a real Xen host. It writes
// the VDI records into xapi's database over XenAPI, as an SMAPIv1 driver
// must: xapi looks a new VDI up by uuid or location right after
// vdi_create/snapshot/clone returns, so the record has to exist by then.
//
// Transport: XenAPI XML-RPC over HTTP POST "/" on xapi's local Unix socket
// (default /var/lib/xcp/xapi), reusing the call's session_ref (the
// "_sm_session" xapi hands the driver, which may make the internal
// VDI.db_*/set_* and SR.set_* calls). XenAPI wire rules: the session is the
// first parameter; every answer is a struct {Status: "Success", Value: v} or
// {Status: "Failure", ErrorDescription: [code, params...]}; 64-bit integers
// travel as decimal strings; a void result is "".
//
// What each hook does (like xapi-project/sm's FileSR/VDI.py):
//   Introduced  VDI.db_introduce with every field; a hidden VDI (a base copy)
//               is managed=false and read_only=true, named "base copy" when
//               it has no name; sm_config vhd-parent=<parent uuid> when it has
//               a parent; snapshot_of resolved to a ref (VDI.get_by_uuid);
//               "no reference" is OpaqueRef:NULL, as sm sends it.
//   Updated     VDI.get_by_uuid, then set_virtual_size,
//               set_physical_utilisation, set_read_only and sm_config
//               vhd-parent (remove_from_sm_config, then add_to_sm_config);
//               a VDI xapi has no record of yet is introduced instead.
//   Forgotten   VDI.get_by_uuid, then VDI.db_forget; no record is fine.
//   Scanned     sm's ScanRecord: VDI.get_all_records_where the SR's records
//               (one round trip), keyed by location; VDIs on disk without a
//               record are introduced (hidden leaves are skipped: deleted
//               VDIs the GC has not removed yet), records whose location is
//               gone (or is a hidden leaf) are forgotten, changed sizes,
//               read_only and vhd-parent are updated; then
//               SR.set_physical_size, SR.set_physical_utilisation and
//               SR.set_virtual_allocation (the sum of the virtual sizes of the
//               non-hidden VDIs).
// Every failure is a base::Status whose message names the XenAPI call and
// xapi's ErrorDescription (the plugin answers fault 153); an unreachable
// socket says so. The session reference is a credential: it never appears
// in a message (xapi echoes it in SESSION_INVALID, so it is masked).
//
// Without a session_ref (the GC, the vhdsm CLI, standalone use) or without
// xapi's socket, MakeXapiToolstack returns nullptr: the plugin then tells
// nobody, and works on its own.
//
// One XapiToolstack serves one SMAPIv1 call (one keep-alive connection);
// it is not thread-safe. (sm also forwards the call's subtask_of as an HTTP
// header "Subtask-of"; xmlrpc::Client cannot add headers, so it is not sent.)
#ifndef VHDSM_SM_XAPI_TOOLSTACK_H_
#define VHDSM_SM_XAPI_TOOLSTACK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "sm/toolstack.h"
#include "xmlrpc/http_client.h"
#include "xmlrpc/value.h"

namespace vhdsm {

inline constexpr char kDefaultXapiSocket[] = "/var/lib/xcp/xapi";
// Overrides the socket path (tests run a XenAPI simulator on their own).
inline constexpr char kXapiSocketEnv[] = "VHDSM_XAPI_SOCKET";
// xapi's null reference, what sm sends for "no VDI" / "no pool".
inline constexpr char kNullRef[] = "OpaqueRef:NULL";

// Where xapi listens: $VHDSM_XAPI_SOCKET if set and not empty, else
// `configured` if not empty, else kDefaultXapiSocket.
std::string XapiSocketPath(const std::string& configured = "");

struct XapiToolstackOptions {
  std::string socket_path = kDefaultXapiSocket;
  long timeout_ms = 300000;  // one XenAPI call; xapi itself sets no limit
  long connect_timeout_ms = 5000;
};

// The toolstack for one call: nullptr when `ctx` has no session_ref or
// `options.socket_path` is not a Unix socket.
std::unique_ptr<Toolstack> MakeXapiToolstack(
    const CallContext& ctx, const XapiToolstackOptions& options);

class XapiToolstack : public Toolstack {
 public:
  XapiToolstack(const XapiToolstackOptions& options, std::string session_ref);

  base::Status Introduced(const CallContext& ctx, const Vdi& vdi) override;
  base::Status Updated(const CallContext& ctx, const Vdi& vdi) override;
  base::Status Forgotten(const CallContext& ctx,
                         const std::string& uuid) override;
  base::Status Scanned(const CallContext& ctx,
                       const std::map<std::string, Vdi>& vdis,
                       uint64_t physical_size,
                       uint64_t physical_utilisation) override;

  // One XenAPI call `method`(session, args...): *value is the envelope's
  // Value on success; on a Failure, *failure_code is its first element
  // (e.g. "UUID_INVALID").
  base::Status Call(const std::string& method, std::vector<xmlrpc::Value> args,
                    xmlrpc::Value* value = nullptr,
                    std::string* failure_code = nullptr);

 private:
  // The VDI's ref, or "" (and OK) when xapi has no record of it.
  base::Status FindVdi(const std::string& uuid, std::string* ref);
  base::Status SetVhdParent(const std::string& ref, const std::string& parent);

  std::string session_ref_;
  xmlrpc::Client client_;
  std::string socket_path_;  // for messages
};

// ---- The wire format, exposed for tests -------------------------------------

// The arguments of VDI.db_introduce (after the session) for `vdi` in the SR
// `sr_ref`, in xapi's order: uuid, name_label, name_description, SR, type,
// sharable, read_only, other_config, location, xenstore_data, sm_config,
// managed, virtual_size, physical_utilisation, metadata_of_pool,
// is_a_snapshot, snapshot_time, snapshot_of. `read_only` is the value to
// record (a parent is read-only whatever its metadata says).
std::vector<xmlrpc::Value> DbIntroduceArgs(const std::string& sr_ref,
                                           const Vdi& vdi, bool read_only,
                                           const std::string& snapshot_of_ref);

// Reads a XenAPI answer to `method`: OK and *value = Value for a Success
// envelope; the Failure's ErrorDescription, or what is wrong with the
// envelope, as an error naming `method` (*failure_code: the Failure's first
// element, "" otherwise). Occurrences of `secret` (the session) in xapi's
// text are masked.
base::Status ParseXenApiResponse(const std::string& method,
                                 const xmlrpc::Response& response,
                                 const std::string& secret,
                                 xmlrpc::Value* value,
                                 std::string* failure_code = nullptr);

}  // namespace vhdsm

#endif  // VHDSM_SM_XAPI_TOOLSTACK_H_
