// What every SMAPIv1-style method handler works with: the call's struct as
// xapi sends it, the plugin's options, the caller's identity, and the
// toolstack to tell about VDI changes; plus the helpers that read the SR and
// VDI a call names (device_config:location, vdi_location) with the checks
// every method shares. Both the SMAPIv1 methods (smapi.cc) and the image
// methods (image/image_methods.h) are written against this header.
#ifndef VHDSM_SM_SMAPI_CALL_H_
#define VHDSM_SM_SMAPI_CALL_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "sm/fault_codes.h"
#include "sm/sr.h"
#include "sm/toolstack.h"
#include "xmlrpc/dispatcher.h"
#include "xmlrpc/value.h"

namespace vhdsm {

struct PluginOptions;

struct Call {
  const xmlrpc::Struct& s;
  const PluginOptions& options;
  base::Env* env;
  Toolstack& toolstack;
  const CallContext& ctx;

  std::string Str(std::string_view name) const;
  // args[i] as a string (xapi sends every arg as a string).
  std::string Arg(size_t i) const;
  // device_config, or nullptr when absent or not a struct.
  const xmlrpc::Struct* DeviceConfig() const;
};

// A method: the call in, its result out (a Fault to fail).
using Method = std::function<xmlrpc::Value(const Call&)>;

// A failure to return from a method, as its fault.
struct Failed {
  xmlrpc::Fault fault;
};

void Check(const base::Status& s, const xmlrpc::FaultKind& kind);
[[noreturn]] void Fail(const xmlrpc::FaultKind& kind, const std::string& m);

// Whether the call comes from the SR master (no SRmaster key: standalone,
// counts as the master).
bool IsMaster(const Call& c);
// Metadata-changing commands run on the SR master only.
void RequireMaster(const Call& c);
// device_config:location, checked against the caller's SR roots.
std::string SrPath(const Call& c);
// The SR the call names, recovered (Sr::Open).
std::unique_ptr<Sr> OpenSr(const Call& c);
// vdi_location (or vdi_uuid): a uuid.
std::string VdiUuid(const Call& c);

// The dispatcher handler that runs `method` for a call: one struct param,
// a CallContext and Toolstack built from it, sr_uuid checked to be a uuid.
xmlrpc::Handler MethodHandler(Method method, const PluginOptions* options);

}  // namespace vhdsm

#endif  // VHDSM_SM_SMAPI_CALL_H_
