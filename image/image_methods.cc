#include "image/image_methods.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/size.h"
#include "sm/fault_codes.h"
#include "sm/smapi_call.h"
#include "vhd/uuid.h"

namespace vhdsm {

namespace {

using base::Status;
using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

Status Images(const ImageMethodsOptions& o, ImageService** images) {
  if (o.images == nullptr) {
    return fault::Error(fault::kUnimplemented,
                        "image tasks are not available in this host");
  }
  *images = o.images;
  return Status::OK();
}

Status TaskId(const Call& c, std::string* id) {
  RETURN_IF_ERROR(c.Str("task_id", id));
  vhd::Uuid u;
  if (!vhd::Uuid::Parse(*id, &u)) {
    return fault::Error(fault::kBadRequest,
                        "task_id '" + *id + "' is not a task id");
  }
  return Status::OK();
}

// A task operation's failure: an unknown task is 202 "no task <id>".
Status TaskError(const Status& s, const std::string& id) {
  if (s.code() == base::Code::kNotFound) {
    return fault::Error(fault::kGeneral, "no task " + id);
  }
  return fault::Raise(s, fault::kGeneral);
}

// The members of image_create's `image` struct (strings, as xapi sends
// everything); sizes in base::ParseSize's syntax, counts plain.
class ImageArgs {
 public:
  explicit ImageArgs(const Struct& im) : im_(im) {}

  Status Str(const char* k, const char* fallback, std::string* out) const {
    return OptionalString(im_, k, fallback, out);
  }
  Status Flag(const char* k, bool* out) const {
    std::string v;
    RETURN_IF_ERROR(Str(k, "false", &v));
    *out = v == "true";
    return Status::OK();
  }
  Status Number(const char* k, bool size, uint64_t* out) const {
    std::string v;
    RETURN_IF_ERROR(Str(k, "", &v));
    if (v.empty()) return Status::OK();  // *out keeps its default
    Status s =
        size ? base::ParseSize(v, out) : base::ParseCount(v, 1u << 30, out);
    if (!s.ok()) {
      return fault::Error(fault::kBadRequest,
                          std::string("image:") + k + ": " + s.message());
    }
    return Status::OK();
  }
  template <typename Int>
  Status Count(const char* k, Int* out) const {
    uint64_t n = static_cast<uint64_t>(*out);
    RETURN_IF_ERROR(Number(k, false, &n));
    *out = static_cast<Int>(n);
    return Status::OK();
  }

 private:
  const Struct& im_;
};

// The `image` struct as ImageParams; members left out keep ImageParams'
// defaults (the [image] section, else image_params.h).
Status ParseImage(const Call& c, ImageParams* p, std::string* key) {
  const Value* v = nullptr;
  RETURN_IF_ERROR(RequireMember(c.s, "image", Value::Type::kStruct, &v));
  ImageArgs a(v->as_struct());
  // In the wire's order: the first bad member is the one reported.
  RETURN_IF_ERROR(a.Str("store", "", &p->store));
  RETURN_IF_ERROR(a.Str("auth_url", "", &p->auth_url));
  RETURN_IF_ERROR(
      a.Str("auth_version", p->auth_version.c_str(), &p->auth_version));
  RETURN_IF_ERROR(a.Str("user", "", &p->user));
  RETURN_IF_ERROR(a.Str("tenant", "", &p->tenant));
  RETURN_IF_ERROR(a.Str("region", "", &p->region));
  RETURN_IF_ERROR(a.Flag("api_key", &p->api_key));
  RETURN_IF_ERROR(a.Str("container", "", &p->container));
  RETURN_IF_ERROR(a.Str("object", "", &p->object));
  RETURN_IF_ERROR(a.Str("format", p->format.c_str(), &p->format));
  RETURN_IF_ERROR(a.Str("manifest", p->manifest.c_str(), &p->manifest));
  RETURN_IF_ERROR(a.Number("segment_size", true, &p->segment_size));
  RETURN_IF_ERROR(a.Count("compression_level", &p->compression_level));
  RETURN_IF_ERROR(a.Count("parallel_segments", &p->parallel_segments));
  RETURN_IF_ERROR(a.Flag("keep_segments", &p->keep_segments));
  RETURN_IF_ERROR(a.Flag("allow_insecure", &p->allow_insecure));
  return a.Str("key", "", key);
}

Status ImageCreate(const ImageMethodsOptions& o, const Call& c, Value* out) {
  RETURN_IF_ERROR(RequireMaster(c));
  std::string sr_path, vdi, sr_uuid, key, id;
  RETURN_IF_ERROR(SrPath(c, &sr_path));
  RETURN_IF_ERROR(VdiUuid(c, &vdi));
  // Members left out take the configured [image] defaults.
  ImageParams p = o.images ? o.images->defaults() : ImageParams();
  RETURN_IF_ERROR(ParseImage(c, &p, &key));
  // After the arguments are parsed: a bad one is 143 wherever it is sent.
  ImageService* images = nullptr;
  RETURN_IF_ERROR(Images(o, &images));
  RETURN_IF_ERROR(c.Str("sr_uuid", &sr_uuid));
  Status s = images->Create(sr_path, sr_uuid, vdi, p, key, &id);
  if (s.code() == base::Code::kNotFound) {
    return fault::Error(fault::kVdiMissing, s.message());
  }
  RETURN_IF_ERROR(fault::Raise(s, fault::kGeneral));
  *out = id;
  return Status::OK();
}

std::string Whole(double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

Value StatusOf(const TaskRecord& r) {
  Struct out;
  out.Append("task_id", r.id);
  out.Append("state", TaskStateName(r.state));
  out.Append("progress", std::to_string(r.progress));
  out.Append("sr_uuid", r.sr_uuid);
  out.Append("vdi_uuid", r.vdi_uuid);
  out.Append("phase_bytes_done", std::to_string(r.phase_bytes_done));
  out.Append("phase_bytes_total", std::to_string(r.phase_bytes_total));
  out.Append("rate_bytes_per_s", Whole(r.rate_bytes_per_s));
  out.Append("eta_s", r.eta_s < 0 ? std::string("-1") : Whole(r.eta_s));
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

Status TaskStatus(const ImageMethodsOptions& o, const Call& c, Value* out) {
  std::string id;
  RETURN_IF_ERROR(TaskId(c, &id));
  ImageService* images = nullptr;
  RETURN_IF_ERROR(Images(o, &images));
  TaskRecord r;
  RETURN_IF_ERROR(TaskError(images->Get(id, &r), id));
  *out = StatusOf(r);
  return Status::OK();
}

Status TaskCancel(const ImageMethodsOptions& o, const Call& c, Value*) {
  std::string id;
  RETURN_IF_ERROR(TaskId(c, &id));
  ImageService* images = nullptr;
  RETURN_IF_ERROR(Images(o, &images));
  return TaskError(images->Cancel(id), id);
}

Status TaskList(const ImageMethodsOptions& o, const Call&, Value* out) {
  ImageService* images = nullptr;
  RETURN_IF_ERROR(Images(o, &images));
  std::vector<std::string> ids;
  RETURN_IF_ERROR(fault::Raise(images->List(&ids), fault::kGeneral));
  Array a;
  for (const std::string& id : ids) a.push_back(id);
  *out = std::move(a);
  return Status::OK();
}

Status TaskResume(const ImageMethodsOptions& o, const Call& c, Value*) {
  std::string id;
  RETURN_IF_ERROR(TaskId(c, &id));
  ImageService* images = nullptr;
  RETURN_IF_ERROR(Images(o, &images));
  if (o.run_tasks_inline) return TaskError(images->Run(id), id);
  TaskRecord r;
  RETURN_IF_ERROR(TaskError(images->Get(id, &r), id));
  return TaskError(images->ResumeAll(), id);
}

}  // namespace

void RegisterImageMethods(Plugin* plugin, const ImageMethodsOptions& options) {
  using Fn = Status (*)(const ImageMethodsOptions&, const Call&, Value*);
  const std::pair<const char*, Fn> table[] = {
      {"image_create", ImageCreate}, {"task_status", TaskStatus},
      {"task_cancel", TaskCancel},   {"task_list", TaskList},
      {"task_resume", TaskResume},
  };
  for (const auto& [name, fn] : table) {
    plugin->Register(name, [fn, options](const Call& c, Value* out) {
      return fn(options, c, out);
    });
  }
}

}  // namespace vhdsm
