// Plugin: the SMAPIv1 storage manager, XML-RPC bytes in, bytes out.
//
// Every call has one struct param as xapi sends it (command, args array of
// strings, device_config, sr_uuid, vdi_uuid, vdi_location, ...). Results
// take exactly the shapes xapi's strict parser accepts: unit results are
// <nil/>, vdi_info is a struct of strings with uuid and location, 64-bit
// sizes travel as decimal strings. Failures are faults with the codes of
// xapi-project/sm's XE_SR_ERRORCODES (fault_codes.h), each message in sm's
// "<description> [opterr=<detail>]" form.
//
// The SR is the directory device_config:location names (used in place):
// an existing directory, not a symlink, and for callers other than root
// (the Peer of the call) inside PluginOptions::sr_roots; else fault 47
// (sr_location.h).
// On a shared SR only the host whose device_config has SRmaster=true may
// change metadata (create, delete, snapshot, resize, GC); calls without
// SRmaster (standalone use) count as the master's.
// Handle() may be called from many threads; operations on one SR serialize
// on its lock (sr.h). The image methods (image_create, task_*) are not
// sm's: the host adds them with Register() (image/image_methods.h).
#ifndef VHDSM_SM_SMAPI_H_
#define VHDSM_SM_SMAPI_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "sm/smapi_call.h"
#include "sm/sr_location.h"
#include "sm/toolstack.h"
#include "xmlrpc/dispatcher.h"

namespace vhdsm {

struct PluginOptions {
  base::Env* env = nullptr;  // nullptr: base::Env::Default()
  // How to run the GC after commands that leave work for it (sr_scan,
  // vdi_delete, sr_attach): the host decides (vhdsmd: a background thread;
  // VHDSR: a detached process). Unset: the GC runs only on sr_gc.
  std::function<void(const std::string& sr_path)> kick_gc;
  // The toolstack to tell about VDI changes for a call (toolstack.h);
  // unset or returning nullptr: nobody is told (standalone).
  std::function<std::unique_ptr<Toolstack>(const CallContext&)> toolstack;
  // Where callers other than root may have SRs ([daemon] sr_roots).
  std::vector<std::string> sr_roots = kDefaultSrRoots;
};

class Plugin {
 public:
  explicit Plugin(PluginOptions options = PluginOptions());
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // One <methodCall> from `peer` in, one <methodResponse> out; never fails.
  // A call without a peer is in-process: it runs with the caller's own
  // privileges (VHDSR, the vhdsm CLI) and may name any SR directory.
  std::string Handle(std::string_view request,
                     xmlrpc::Dispatcher::Outcome* outcome = nullptr,
                     const xmlrpc::Peer& peer = xmlrpc::Peer()) const;
  const xmlrpc::Dispatcher& dispatcher() const { return *dispatcher_; }

  // Adds (or replaces) a method beside the SMAPIv1 ones, run with this
  // plugin's options like them (smapi_call.h): how the host adds the image
  // methods (image/image_methods.h). Only before the first Handle().
  void Register(const std::string& name, Method method);

 private:
  void RegisterAll();

  PluginOptions options_;
  std::unique_ptr<xmlrpc::Dispatcher> dispatcher_;
};

}  // namespace vhdsm

#endif  // VHDSM_SM_SMAPI_H_
