// What every SMAPIv1-style method handler works with: the call's struct as
// xapi sends it, the plugin's options, the caller's identity, and the
// toolstack to tell about VDI changes; plus the helpers that read the SR and
// VDI a call names (device_config:location, vdi_location) with the checks
// every method shares. Both the SMAPIv1 methods (smapi.cc) and the image
// methods (image/image_methods.h) are written against this header.
//
// Errors: every helper and method returns a base::Status that already has
// its fault (fault::Error / fault::Raise, fault_codes.h); MethodHandler is
// the one place where it becomes the call's xmlrpc::Fault. Nothing here
// throws: a member of the wrong type is a Status (143), with the text the
// dispatcher gives its own parameter errors.
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

// The member `name` of `s`, which must be there with `type` (else 143:
// "missing member 'x'", "member 'x' must be array, not string").
base::Status RequireMember(const xmlrpc::Struct& s, std::string_view name,
                           xmlrpc::Value::Type type, const xmlrpc::Value** out);
// The string member `name`, or `fallback` when absent (143 when present
// with another type).
base::Status OptionalString(const xmlrpc::Struct& s, std::string_view name,
                            std::string_view fallback, std::string* out);

struct Call {
  const xmlrpc::Struct& s;
  const PluginOptions& options;
  base::Env* env;
  Toolstack& toolstack;
  const CallContext& ctx;

  // The string member `name`, "" when absent.
  base::Status Str(std::string_view name, std::string* out) const;
  // args[i], which must be a string (xapi sends every arg as a string).
  base::Status Arg(size_t i, std::string* out) const;
  // args[i], or "" when args or args[i] is missing or not a string.
  std::string OptionalArg(size_t i) const;
  // device_config, or nullptr when absent or not a struct.
  const xmlrpc::Struct* DeviceConfig() const;
};

// A method: the call in, its result out (left nil for a unit result).
using Method = std::function<base::Status(const Call&, xmlrpc::Value*)>;

// Whether the call comes from the SR master (no SRmaster key: standalone,
// counts as the master).
bool IsMaster(const Call& c);
// Metadata-changing commands run on the SR master only (else 202).
base::Status RequireMaster(const Call& c);
// device_config:location, checked against the caller's SR roots (115, 143,
// 47).
base::Status SrPath(const Call& c, std::string* path);
// The SR the call names, recovered (Sr::Open; 47 when it cannot be opened).
base::Status OpenSr(const Call& c, std::unique_ptr<Sr>* sr);
// vdi_location (or vdi_uuid), which must be a uuid (143).
base::Status VdiUuid(const Call& c, std::string* uuid);
// A toolstack hook's failure is the toolstack's fault (153).
base::Status Told(const base::Status& s);

// The dispatcher handler that runs `method` for a call: one struct param,
// a CallContext and Toolstack built from it, sr_uuid checked to be a uuid;
// a failed Status answers fault::ToFault(status).
xmlrpc::Handler MethodHandler(Method method, const PluginOptions* options);

}  // namespace vhdsm

#endif  // VHDSM_SM_SMAPI_CALL_H_
