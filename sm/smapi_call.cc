#include "sm/smapi_call.h"

#include "sm/smapi.h"
#include "vhd/uuid.h"

namespace vhdsm {

using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

namespace {

base::Status BadRequest(std::string detail) {
  return fault::Error(fault::kBadRequest, std::move(detail));
}

// The CallContext of a call's struct (its members of the caller's identity)
// and `peer`.
base::Status ContextOf(const Struct& s, const xmlrpc::Peer& peer,
                       CallContext* ctx) {
  const std::pair<const char*, std::string*> members[] = {
      {"session_ref", &ctx->session_ref}, {"host_ref", &ctx->host_ref},
      {"sr_ref", &ctx->sr_ref},           {"sr_uuid", &ctx->sr_uuid},
      {"vdi_ref", &ctx->vdi_ref},         {"subtask_of", &ctx->subtask_of},
  };
  for (const auto& [name, out] : members) {
    RETURN_IF_ERROR(OptionalString(s, name, "", out));
  }
  ctx->peer = peer;
  // sr_uuid is echoed into sr.json, <SRlist>, task records and calls to
  // xapi: only a uuid may go there.
  vhd::Uuid u;
  if (!ctx->sr_uuid.empty() && !vhd::Uuid::Parse(ctx->sr_uuid, &u)) {
    return BadRequest("sr_uuid is not a uuid");
  }
  return base::Status::OK();
}

// The one struct param every method takes.
base::Status TheStruct(const xmlrpc::Params& p, const Struct** out) {
  if (p.size() != 1) {
    return BadRequest("expected one struct param, got " +
                      std::to_string(p.size()));
  }
  const Value& v = p.values()[0];
  if (v.type() != Value::Type::kStruct) {
    return BadRequest(std::string(p.method()) + ": param 1 must be " +
                      xmlrpc::TypeName(Value::Type::kStruct) + ", not " +
                      xmlrpc::TypeName(v.type()));
  }
  *out = &v.as_struct();
  return base::Status::OK();
}

}  // namespace

base::Status RequireMember(const Struct& s, std::string_view name,
                           Value::Type type, const Value** out) {
  const Value* v = s.Find(name);
  if (v == nullptr) {
    return BadRequest("missing member '" + std::string(name) + "'");
  }
  if (v->type() != type) {
    return BadRequest("member '" + std::string(name) + "' must be " +
                      xmlrpc::TypeName(type) + ", not " +
                      xmlrpc::TypeName(v->type()));
  }
  *out = v;
  return base::Status::OK();
}

base::Status OptionalString(const Struct& s, std::string_view name,
                            std::string_view fallback, std::string* out) {
  if (s.Find(name) == nullptr) {
    *out = std::string(fallback);
    return base::Status::OK();
  }
  const Value* v = nullptr;
  RETURN_IF_ERROR(RequireMember(s, name, Value::Type::kString, &v));
  *out = v->as_string();
  return base::Status::OK();
}

base::Status Call::Str(std::string_view name, std::string* out) const {
  return OptionalString(s, name, "", out);
}

base::Status Call::Arg(size_t i, std::string* out) const {
  const Value* args = nullptr;
  RETURN_IF_ERROR(RequireMember(s, "args", Value::Type::kArray, &args));
  const Array& a = args->as_array();
  if (i >= a.size() || a[i].type() != Value::Type::kString) {
    return BadRequest("args[" + std::to_string(i) +
                      "] is missing or not a string");
  }
  *out = a[i].as_string();
  return base::Status::OK();
}

std::string Call::OptionalArg(size_t i) const {
  std::string out;
  return Arg(i, &out).ok() ? out : std::string();
}

const Struct* Call::DeviceConfig() const {
  const Value* v = s.Find("device_config");
  return v && v->type() == Value::Type::kStruct ? &v->as_struct() : nullptr;
}

bool IsMaster(const Call& c) {
  const Struct* dc = c.DeviceConfig();
  const Value* m = dc ? dc->Find("SRmaster") : nullptr;
  return m == nullptr || m->type() != Value::Type::kString ||
         m->as_string() != "false";
}

base::Status RequireMaster(const Call& c) {
  if (IsMaster(c)) return base::Status::OK();
  return fault::Error(
      fault::kGeneral,
      "this host is not the SR master (device_config:SRmaster=false)");
}

base::Status SrPath(const Call& c, std::string* path) {
  const Struct* dc = c.DeviceConfig();
  const Value* loc = dc ? dc->Find("location") : nullptr;
  if (loc == nullptr || loc->type() != Value::Type::kString ||
      loc->as_string().empty()) {
    return fault::Error(fault::kConfigMissing,
                        "device_config:location is required");
  }
  const std::string& p = loc->as_string();
  if (p[0] != '/') return BadRequest("location must be an absolute path");
  // Only root may name any directory: VHDSR and the CLI (in-process, with
  // their own privileges) and root peers on the Unix socket.
  bool confined = c.ctx.peer.transport != xmlrpc::Peer::Transport::kInProcess &&
                  !c.ctx.peer.IsRootOverUnix();
  base::Status s = CheckSrLocation(p, confined, c.options.sr_roots);
  if (!s.ok()) return fault::Error(fault::kSrUnavailable, s.message());
  *path = p;
  return base::Status::OK();
}

base::Status OpenSr(const Call& c, std::unique_ptr<Sr>* sr) {
  std::string path;
  RETURN_IF_ERROR(SrPath(c, &path));
  base::Status s = Sr::Open(path, sr);
  if (s.code() == base::Code::kNotFound) {
    return fault::Error(fault::kSrUnavailable, s.message());
  }
  return fault::Raise(s, fault::kSrUnavailable);
}

base::Status VdiUuid(const Call& c, std::string* uuid) {
  // vdi_location is the uuid for this driver; vdi_uuid agrees with it.
  std::string loc;
  RETURN_IF_ERROR(c.Str("vdi_location", &loc));
  if (loc.empty()) RETURN_IF_ERROR(c.Str("vdi_uuid", &loc));
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(loc, &u)) {
    return BadRequest("vdi_location '" + loc + "' is not a uuid");
  }
  *uuid = loc;
  return base::Status::OK();
}

base::Status Told(const base::Status& s) {
  if (s.ok()) return s;
  return fault::Error(fault::kApiFailure, s.message());
}

xmlrpc::Handler MethodHandler(Method method, const PluginOptions* opts) {
  return [method = std::move(method),
          opts](const xmlrpc::Params& p) -> xmlrpc::Response {
    const Struct* s = nullptr;
    CallContext ctx;
    base::Status st = TheStruct(p, &s);
    if (st.ok()) st = ContextOf(*s, p.peer(), &ctx);
    if (!st.ok()) return fault::ToFault(st);
    std::unique_ptr<Toolstack> ts;
    if (opts->toolstack) ts = opts->toolstack(ctx);
    Toolstack none;
    Call call{*s, *opts, opts->env, ts ? *ts : none, ctx};
    Value result;
    st = method(call, &result);
    if (!st.ok()) return fault::ToFault(st);
    return result;
  };
}

}  // namespace vhdsm
