#include "sm/xapi_toolstack.h"

#include <sys/stat.h>

#include <cstdlib>
#include <utility>

#include "xmlrpc/fault.h"

namespace vhdsm {

namespace {

using xmlrpc::Struct;
using xmlrpc::Value;

constexpr char kVhdParent[] = "vhd-parent";
constexpr char kBaseCopyName[] = "base copy";
constexpr char kMaskedSession[] = "<session>";

// The session reference is a credential: never let it into a message.
std::string Mask(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + sizeof(kMaskedSession) - 1)) {
    text.replace(at, secret.size(), kMaskedSession);
  }
  return text;
}

base::Status Error(const std::string& method, const std::string& what) {
  return base::Status::IOError("XenAPI " + method + ": " + what);
}

// The read_only xapi records: a parent or a hidden node is never writable,
// whatever its metadata says (sm marks every parent read-only on scan).
bool RecordedReadOnly(const Vdi& vdi) {
  return vdi.meta.read_only || vdi.hidden || !vdi.children.empty();
}

std::string Decimal(uint64_t n) { return std::to_string(n); }

// A hidden VDI with no children: a deleted VDI the GC has not removed yet.
bool IsHiddenLeaf(const Vdi& vdi) { return vdi.hidden && vdi.children.empty(); }

const Value* Member(const Value& record, std::string_view name) {
  return record.type() == Value::Type::kStruct ? record.as_struct().Find(name)
                                               : nullptr;
}

std::string StringMember(const Value& record, std::string_view name) {
  const Value* v = Member(record, name);
  return v && v->type() == Value::Type::kString ? v->as_string() : "";
}

// The sm_config vhd-parent of a record ("" when it has none).
std::string RecordedParent(const Value& record) {
  const Value* sm = Member(record, "sm_config");
  if (sm == nullptr || sm->type() != Value::Type::kStruct) return "";
  const Value* p = sm->as_struct().Find(kVhdParent);
  return p && p->type() == Value::Type::kString ? p->as_string() : "";
}

// A reference xapi gave us, safe to quote in a get_all_records_where query.
bool IsPlainRef(const std::string& ref) {
  if (ref.rfind("OpaqueRef:", 0) != 0 || ref.size() <= 10) return false;
  for (char c : ref) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      return false;
  }
  return true;
}

}  // namespace

std::string XapiSocketPath(const std::string& configured) {
  const char* env = std::getenv(kXapiSocketEnv);
  if (env != nullptr && env[0] != '\0') return env;
  return configured.empty() ? kDefaultXapiSocket : configured;
}

std::unique_ptr<Toolstack> MakeXapiToolstack(
    const CallContext& ctx, const XapiToolstackOptions& options) {
  if (ctx.session_ref.empty()) return nullptr;
  struct stat st;
  if (::stat(options.socket_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return nullptr;
  }
  return std::make_unique<XapiToolstack>(options, ctx.session_ref);
}

namespace {

xmlrpc::ClientOptions ClientOptionsFor(const XapiToolstackOptions& options) {
  xmlrpc::ClientOptions o;
  o.unix_socket_path = options.socket_path;
  o.url = "http://localhost/";  // xapi serves XenAPI at "/"
  o.timeout_ms = options.timeout_ms;
  o.connect_timeout_ms = options.connect_timeout_ms;
  // The peer is xapi (root's socket), and VDI.get_all_records_where of a
  // large SR is big: a record is ~100 elements and a few KiB, so allow
  // some 20000 VDIs rather than the limits meant for untrusted requests.
  o.limits.max_body_bytes = 64 << 20;
  o.limits.max_elements = 2000000;
  o.limits.max_items = 1000000;
  return o;
}

}  // namespace

XapiToolstack::XapiToolstack(const XapiToolstackOptions& options,
                             std::string session_ref)
    : session_ref_(std::move(session_ref)),
      client_(ClientOptionsFor(options)),
      socket_path_(options.socket_path) {}

base::Status ParseXenApiResponse(const std::string& method,
                                 const xmlrpc::Response& response,
                                 const std::string& secret, Value* value,
                                 std::string* failure_code) {
  if (failure_code != nullptr) failure_code->clear();
  if (!response.ok()) {
    const xmlrpc::Fault& f = response.fault();
    if (f.code == xmlrpc::interop::kTransportError) {
      return Error(method, "cannot reach xapi: " + Mask(f.message, secret));
    }
    if (f.code == xmlrpc::interop::kParseError) {
      return Error(method, "unreadable answer: " + Mask(f.message, secret));
    }
    // XenAPI answers with an envelope, not a fault; a fault means the peer
    // is not speaking XenAPI.
    return Error(method, "XML-RPC fault " + std::to_string(f.code) + " (" +
                             Mask(f.message, secret) +
                             ") instead of a XenAPI answer");
  }
  const Value& envelope = response.value();
  const Value* status = Member(envelope, "Status");
  if (status == nullptr || status->type() != Value::Type::kString) {
    return Error(method, "the answer is not a XenAPI envelope (no Status): " +
                             Mask(envelope.DebugString(), secret));
  }
  if (status->as_string() == "Success") {
    const Value* v = Member(envelope, "Value");
    if (v == nullptr) return Error(method, "a Success without a Value");
    if (value != nullptr) *value = *v;
    return base::Status::OK();
  }
  if (status->as_string() != "Failure") {
    return Error(method,
                 "unknown Status '" + Mask(status->as_string(), secret) + "'");
  }
  const Value* desc = Member(envelope, "ErrorDescription");
  if (desc == nullptr || desc->type() != Value::Type::kArray ||
      desc->as_array().empty()) {
    return Error(method, "failed without an ErrorDescription");
  }
  std::string text;
  for (const Value& part : desc->as_array()) {
    if (!text.empty()) text += ", ";
    text += part.type() == Value::Type::kString ? part.as_string()
                                                : part.DebugString();
  }
  const Value& code = desc->as_array().front();
  if (failure_code != nullptr && code.type() == Value::Type::kString) {
    *failure_code = code.as_string();
  }
  return Error(method, "failed: " + Mask(text, secret));
}

base::Status XapiToolstack::Call(const std::string& method,
                                 std::vector<Value> args, Value* value,
                                 std::string* failure_code) {
  std::vector<Value> params;
  params.reserve(args.size() + 1);
  params.emplace_back(session_ref_);
  for (Value& a : args) params.push_back(std::move(a));
  xmlrpc::Response r = client_.Call(method, std::move(params));
  base::Status s =
      ParseXenApiResponse(method, r, session_ref_, value, failure_code);
  if (!s.ok() && !r.ok() &&
      r.fault().code == xmlrpc::interop::kTransportError) {
    return base::Status(s.code(),
                        s.message() + " (socket " + socket_path_ + ")");
  }
  return s;
}

std::vector<Value> DbIntroduceArgs(const std::string& sr_ref, const Vdi& vdi,
                                   bool read_only,
                                   const std::string& snapshot_of_ref) {
  const VdiMeta& m = vdi.meta;
  std::string name = m.name_label;
  if (name.empty() && vdi.hidden) name = kBaseCopyName;
  Struct sm_config;
  if (!vdi.parent.empty()) sm_config.Append(kVhdParent, vdi.parent);
  // xapi stores snapshot_time as a DateTime; sm sends "19700101T00:00:00Z"
  // for "never".
  xmlrpc::DateTime when;
  when.zone = xmlrpc::DateTime::Zone::kUtc;
  if (!m.snapshot_time.empty()) {
    std::optional<xmlrpc::DateTime> parsed =
        xmlrpc::DateTime::Parse(m.snapshot_time);
    if (parsed && parsed->IsValid()) when = *parsed;
  }
  std::vector<Value> args;
  args.reserve(18);
  args.emplace_back(vdi.uuid);
  args.emplace_back(name);
  args.emplace_back(m.name_description);
  args.emplace_back(sr_ref);
  args.emplace_back(m.type.empty() ? std::string("user") : m.type);
  args.emplace_back(false);  // sharable
  args.emplace_back(read_only);
  args.emplace_back(Struct());  // other_config
  args.emplace_back(vdi.uuid);  // location: this driver's locations are uuids
  args.emplace_back(Struct());  // xenstore_data
  args.emplace_back(std::move(sm_config));
  args.emplace_back(m.managed && !vdi.hidden);
  args.emplace_back(Decimal(vdi.virtual_size));
  args.emplace_back(Decimal(vdi.physical_utilisation));
  args.emplace_back(kNullRef);  // metadata_of_pool
  args.emplace_back(m.is_a_snapshot);
  args.emplace_back(when);
  args.emplace_back(snapshot_of_ref.empty() ? std::string(kNullRef)
                                            : snapshot_of_ref);
  return args;
}

base::Status XapiToolstack::FindVdi(const std::string& uuid, std::string* ref) {
  ref->clear();
  Value v;
  std::string failure;
  base::Status s = Call("VDI.get_by_uuid", {Value(uuid)}, &v, &failure);
  if (!s.ok()) return failure == "UUID_INVALID" ? base::Status::OK() : s;
  if (v.type() != Value::Type::kString || v.as_string().empty()) {
    return Error("VDI.get_by_uuid", "the answer is not a reference");
  }
  *ref = v.as_string();
  return base::Status::OK();
}

base::Status XapiToolstack::Introduced(const CallContext& ctx, const Vdi& vdi) {
  if (ctx.sr_ref.empty()) {
    return Error("VDI.db_introduce", "the call carries no sr_ref");
  }
  std::string snapshot_of;
  if (!vdi.meta.snapshot_of.empty()) {
    RETURN_IF_ERROR(FindVdi(vdi.meta.snapshot_of, &snapshot_of));
  }
  return Call(
      "VDI.db_introduce",
      DbIntroduceArgs(ctx.sr_ref, vdi, RecordedReadOnly(vdi), snapshot_of));
}

base::Status XapiToolstack::SetVhdParent(const std::string& ref,
                                         const std::string& parent) {
  // add_to_sm_config fails with MAP_DUPLICATE_KEY on an existing key;
  // removing a missing key is not an error.
  RETURN_IF_ERROR(
      Call("VDI.remove_from_sm_config", {Value(ref), Value(kVhdParent)}));
  if (parent.empty()) return base::Status::OK();
  return Call("VDI.add_to_sm_config",
              {Value(ref), Value(kVhdParent), Value(parent)});
}

base::Status XapiToolstack::Updated(const CallContext& ctx, const Vdi& vdi) {
  std::string ref;
  RETURN_IF_ERROR(FindVdi(vdi.uuid, &ref));
  // A change to a VDI xapi does not know yet: its record is due anyway.
  if (ref.empty()) return Introduced(ctx, vdi);
  RETURN_IF_ERROR(Call("VDI.set_virtual_size",
                       {Value(ref), Value(Decimal(vdi.virtual_size))}));
  RETURN_IF_ERROR(Call("VDI.set_physical_utilisation",
                       {Value(ref), Value(Decimal(vdi.physical_utilisation))}));
  RETURN_IF_ERROR(
      Call("VDI.set_read_only", {Value(ref), Value(RecordedReadOnly(vdi))}));
  return SetVhdParent(ref, vdi.parent);
}

base::Status XapiToolstack::Forgotten(const CallContext& ctx,
                                      const std::string& uuid) {
  (void)ctx;
  std::string ref;
  RETURN_IF_ERROR(FindVdi(uuid, &ref));
  if (ref.empty()) return base::Status::OK();  // never introduced, or gone
  return Call("VDI.db_forget", {Value(ref)});
}

base::Status XapiToolstack::Scanned(const CallContext& ctx,
                                    const std::map<std::string, Vdi>& vdis,
                                    uint64_t physical_size,
                                    uint64_t physical_utilisation) {
  const char kQuery[] = "VDI.get_all_records_where";
  if (!IsPlainRef(ctx.sr_ref)) {
    return Error(kQuery, "the call carries no usable sr_ref");
  }
  Value records;
  RETURN_IF_ERROR(
      Call(kQuery, {Value("field \"SR\" = \"" + ctx.sr_ref + "\"")}, &records));
  if (records.type() != Value::Type::kStruct) {
    return Error(kQuery, "the answer is not a map of records");
  }
  // xapi's records by location (= uuid for this driver).
  std::map<std::string, std::pair<std::string, const Value*>> known;
  for (const xmlrpc::Member& m : records.as_struct()) {
    std::string location = StringMember(m.value, "location");
    known.emplace(location, std::make_pair(m.name, &m.value));
  }

  uint64_t virtual_allocation = 0;
  for (const auto& [uuid, vdi] : vdis) {
    if (!vdi.hidden) virtual_allocation += vdi.virtual_size;
    if (IsHiddenLeaf(vdi)) continue;
    auto it = known.find(uuid);
    if (it == known.end()) {
      RETURN_IF_ERROR(Introduced(ctx, vdi));
      continue;
    }
    const std::string& ref = it->second.first;
    const Value& rec = *it->second.second;
    if (StringMember(rec, "virtual_size") != Decimal(vdi.virtual_size)) {
      RETURN_IF_ERROR(Call("VDI.set_virtual_size",
                           {Value(ref), Value(Decimal(vdi.virtual_size))}));
    }
    if (StringMember(rec, "physical_utilisation") !=
        Decimal(vdi.physical_utilisation)) {
      RETURN_IF_ERROR(
          Call("VDI.set_physical_utilisation",
               {Value(ref), Value(Decimal(vdi.physical_utilisation))}));
    }
    const Value* ro = Member(rec, "read_only");
    bool read_only = RecordedReadOnly(vdi);
    if (ro == nullptr || ro->type() != Value::Type::kBoolean ||
        ro->as_bool() != read_only) {
      RETURN_IF_ERROR(
          Call("VDI.set_read_only", {Value(ref), Value(read_only)}));
    }
    if (RecordedParent(rec) != vdi.parent) {
      RETURN_IF_ERROR(SetVhdParent(ref, vdi.parent));
    }
  }
  for (const auto& [location, entry] : known) {
    auto it = vdis.find(location);
    if (it == vdis.end() || IsHiddenLeaf(it->second)) {
      RETURN_IF_ERROR(Call("VDI.db_forget", {Value(entry.first)}));
    }
  }
  RETURN_IF_ERROR(Call("SR.set_physical_size",
                       {Value(ctx.sr_ref), Value(Decimal(physical_size))}));
  RETURN_IF_ERROR(
      Call("SR.set_physical_utilisation",
           {Value(ctx.sr_ref), Value(Decimal(physical_utilisation))}));
  return Call("SR.set_virtual_allocation",
              {Value(ctx.sr_ref), Value(Decimal(virtual_allocation))});
}

}  // namespace vhdsm
