#include "sm/smapi_call.h"

#include "sm/smapi.h"
#include "vhd/uuid.h"
#include "xmlrpc/params.h"

namespace vhdsm {

using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

std::string Call::Str(std::string_view name) const {
  return xmlrpc::OptionalString(s, name, "");
}

std::string Call::Arg(size_t i) const {
  const Array& args = xmlrpc::RequireArray(s, "args");
  if (i >= args.size() || args[i].type() != Value::Type::kString) {
    throw xmlrpc::ParamError("args[" + std::to_string(i) +
                             "] is missing or not a string");
  }
  return args[i].as_string();
}

const Struct* Call::DeviceConfig() const {
  const Value* v = s.Find("device_config");
  return v && v->type() == Value::Type::kStruct ? &v->as_struct() : nullptr;
}

void Check(const base::Status& s, const xmlrpc::FaultKind& kind) {
  if (!s.ok()) throw Failed{fault::FromStatus(s, kind)};
}

[[noreturn]] void Fail(const xmlrpc::FaultKind& kind, const std::string& m) {
  throw Failed{xmlrpc::MakeFault(kind, m)};
}

bool IsMaster(const Call& c) {
  const Struct* dc = c.DeviceConfig();
  const Value* m = dc ? dc->Find("SRmaster") : nullptr;
  return m == nullptr || m->type() != Value::Type::kString ||
         m->as_string() != "false";
}

void RequireMaster(const Call& c) {
  if (!IsMaster(c)) {
    Fail(fault::kGeneral,
         "this host is not the SR master (device_config:SRmaster=false)");
  }
}

std::string SrPath(const Call& c) {
  const Struct* dc = c.DeviceConfig();
  const Value* loc = dc ? dc->Find("location") : nullptr;
  if (loc == nullptr || loc->type() != Value::Type::kString ||
      loc->as_string().empty()) {
    Fail(fault::kConfigMissing, "device_config:location is required");
  }
  const std::string& p = loc->as_string();
  if (p[0] != '/')
    Fail(fault::kBadRequest, "location must be an absolute path");
  // Only root may name any directory: VHDSR and the CLI (in-process, with
  // their own privileges) and root peers on the Unix socket.
  bool confined = c.ctx.peer.transport != xmlrpc::Peer::Transport::kInProcess &&
                  !c.ctx.peer.IsRootOverUnix();
  base::Status s = CheckSrLocation(p, confined, c.options.sr_roots);
  if (!s.ok()) Fail(fault::kSrUnavailable, s.message());
  return p;
}

std::unique_ptr<Sr> OpenSr(const Call& c) {
  std::unique_ptr<Sr> sr;
  base::Status s = Sr::Open(SrPath(c), &sr);
  if (s.code() == base::Code::kNotFound)
    Fail(fault::kSrUnavailable, s.message());
  Check(s, fault::kSrUnavailable);
  return sr;
}

std::string VdiUuid(const Call& c) {
  // vdi_location is the uuid for this driver; vdi_uuid agrees with it.
  std::string loc = c.Str("vdi_location");
  if (loc.empty()) loc = c.Str("vdi_uuid");
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(loc, &u)) {
    Fail(fault::kBadRequest, "vdi_location '" + loc + "' is not a uuid");
  }
  return loc;
}

xmlrpc::Handler MethodHandler(Method method, const PluginOptions* opts) {
  return [method = std::move(method),
          opts](const xmlrpc::Params& p) -> xmlrpc::Response {
    if (p.size() != 1) {
      throw xmlrpc::ParamError("expected one struct param, got " +
                               std::to_string(p.size()));
    }
    const Struct& s = p.StructAt(0);
    CallContext ctx;
    ctx.session_ref = xmlrpc::OptionalString(s, "session_ref", "");
    ctx.host_ref = xmlrpc::OptionalString(s, "host_ref", "");
    ctx.sr_ref = xmlrpc::OptionalString(s, "sr_ref", "");
    ctx.sr_uuid = xmlrpc::OptionalString(s, "sr_uuid", "");
    ctx.vdi_ref = xmlrpc::OptionalString(s, "vdi_ref", "");
    ctx.subtask_of = xmlrpc::OptionalString(s, "subtask_of", "");
    ctx.peer = p.peer();
    std::unique_ptr<Toolstack> ts;
    if (opts->toolstack) ts = opts->toolstack(ctx);
    Toolstack none;
    Call call{s, *opts, opts->env, ts ? *ts : none, ctx};
    try {
      // sr_uuid is echoed into sr.json, <SRlist>, task records and
      // calls to xapi: only a uuid may go there.
      vhd::Uuid u;
      if (!ctx.sr_uuid.empty() && !vhd::Uuid::Parse(ctx.sr_uuid, &u)) {
        Fail(fault::kBadRequest, "sr_uuid is not a uuid");
      }
      return method(call);
    } catch (const Failed& failed) {
      return failed.fault;
    }
  };
}

}  // namespace vhdsm
