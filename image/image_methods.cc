#include "image/image_methods.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/size.h"
#include "sm/fault_codes.h"
#include "sm/smapi_call.h"
#include "vhd/uuid.h"
#include "xmlrpc/params.h"

namespace vhdsm {

namespace {

using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

ImageService& Images(const ImageMethodsOptions& o) {
  if (o.images == nullptr) {
    Fail(fault::kUnimplemented, "image tasks are not available in this host");
  }
  return *o.images;
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

Value ImageCreate(const ImageMethodsOptions& o, const Call& c) {
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
  ImageParams p;
  p.store = str("store", "");
  p.auth_url = str("auth_url", "");
  p.auth_version = str("auth_version", "1");
  p.user = str("user", "");
  p.tenant = str("tenant", "");
  p.region = str("region", "");
  p.api_key = str("api_key", "false") == "true";
  p.container = str("container", "");
  p.object = str("object", "");
  p.format = str("format", "vhd");
  p.manifest = str("manifest", "slo");
  p.segment_size = number("segment_size", 100ull << 20, true);
  p.compression_level = static_cast<int>(number("compression_level", 6, false));
  p.parallel_segments = static_cast<int>(number("parallel_segments", 2, false));
  p.keep_segments = str("keep_segments", "false") == "true";
  p.allow_insecure = str("allow_insecure", "false") == "true";
  std::string key = str("key", "");
  std::string id;
  // After the arguments are parsed: a bad one is 143 wherever it is sent.
  ImageService& images = Images(o);
  base::Status s = images.Create(sr_path, c.Str("sr_uuid"), vdi, p, key, &id);
  if (s.code() == base::Code::kNotFound) Fail(fault::kVdiMissing, s.message());
  Check(s, fault::kGeneral);
  return id;
}

Value TaskStatus(const ImageMethodsOptions& o, const Call& c) {
  std::string id = TaskId(c);
  TaskRecord r;
  CheckTask(Images(o).Get(id, &r), id);
  Struct out;
  auto num = [](double v) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.0f", v);
    return std::string(buf);
  };
  out.Append("task_id", r.id);
  out.Append("state", r.state);
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

Value TaskCancel(const ImageMethodsOptions& o, const Call& c) {
  std::string id = TaskId(c);
  CheckTask(Images(o).Cancel(id), id);
  return Value();
}

Value TaskList(const ImageMethodsOptions& o, const Call&) {
  std::vector<std::string> ids;
  Check(Images(o).List(&ids), fault::kGeneral);
  Array out;
  for (const std::string& id : ids) out.push_back(id);
  return out;
}

Value TaskResume(const ImageMethodsOptions& o, const Call& c) {
  std::string id = TaskId(c);
  ImageService& images = Images(o);
  if (o.run_tasks_inline) {
    CheckTask(images.Run(id), id);
  } else {
    TaskRecord r;
    CheckTask(images.Get(id, &r), id);
    CheckTask(images.ResumeAll(), id);
  }
  return Value();
}

}  // namespace

void RegisterImageMethods(Plugin* plugin, const ImageMethodsOptions& options) {
  using Fn = Value (*)(const ImageMethodsOptions&, const Call&);
  const std::pair<const char*, Fn> table[] = {
      {"image_create", ImageCreate}, {"task_status", TaskStatus},
      {"task_cancel", TaskCancel},   {"task_list", TaskList},
      {"task_resume", TaskResume},
  };
  for (const auto& [name, fn] : table) {
    plugin->Register(name,
                     [fn, options](const Call& c) { return fn(options, c); });
  }
}

}  // namespace vhdsm
