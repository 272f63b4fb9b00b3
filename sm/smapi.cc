#include "sm/smapi.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "base/size.h"
#include "sm/fault_codes.h"
#include "sm/smapi_call.h"
#include "sm/sr.h"
#include "vhd/format.h"
#include "vhd/uuid.h"
#include "xmlrpc/params.h"
#include "xmlrpc/writer.h"

namespace vhdsm {

namespace {

using xmlrpc::Array;
using xmlrpc::Fault;
using xmlrpc::Params;
using xmlrpc::Response;
using xmlrpc::Struct;
using xmlrpc::Value;

constexpr char kDriverVersion[] = "0.1.0";

Value VdiInfo(const Vdi& v) {
  Struct s;
  s.Append("uuid", v.uuid);
  s.Append("location", v.uuid);
  return s;
}

// A size argument (SMAPIv1 sends bytes; K/M/G/T suffixes as on the CLI).
uint64_t ParseSize(const std::string& text) {
  uint64_t v = 0;
  base::Status s = base::ParseSize(text, &v);
  if (!s.ok()) Fail(fault::kVdiSize, "vdi size: " + s.message());
  return v;
}

std::string NowIso() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y%m%dT%H:%M:%SZ", &tm);
  return buf;
}

void KickGc(const Call& c, const Sr& sr) {
  if (c.options.kick_gc && IsMaster(c)) c.options.kick_gc(sr.path());
}

// Tells the toolstack; its failures are the toolstack's faults (153).
void Tell(const base::Status& s) {
  if (!s.ok()) throw Failed{xmlrpc::MakeFault(fault::kApiFailure, s.message())};
}

// ---- SR commands ----------------------------------------------------------

Value DriverInfo(const Call&) {
  Struct info;
  info.Append("name", "vhdsm VHD");
  info.Append("description",
              "VHD chains on a local or shared directory, with imaging to "
              "OpenStack Swift");
  info.Append("vendor", "vhdsm");
  info.Append("copyright", "(C) 2026 the vhdsm authors");
  info.Append("driver_version", kDriverVersion);
  info.Append("required_api_version", "1.0");
  Array caps;
  for (const char* c :
       {"SR_PROBE", "SR_UPDATE", "SR_SCAN", "VDI_CREATE", "VDI_DELETE",
        "VDI_ATTACH", "VDI_DETACH", "VDI_ACTIVATE", "VDI_DEACTIVATE",
        "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_UPDATE",
        "VDI_INTRODUCE", "VDI_GENERATE_CONFIG", "VDI_COMPOSE",
        "THIN_PROVISIONING"}) {
    caps.push_back(c);
  }
  info.Append("capabilities", caps);
  Array config;
  config.push_back(Struct{{"key", "location"},
                          {"description", "local directory path (required)"}});
  info.Append("configuration", config);
  return info;
}

Value SrCreate(const Call& c) {
  RequireMaster(c);
  std::string path = SrPath(c);
  base::FileInfo fi;
  if (!c.env->Stat(path, &fi).ok() || !fi.is_dir) {
    Fail(fault::kSrUnavailable, "location " + path + " is not a directory");
  }
  auto sr = OpenSr(c);
  std::string uuid = c.Str("sr_uuid");
  nlohmann::json j = {{"sr_uuid", uuid}, {"created", NowIso()}};
  Check(base::WriteFileAtomic(sr->env(), path + "/.vhdsm/sr.json",
                              j.dump() + "\n"),
        fault::kGeneral);
  return Value();
}

Value SrDelete(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  std::map<std::string, Vdi> vdis;
  Check(sr->Scan(&vdis), fault::kGeneral);
  for (const auto& [uuid, v] : vdis) {
    if (!v.hidden) Fail(fault::kSrNotEmpty, "VDI " + uuid + " still exists");
  }
  // Only hidden nodes are left: the GC's garbage. Remove it all.
  for (const auto& [uuid, v] : vdis) {
    Check(sr->env()->Unlink(v.path), fault::kGeneral);
  }
  return Value();
}

Value SrAttach(const Call& c) {
  auto sr = OpenSr(c);  // runs recovery
  KickGc(c, *sr);
  return Value();
}

Value SrDetach(const Call& c) {
  OpenSr(c);
  return Value();
}

Value SrScan(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  std::map<std::string, Vdi> vdis;
  Check(sr->Scan(&vdis), fault::kSrScan);
  uint64_t total = 0, free = 0, used = 0;
  Check(sr->Space(&total, &free), fault::kSrScan);
  for (const auto& [uuid, v] : vdis) used += v.physical_utilisation;
  Tell(c.toolstack.Scanned(c.ctx, vdis, total, used));
  KickGc(c, *sr);
  return Value();
}

Value SrProbe(const Call& c) {
  std::string path = SrPath(c);
  std::string xml = "<?xml version=\"1.0\" ?>\n<SRlist>\n";
  std::string text;
  std::unique_ptr<base::ConfinedEnv> env;
  if (base::ConfinedEnv::Open(path, &env).ok() &&
      base::ReadFileToString(env.get(), path + "/.vhdsm/sr.json", &text, 4096)
          .ok()) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    // The file is the SR's, which others can write: only a uuid is echoed.
    vhd::Uuid u;
    if (!j.is_discarded() && j.contains("sr_uuid") &&
        j["sr_uuid"].is_string() &&
        vhd::Uuid::Parse(j["sr_uuid"].get<std::string>(), &u)) {
      xml += "\t<SR>\n\t\t<UUID>" + u.ToString() + "</UUID>\n\t</SR>\n";
    }
  }
  xml += "</SRlist>\n";
  return xml;
}

Value SrUpdate(const Call& c) {
  OpenSr(c);
  return Value();
}

// ---- VDI commands ---------------------------------------------------------

Value VdiCreate(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  uint64_t size = ParseSize(c.Arg(0));
  VdiMeta m;
  const Array& args = xmlrpc::RequireArray(c.s, "args");
  auto arg = [&](size_t i) {
    return i < args.size() && args[i].type() == Value::Type::kString
               ? args[i].as_string()
               : std::string();
  };
  m.name_label = arg(1);
  m.name_description = arg(2);
  m.is_a_snapshot = arg(4) == "true";
  m.snapshot_time = arg(5);
  m.read_only = arg(7) == "true";
  std::string type = c.Str("vdi_type");
  if (!type.empty()) m.type = type;
  std::string uuid = c.Str("vdi_uuid");
  if (!uuid.empty()) {
    vhd::Uuid u;
    if (!vhd::Uuid::Parse(uuid, &u)) {
      Fail(fault::kBadRequest, "vdi_uuid '" + uuid + "' is not a uuid");
    }
  }
  Vdi v;
  Check(sr->CreateVdi(size, m, uuid, &v), fault::kVdiCreate);
  Tell(c.toolstack.Introduced(c.ctx, v));
  return VdiInfo(v);
}

Value VdiDelete(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  std::string uuid = VdiUuid(c);
  Check(sr->DeleteVdi(uuid), fault::kVdiDelete);
  Tell(c.toolstack.Forgotten(c.ctx, uuid));
  KickGc(c, *sr);
  return Value();
}

Value VdiUpdate(const Call& c) {
  auto sr = OpenSr(c);
  Vdi v;
  Check(sr->GetVdi(VdiUuid(c), &v), fault::kVdiLoad);
  return Value();
}

Value VdiIntroduce(const Call& c) {
  auto sr = OpenSr(c);
  std::string loc = c.Str("vdi_location");
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(loc, &u)) {
    Fail(fault::kBadRequest, "vdi_location '" + loc + "' is not a uuid");
  }
  Vdi v;
  Check(sr->GetVdi(loc, &v), fault::kVdiLoad);
  Tell(c.toolstack.Introduced(c.ctx, v));
  return VdiInfo(v);
}

Value AttachInfo(const Sr& sr, const std::string& uuid) {
  Struct r;
  std::string path = sr.VdiPath(uuid);
  r.Append("params", path);
  // No NBD server of ours: the host's datapath (tapdisk) opens the file.
  r.Append("params_nbd", "file:" + path);
  r.Append("o_direct", true);
  r.Append("o_direct_reason", "");
  r.Append("xenstore_data", Struct{{"vdi-type", "vhd"}});
  return r;
}

Value VdiAttach(const Call& c) {
  auto sr = OpenSr(c);
  std::string uuid = VdiUuid(c);
  Vdi v;
  base::Status s = sr->AttachVdi(uuid, c.ctx.host_ref, &v);
  if (s.code() == base::Code::kInvalidArgument) {
    Fail(fault::kVdiUnavailable, s.message());
  }
  Check(s, fault::kVdiUnavailable);
  return AttachInfo(*sr, uuid);
}

Value VdiDetach(const Call& c) {
  auto sr = OpenSr(c);
  Check(sr->DetachVdi(VdiUuid(c), c.ctx.host_ref), fault::kVdiUnavailable);
  return Value();
}

Value VdiActivate(const Call& c) {
  auto sr = OpenSr(c);
  Vdi v;
  Check(sr->GetVdi(VdiUuid(c), &v), fault::kVdiUnavailable);
  return Value();
}

Value VdiDeactivate(const Call& c) {
  OpenSr(c);
  VdiUuid(c);
  return Value();
}

SnapshotKind KindOf(const Call& c) {
  const Value* dp = c.s.Find("driver_params");
  if (dp && dp->type() == Value::Type::kStruct) {
    std::string t = xmlrpc::OptionalString(dp->as_struct(), "type", "");
    if (t == "single") return SnapshotKind::kSingle;
    if (t == "internal") return SnapshotKind::kInternal;
  }
  return SnapshotKind::kDouble;
}

Value Snapshot(const Call& c, bool clone) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  std::string uuid = VdiUuid(c);
  Vdi cur;
  Check(sr->GetVdi(uuid, &cur), clone ? fault::kVdiClone : fault::kVdiSnapshot);
  VdiMeta m = cur.meta;
  // xapi names the new VDI itself afterwards; other callers get a hint.
  if (!m.name_label.empty()) {
    m.name_label += clone ? " (clone)" : " (snapshot)";
  }
  m.is_a_snapshot = !clone;
  m.snapshot_of = clone ? "" : uuid;
  m.snapshot_time = clone ? "" : NowIso();
  m.read_only = false;
  Vdi v;
  const xmlrpc::FaultKind& kind =
      clone ? fault::kVdiClone : fault::kVdiSnapshot;
  Check(sr->SnapshotVdi(uuid, KindOf(c), m, &v), kind);
  // The toolstack learns of the new VDI, of the base copy (when it is not
  // the result itself), and that the VDI's parent changed.
  Vdi leaf;
  Check(sr->GetVdi(uuid, &leaf), kind);
  Tell(c.toolstack.Introduced(c.ctx, v));
  if (leaf.parent != v.uuid) {
    Vdi base;
    Check(sr->GetVdi(leaf.parent, &base), kind);
    Tell(c.toolstack.Introduced(c.ctx, base));
  }
  Tell(c.toolstack.Updated(c.ctx, leaf));
  return VdiInfo(v);
}

Value VdiSnapshot(const Call& c) { return Snapshot(c, false); }
Value VdiClone(const Call& c) { return Snapshot(c, true); }

Value VdiResize(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  uint64_t size = ParseSize(c.Arg(0));
  Vdi v;
  Check(sr->ResizeVdi(VdiUuid(c), size, &v), fault::kVdiResize);
  Tell(c.toolstack.Updated(c.ctx, v));
  return VdiInfo(v);
}

Value VdiGenerateConfig(const Call& c) {
  auto sr = OpenSr(c);
  std::string uuid = VdiUuid(c);
  Vdi v;
  Check(sr->GetVdi(uuid, &v), fault::kVdiLoad);
  Struct s;
  const Struct* dc = c.DeviceConfig();
  s.Append("device_config", dc ? Value(*dc) : Value(Struct()));
  s.Append("sr_uuid", c.Str("sr_uuid"));
  s.Append("vdi_uuid", uuid);
  s.Append("vdi_location", uuid);
  s.Append("command", "vdi_attach_from_config");
  xmlrpc::MethodCall call{"vdi_attach_from_config", {Value(s)}};
  xmlrpc::Result<std::string> text = xmlrpc::WriteMethodCall(call);
  if (!text.ok()) Fail(fault::kGeneral, text.fault().message);
  return text.value();
}

Value VdiAttachFromConfig(const Call& c) {
  auto sr = OpenSr(c);
  std::string uuid = VdiUuid(c);
  Vdi v;
  Check(sr->GetVdi(uuid, &v), fault::kVdiUnavailable);
  return AttachInfo(*sr, uuid);
}

Value VdiNoop(const Call& c) {
  OpenSr(c);
  return Value();
}

Value VdiCompose(const Call& c) {
  // args[0] names the new parent; without a XenAPI session only a uuid can
  // be resolved.
  auto sr = OpenSr(c);
  std::string parent = c.Arg(0);
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(parent, &u)) {
    Fail(fault::kUnimplemented,
         "vdi_compose needs the parent's uuid, got '" + parent + "'");
  }
  RequireMaster(c);
  Check(sr->Compose(parent, VdiUuid(c)), fault::kGeneral);
  Vdi v, p;
  Check(sr->GetVdi(VdiUuid(c), &v), fault::kGeneral);
  Check(sr->GetVdi(parent, &p), fault::kGeneral);
  Tell(c.toolstack.Updated(c.ctx, v));
  Tell(c.toolstack.Updated(c.ctx, p));  // now hidden: a base copy
  return Value();
}

// Runs the SR's GC now and tells the toolstack what it removed, then what
// is left (relinked VDIs have new parents and sizes).
void RunGc(const Call& c, Sr* sr) {
  GcReport r;
  GcOptions o;
  o.wait = true;  // a background GC may be running: wait, then run
  Check(sr->Gc(o, &r), fault::kGeneral);
  for (const std::string& uuid : r.removed) {
    Tell(c.toolstack.Forgotten(c.ctx, uuid));
  }
  std::map<std::string, Vdi> vdis;
  Check(sr->Scan(&vdis), fault::kGeneral);
  uint64_t total = 0, free = 0, used = 0;
  Check(sr->Space(&total, &free), fault::kGeneral);
  for (const auto& [uuid, v] : vdis) used += v.physical_utilisation;
  Tell(c.toolstack.Scanned(c.ctx, vdis, total, used));
}

Value VdiCoalesce(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  Vdi v;
  Check(sr->GetVdi(VdiUuid(c), &v), fault::kVdiLoad);
  // A chain that leaves the SR's rules is never merged: say why.
  Check(sr->CheckChain(VdiUuid(c)), fault::kGeneral);
  RunGc(c, sr.get());
  return Value();
}

// Extension: every VDI with its chain facts (for operators' tools).
Value SrList(const Call& c) {
  auto sr = OpenSr(c);
  std::map<std::string, Vdi> vdis;
  Check(sr->Scan(&vdis), fault::kSrScan);
  Array out;
  for (const auto& [uuid, v] : vdis) {
    Struct e;
    e.Append("uuid", uuid);
    e.Append("parent", v.parent);
    e.Append("virtual_size", std::to_string(v.virtual_size));
    e.Append("physical_utilisation", std::to_string(v.physical_utilisation));
    e.Append("hidden", v.hidden ? "true" : "false");
    e.Append("name_label", v.meta.name_label);
    e.Append("read_only", v.meta.read_only ? "true" : "false");
    e.Append("is_a_snapshot", v.meta.is_a_snapshot ? "true" : "false");
    e.Append("attached", sr->IsAttached(uuid) ? "true" : "false");
    // Why the VDI's chain is not trusted (the GC and imaging leave it).
    e.Append("broken", v.broken.ok() ? "" : v.broken.ToString());
    out.push_back(std::move(e));
  }
  return out;
}

Value SrGc(const Call& c) {
  RequireMaster(c);
  auto sr = OpenSr(c);
  RunGc(c, sr.get());
  return Value();
}

}  // namespace

Plugin::Plugin(PluginOptions options) : options_(std::move(options)) {
  if (options_.env == nullptr) options_.env = base::Env::Default();
  xmlrpc::Dispatcher::Options o;
  o.system_methods = true;
  dispatcher_ = std::make_unique<xmlrpc::Dispatcher>(o);
  RegisterAll();
}

Plugin::~Plugin() = default;

std::string Plugin::Handle(std::string_view request,
                           xmlrpc::Dispatcher::Outcome* outcome,
                           const xmlrpc::Peer& peer) const {
  return dispatcher_->Handle(request, outcome, peer);
}

void Plugin::Register(const std::string& name, Method method) {
  dispatcher_->Register(name, MethodHandler(std::move(method), &options_),
                        xmlrpc::MethodInfo{"SMAPIv1 " + name, {}});
}

void Plugin::RegisterAll() {
  using Fn = Value (*)(const Call&);
  const std::pair<const char*, Fn> table[] = {
      {"sr_get_driver_info", DriverInfo},
      {"sr_create", SrCreate},
      {"sr_delete", SrDelete},
      {"sr_attach", SrAttach},
      {"sr_detach", SrDetach},
      {"sr_scan", SrScan},
      {"sr_probe", SrProbe},
      {"sr_update", SrUpdate},
      {"vdi_create", VdiCreate},
      {"vdi_delete", VdiDelete},
      {"vdi_update", VdiUpdate},
      {"vdi_introduce", VdiIntroduce},
      {"vdi_attach", VdiAttach},
      {"vdi_detach", VdiDetach},
      {"vdi_activate", VdiActivate},
      {"vdi_deactivate", VdiDeactivate},
      {"vdi_snapshot", VdiSnapshot},
      {"vdi_clone", VdiClone},
      {"vdi_resize", VdiResize},
      {"vdi_resize_online", VdiResize},
      {"vdi_generate_config", VdiGenerateConfig},
      {"vdi_attach_from_config", VdiAttachFromConfig},
      {"vdi_detach_from_config", VdiDetach},
      {"vdi_epoch_begin", VdiNoop},
      {"vdi_epoch_end", VdiNoop},
      {"vdi_compose", VdiCompose},
      {"vdi_coalesce", VdiCoalesce},
      {"sr_gc", SrGc},
      {"sr_list", SrList},
  };
  for (const auto& [name, fn] : table) Register(name, fn);
}

}  // namespace vhdsm
