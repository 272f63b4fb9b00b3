#include "sm/smapi.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/size.h"
#include "sm/fault_codes.h"
#include "sm/smapi_call.h"
#include "sm/sr.h"
#include "vhd/format.h"
#include "vhd/uuid.h"
#include "xmlrpc/datetime.h"
#include "xmlrpc/writer.h"

namespace vhdsm {

namespace {

using base::Status;
using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

constexpr char kDriverVersion[] = "0.1.0";

Value VdiInfo(const Vdi& v) {
  Struct s;
  s.Append("uuid", v.uuid);
  s.Append("location", v.uuid);
  return s;
}

// A size argument (SMAPIv1 sends bytes; base::ParseSize's K/M/G/T suffixes
// as on the CLI); 79 when it is not one.
Status VdiSizeArg(const Call& c, size_t i, uint64_t* size) {
  std::string text;
  RETURN_IF_ERROR(c.Arg(i, &text));
  Status s = base::ParseSize(text, size);
  if (!s.ok()) return fault::Error(fault::kVdiSize, "vdi size: " + s.message());
  return Status::OK();
}

// A snapshot's time as xapi writes snapshot_time: an XML-RPC dateTime in
// UTC (xmlrpc/datetime.h owns the format).
std::string XenApiNow() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  xmlrpc::DateTime d;
  d.year = tm.tm_year + 1900;
  d.month = tm.tm_mon + 1;
  d.day = tm.tm_mday;
  d.hour = tm.tm_hour;
  d.minute = tm.tm_min;
  d.second = tm.tm_sec;
  d.zone = xmlrpc::DateTime::Zone::kUtc;
  return d.Format();
}

void KickGc(const Call& c, const Sr& sr) {
  if (c.options.kick_gc && IsMaster(c)) c.options.kick_gc(sr.path());
}

// Every VDI of the SR (for the toolstack) and the SR's sizes, each failure
// raised as `kind`.
Status TellScanned(const Call& c, Sr* sr, const xmlrpc::FaultKind& kind) {
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(fault::Raise(sr->Scan(&vdis), kind));
  uint64_t total = 0, free = 0, used = 0;
  RETURN_IF_ERROR(fault::Raise(sr->Space(&total, &free), kind));
  for (const auto& [uuid, v] : vdis) used += v.physical_utilisation;
  return Told(c.toolstack.Scanned(c.ctx, vdis, total, used));
}

// ---- SR commands ----------------------------------------------------------

Status DriverInfo(const Call&, Value* out) {
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
  *out = std::move(info);
  return Status::OK();
}

Status SrCreate(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::string path;
  RETURN_IF_ERROR(SrPath(c, &path));
  base::FileInfo fi;
  if (!c.env->Stat(path, &fi).ok() || !fi.is_dir) {
    return fault::Error(fault::kSrUnavailable,
                        "location " + path + " is not a directory");
  }
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  RETURN_IF_ERROR(c.Str("sr_uuid", &uuid));
  nlohmann::json j = {{"sr_uuid", uuid}, {"created", base::NowIso()}};
  return fault::Raise(base::WriteFileAtomic(sr->env(), path + "/.vhdsm/sr.json",
                                            j.dump() + "\n"),
                      fault::kGeneral);
}

Status SrDelete(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(fault::Raise(sr->Scan(&vdis), fault::kGeneral));
  for (const auto& [uuid, v] : vdis) {
    if (!v.hidden) {
      return fault::Error(fault::kSrNotEmpty, "VDI " + uuid + " still exists");
    }
  }
  // Only hidden nodes are left: the GC's garbage. Remove it all.
  for (const auto& [uuid, v] : vdis) {
    RETURN_IF_ERROR(fault::Raise(sr->env()->Unlink(v.path), fault::kGeneral));
  }
  return Status::OK();
}

Status SrAttach(const Call& c, Value*) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));  // runs recovery
  KickGc(c, *sr);
  return Status::OK();
}

// sr_detach, sr_update: the SR must open (and is recovered).
Status SrOpens(const Call& c, Value*) {
  std::unique_ptr<Sr> sr;
  return OpenSr(c, &sr);
}

Status SrScan(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  RETURN_IF_ERROR(TellScanned(c, sr.get(), fault::kSrScan));
  KickGc(c, *sr);
  return Status::OK();
}

Status SrProbe(const Call& c, Value* out) {
  std::string path;
  RETURN_IF_ERROR(SrPath(c, &path));
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
  *out = xml;
  return Status::OK();
}

// ---- VDI commands ---------------------------------------------------------

Status VdiCreate(const Call& c, Value* out) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  uint64_t size = 0;
  RETURN_IF_ERROR(VdiSizeArg(c, 0, &size));
  VdiMeta m;
  m.name_label = c.OptionalArg(1);
  m.name_description = c.OptionalArg(2);
  m.is_a_snapshot = c.OptionalArg(4) == "true";
  m.snapshot_time = c.OptionalArg(5);
  m.read_only = c.OptionalArg(7) == "true";
  std::string type;
  RETURN_IF_ERROR(c.Str("vdi_type", &type));
  if (!type.empty()) m.type = type;
  std::string uuid;
  RETURN_IF_ERROR(c.Str("vdi_uuid", &uuid));
  vhd::Uuid u;
  if (!uuid.empty() && !vhd::Uuid::Parse(uuid, &u)) {
    return fault::Error(fault::kBadRequest,
                        "vdi_uuid '" + uuid + "' is not a uuid");
  }
  Vdi v;
  RETURN_IF_ERROR(
      fault::Raise(sr->CreateVdi(size, m, uuid, &v), fault::kVdiCreate));
  RETURN_IF_ERROR(Told(c.toolstack.Introduced(c.ctx, v)));
  *out = VdiInfo(v);
  return Status::OK();
}

Status VdiDelete(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  RETURN_IF_ERROR(fault::Raise(sr->DeleteVdi(uuid), fault::kVdiDelete));
  RETURN_IF_ERROR(Told(c.toolstack.Forgotten(c.ctx, uuid)));
  KickGc(c, *sr);
  return Status::OK();
}

// The SR opens and the call's VDI exists (else `kind`); `sr` and `vdi`
// may be nullptr when the caller needs neither.
Status OpenVdi(const Call& c, const xmlrpc::FaultKind& kind,
               std::unique_ptr<Sr>* sr_out, Vdi* vdi_out) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  Vdi v;
  RETURN_IF_ERROR(fault::Raise(sr->GetVdi(uuid, &v), kind));
  if (sr_out) *sr_out = std::move(sr);
  if (vdi_out) *vdi_out = std::move(v);
  return Status::OK();
}

Status VdiUpdate(const Call& c, Value*) {
  return OpenVdi(c, fault::kVdiLoad, nullptr, nullptr);
}

Status VdiIntroduce(const Call& c, Value* out) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string loc;
  RETURN_IF_ERROR(c.Str("vdi_location", &loc));
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(loc, &u)) {
    return fault::Error(fault::kBadRequest,
                        "vdi_location '" + loc + "' is not a uuid");
  }
  Vdi v;
  RETURN_IF_ERROR(fault::Raise(sr->GetVdi(loc, &v), fault::kVdiLoad));
  RETURN_IF_ERROR(Told(c.toolstack.Introduced(c.ctx, v)));
  *out = VdiInfo(v);
  return Status::OK();
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

Status VdiAttach(const Call& c, Value* out) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  Vdi v;
  Status s = sr->AttachVdi(uuid, c.ctx.host_ref, &v);
  if (s.code() == base::Code::kInvalidArgument) {
    return fault::Error(fault::kVdiUnavailable, s.message());
  }
  RETURN_IF_ERROR(fault::Raise(s, fault::kVdiUnavailable));
  *out = AttachInfo(*sr, uuid);
  return Status::OK();
}

Status VdiDetach(const Call& c, Value*) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  return fault::Raise(sr->DetachVdi(uuid, c.ctx.host_ref),
                      fault::kVdiUnavailable);
}

Status VdiActivate(const Call& c, Value*) {
  return OpenVdi(c, fault::kVdiUnavailable, nullptr, nullptr);
}

Status VdiDeactivate(const Call& c, Value*) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string uuid;
  return VdiUuid(c, &uuid);
}

Status KindOf(const Call& c, SnapshotKind* kind) {
  *kind = SnapshotKind::kDouble;
  const Value* dp = c.s.Find("driver_params");
  if (dp && dp->type() == Value::Type::kStruct) {
    std::string t;
    RETURN_IF_ERROR(OptionalString(dp->as_struct(), "type", "", &t));
    if (t == "single") *kind = SnapshotKind::kSingle;
    if (t == "internal") *kind = SnapshotKind::kInternal;
  }
  return Status::OK();
}

// The toolstack learns of the new VDI `v`, of the base copy (when it is not
// `v` itself), and that the snapshotted VDI `uuid`'s parent changed.
Status TellSnapshot(const Call& c, Sr* sr, const std::string& uuid,
                    const Vdi& v, const xmlrpc::FaultKind& kind) {
  Vdi leaf;
  RETURN_IF_ERROR(fault::Raise(sr->GetVdi(uuid, &leaf), kind));
  RETURN_IF_ERROR(Told(c.toolstack.Introduced(c.ctx, v)));
  if (leaf.parent != v.uuid) {
    Vdi base;
    RETURN_IF_ERROR(fault::Raise(sr->GetVdi(leaf.parent, &base), kind));
    RETURN_IF_ERROR(Told(c.toolstack.Introduced(c.ctx, base)));
  }
  return Told(c.toolstack.Updated(c.ctx, leaf));
}

Status Snapshot(const Call& c, bool clone, Value* out) {
  RETURN_IF_ERROR(RequireMaster(c));
  const xmlrpc::FaultKind& kind =
      clone ? fault::kVdiClone : fault::kVdiSnapshot;
  std::unique_ptr<Sr> sr;
  Vdi cur;
  RETURN_IF_ERROR(OpenVdi(c, kind, &sr, &cur));
  VdiMeta m = cur.meta;
  // xapi names the new VDI itself afterwards; other callers get a hint.
  if (!m.name_label.empty()) {
    m.name_label += clone ? " (clone)" : " (snapshot)";
  }
  m.is_a_snapshot = !clone;
  m.snapshot_of = clone ? "" : cur.uuid;
  m.snapshot_time = clone ? "" : XenApiNow();
  m.read_only = false;
  SnapshotKind how;
  RETURN_IF_ERROR(KindOf(c, &how));
  Vdi v;
  RETURN_IF_ERROR(fault::Raise(sr->SnapshotVdi(cur.uuid, how, m, &v), kind));
  RETURN_IF_ERROR(TellSnapshot(c, sr.get(), cur.uuid, v, kind));
  *out = VdiInfo(v);
  return Status::OK();
}

Status VdiSnapshot(const Call& c, Value* out) {
  return Snapshot(c, false, out);
}
Status VdiClone(const Call& c, Value* out) { return Snapshot(c, true, out); }

Status VdiResize(const Call& c, Value* out) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  uint64_t size = 0;
  RETURN_IF_ERROR(VdiSizeArg(c, 0, &size));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  Vdi v;
  RETURN_IF_ERROR(
      fault::Raise(sr->ResizeVdi(uuid, size, &v), fault::kVdiResize));
  RETURN_IF_ERROR(Told(c.toolstack.Updated(c.ctx, v)));
  *out = VdiInfo(v);
  return Status::OK();
}

Status VdiGenerateConfig(const Call& c, Value* out) {
  Vdi v;
  RETURN_IF_ERROR(OpenVdi(c, fault::kVdiLoad, nullptr, &v));
  std::string sr_uuid;
  RETURN_IF_ERROR(c.Str("sr_uuid", &sr_uuid));
  Struct s;
  const Struct* dc = c.DeviceConfig();
  s.Append("device_config", dc ? Value(*dc) : Value(Struct()));
  s.Append("sr_uuid", sr_uuid);
  s.Append("vdi_uuid", v.uuid);
  s.Append("vdi_location", v.uuid);
  s.Append("command", "vdi_attach_from_config");
  xmlrpc::MethodCall call{"vdi_attach_from_config", {Value(s)}};
  xmlrpc::Result<std::string> text = xmlrpc::WriteMethodCall(call);
  if (!text.ok()) return fault::Error(fault::kGeneral, text.fault().message);
  *out = text.value();
  return Status::OK();
}

Status VdiAttachFromConfig(const Call& c, Value* out) {
  std::unique_ptr<Sr> sr;
  Vdi v;
  RETURN_IF_ERROR(OpenVdi(c, fault::kVdiUnavailable, &sr, &v));
  *out = AttachInfo(*sr, v.uuid);
  return Status::OK();
}

Status VdiCompose(const Call& c, Value*) {
  // args[0] names the new parent; without a XenAPI session only a uuid can
  // be resolved.
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::string parent;
  RETURN_IF_ERROR(c.Arg(0, &parent));
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(parent, &u)) {
    return fault::Error(
        fault::kUnimplemented,
        "vdi_compose needs the parent's uuid, got '" + parent + "'");
  }
  RETURN_IF_ERROR(RequireMaster(c));
  std::string uuid;
  RETURN_IF_ERROR(VdiUuid(c, &uuid));
  RETURN_IF_ERROR(fault::Raise(sr->Compose(parent, uuid), fault::kGeneral));
  Vdi v, p;
  RETURN_IF_ERROR(fault::Raise(sr->GetVdi(uuid, &v), fault::kGeneral));
  RETURN_IF_ERROR(fault::Raise(sr->GetVdi(parent, &p), fault::kGeneral));
  RETURN_IF_ERROR(Told(c.toolstack.Updated(c.ctx, v)));
  return Told(c.toolstack.Updated(c.ctx, p));  // now hidden: a base copy
}

// Runs the SR's GC now and tells the toolstack what it removed, then what
// is left (relinked VDIs have new parents and sizes).
Status RunGc(const Call& c, Sr* sr) {
  GcReport r;
  GcOptions o;
  o.wait = true;  // a background GC may be running: wait, then run
  RETURN_IF_ERROR(fault::Raise(sr->Gc(o, &r), fault::kGeneral));
  for (const std::string& uuid : r.removed) {
    RETURN_IF_ERROR(Told(c.toolstack.Forgotten(c.ctx, uuid)));
  }
  return TellScanned(c, sr, fault::kGeneral);
}

Status VdiCoalesce(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  Vdi v;
  RETURN_IF_ERROR(OpenVdi(c, fault::kVdiLoad, &sr, &v));
  // A chain that leaves the SR's rules is never merged: say why.
  RETURN_IF_ERROR(fault::Raise(sr->CheckChain(v.uuid), fault::kGeneral));
  return RunGc(c, sr.get());
}

// Extension: every VDI with its chain facts (for operators' tools).
Status SrList(const Call& c, Value* result) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  std::map<std::string, Vdi> vdis;
  RETURN_IF_ERROR(fault::Raise(sr->Scan(&vdis), fault::kSrScan));
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
  *result = std::move(out);
  return Status::OK();
}

Status SrGc(const Call& c, Value*) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(OpenSr(c, &sr));
  return RunGc(c, sr.get());
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
  using Fn = Status (*)(const Call&, Value*);
  const std::pair<const char*, Fn> table[] = {
      {"sr_get_driver_info", DriverInfo},
      {"sr_create", SrCreate},
      {"sr_delete", SrDelete},
      {"sr_attach", SrAttach},
      {"sr_detach", SrOpens},
      {"sr_scan", SrScan},
      {"sr_probe", SrProbe},
      {"sr_update", SrOpens},
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
      {"vdi_epoch_begin", SrOpens},
      {"vdi_epoch_end", SrOpens},
      {"vdi_compose", VdiCompose},
      {"vdi_coalesce", VdiCoalesce},
      {"sr_gc", SrGc},
      {"sr_list", SrList},
  };
  for (const auto& [name, fn] : table) Register(name, fn);
}

}  // namespace vhdsm
