#include "sm/smapi.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "base/size.h"
#include "image/image_task.h"
#include "sm/fault_codes.h"
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

// What a handler gets: the call's struct, the plugin's options and the
// toolstack to tell about changes.
struct Call {
  const Struct& s;
  const PluginOptions& options;
  base::Env* env;
  Toolstack& toolstack;
  const CallContext& ctx;

  std::string Str(std::string_view name) const {
    return xmlrpc::OptionalString(s, name, "");
  }
  // args[i] as a string (xapi sends every arg as a string).
  std::string Arg(size_t i) const {
    const Array& args = xmlrpc::RequireArray(s, "args");
    if (i >= args.size() || args[i].type() != Value::Type::kString) {
      throw xmlrpc::ParamError("args[" + std::to_string(i) +
                               "] is missing or not a string");
    }
    return args[i].as_string();
  }
  const Struct* DeviceConfig() const {
    const Value* v = s.Find("device_config");
    return v && v->type() == Value::Type::kStruct ? &v->as_struct() : nullptr;
  }
};

// A base::Status failure to return from a handler.
struct Failed {
  Fault fault;
};

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

// Metadata-changing commands run on the SR master only.
void RequireMaster(const Call& c) {
  if (!IsMaster(c)) {
    Fail(fault::kGeneral,
         "this host is not the SR master (device_config:SRmaster=false)");
  }
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

// ---- image tasks (extensions) ----------------------------------------------

ImageService& Images(const Call& c) {
  if (c.options.images == nullptr) {
    Fail(fault::kUnimplemented, "image tasks are not available in this host");
  }
  return *c.options.images;
}

std::string TaskId(const Call& c) {
  std::string id = c.Str("task_id");
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(id, &u)) {
    Fail(fault::kBadRequest, "task_id '" + id + "' is not a task id");
  }
  return id;
}

void CheckTask(const base::Status& s, const std::string& id) {
  if (s.code() == base::Code::kNotFound) Fail(fault::kGeneral, "no task " + id);
  Check(s, fault::kGeneral);
}

Value ImageCreate(const Call& c) {
  RequireMaster(c);
  std::string sr_path = SrPath(c);
  std::string vdi = VdiUuid(c);
  const Struct& im = xmlrpc::RequireStruct(c.s, "image");
  auto str = [&](const char* k, const char* d) {
    return xmlrpc::OptionalString(im, k, d);
  };
  // `size`: ParseSize's syntax; otherwise a plain count.
  auto number = [&](const char* k, uint64_t d, bool size) -> uint64_t {
    std::string v = str(k, "");
    if (v.empty()) return d;
    uint64_t n = 0;
    base::Status s =
        size ? base::ParseSize(v, &n) : base::ParseCount(v, 1u << 30, &n);
    if (!s.ok())
      Fail(fault::kBadRequest, std::string("image:") + k + ": " + s.message());
    return n;
  };
  ImageParams p =
      c.options.images ? c.options.images->defaults() : ImageParams();
  p.store = str("store", "");
  p.auth_url = str("auth_url", "");
  p.auth_version = str("auth_version", p.auth_version.c_str());
  p.user = str("user", "");
  p.tenant = str("tenant", "");
  p.region = str("region", "");
  p.api_key = str("api_key", "false") == "true";
  p.container = str("container", "");
  p.object = str("object", "");
  p.format = str("format", p.format.c_str());
  p.manifest = str("manifest", p.manifest.c_str());
  p.segment_size = number("segment_size", p.segment_size, true);
  p.compression_level =
      static_cast<int>(number("compression_level", p.compression_level, false));
  p.parallel_segments =
      static_cast<int>(number("parallel_segments", p.parallel_segments, false));
  p.keep_segments = str("keep_segments", "false") == "true";
  p.allow_insecure = str("allow_insecure", "false") == "true";
  std::string key = str("key", "");
  std::string id;
  // After the arguments are parsed: a bad one is 143 wherever it is sent.
  ImageService& images = Images(c);
  base::Status s = images.Create(sr_path, c.Str("sr_uuid"), vdi, p, key, &id);
  if (s.code() == base::Code::kNotFound) Fail(fault::kVdiMissing, s.message());
  Check(s, fault::kGeneral);
  return id;
}

Value TaskStatus(const Call& c) {
  std::string id = TaskId(c);
  TaskRecord r;
  CheckTask(Images(c).Get(id, &r), id);
  Struct out;
  auto num = [](double v) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.0f", v);
    return std::string(buf);
  };
  out.Append("task_id", r.id);
  out.Append("state", TaskStateName(r.state));
  out.Append("progress", std::to_string(r.progress));
  out.Append("sr_uuid", r.sr_uuid);
  out.Append("vdi_uuid", r.vdi_uuid);
  out.Append("phase_bytes_done", std::to_string(r.phase_bytes_done));
  out.Append("phase_bytes_total", std::to_string(r.phase_bytes_total));
  out.Append("rate_bytes_per_s", num(r.rate_bytes_per_s));
  out.Append("eta_s", r.eta_s < 0 ? std::string("-1") : num(r.eta_s));
  out.Append("segments_done", std::to_string(r.segments_done));
  out.Append("segments_total", std::to_string(r.segments_total));
  out.Append("segments_skipped", std::to_string(r.segments_skipped));
  out.Append("image_bytes", std::to_string(r.image_bytes));
  out.Append("object_bytes", std::to_string(r.object_bytes));
  out.Append("object_md5", r.object_md5);
  out.Append("etag", r.etag);
  out.Append("container", r.image.container);
  out.Append("object", r.image.object);
  out.Append("format", r.image.format);
  out.Append("manifest", r.image.manifest);
  out.Append("error_code", r.error_code);
  out.Append("error_message", r.error_message);
  out.Append("attempts", std::to_string(r.attempts));
  out.Append("created", r.created);
  out.Append("updated", r.updated);
  return out;
}

Value TaskCancel(const Call& c) {
  std::string id = TaskId(c);
  CheckTask(Images(c).Cancel(id), id);
  return Value();
}

Value TaskList(const Call& c) {
  std::vector<std::string> ids;
  Check(Images(c).List(&ids), fault::kGeneral);
  Array out;
  for (const std::string& id : ids) out.push_back(id);
  return out;
}

Value TaskResume(const Call& c) {
  std::string id = TaskId(c);
  ImageService& images = Images(c);
  if (c.options.run_tasks_inline) {
    CheckTask(images.Run(id), id);
  } else {
    TaskRecord r;
    CheckTask(images.Get(id, &r), id);
    CheckTask(images.ResumeAll(), id);
  }
  return Value();
}

}  // namespace

const char* const Plugin::kCommands[] = {"sr_get_driver_info",
                                         "sr_create",
                                         "sr_delete",
                                         "sr_attach",
                                         "sr_detach",
                                         "sr_scan",
                                         "sr_probe",
                                         "sr_update",
                                         "vdi_create",
                                         "vdi_delete",
                                         "vdi_update",
                                         "vdi_introduce",
                                         "vdi_attach",
                                         "vdi_detach",
                                         "vdi_activate",
                                         "vdi_deactivate",
                                         "vdi_snapshot",
                                         "vdi_clone",
                                         "vdi_resize",
                                         "vdi_resize_online",
                                         "vdi_generate_config",
                                         "vdi_attach_from_config",
                                         "vdi_detach_from_config",
                                         "vdi_epoch_begin",
                                         "vdi_epoch_end",
                                         "vdi_compose",
                                         "vdi_coalesce",
                                         "sr_gc",
                                         "sr_list",
                                         nullptr};

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
      {"image_create", ImageCreate},
      {"task_status", TaskStatus},
      {"task_cancel", TaskCancel},
      {"task_list", TaskList},
      {"task_resume", TaskResume},
  };
  for (const auto& [name, fn] : table) {
    Fn f = fn;
    const PluginOptions* opts = &options_;
    dispatcher_->Register(
        name,
        [f, opts](const Params& p) -> Response {
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
            return f(call);
          } catch (const Failed& failed) {
            return failed.fault;
          }
        },
        xmlrpc::MethodInfo{std::string("SMAPIv1 ") + name, {}});
  }
}

}  // namespace vhdsm
