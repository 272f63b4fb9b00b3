#include "image/task_record.h"

#include <iterator>
#include <nlohmann/json.hpp>

namespace vhdsm {

namespace {

using nlohmann::json;

constexpr const char* kStateNames[] = {"queued", "creating", "uploading",
                                       "done",   "failed",   "cancelled"};

// Task records and events hold text from servers and files: dump() must
// never throw on it (nlohmann refuses invalid UTF-8 by default).
std::string Dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// The "image" member; what it lacks comes from `d`. Throws on wrong types
// (FromJson turns that into kCorruption).
void ImageFromJson(const json& im, const ImageParams& d, ImageParams* out) {
  ImageParams& p = *out;
  p.store = im.value("store", d.store);
  p.auth_url = im.value("auth_url", d.auth_url);
  p.auth_version = im.value("auth_version", d.auth_version);
  p.user = im.value("user", d.user);
  p.tenant = im.value("tenant", d.tenant);
  p.region = im.value("region", d.region);
  p.api_key = im.value("api_key", d.api_key);
  p.container = im.value("container", d.container);
  p.object = im.value("object", d.object);
  p.format = im.value("format", d.format);
  p.manifest = im.value("manifest", d.manifest);
  p.segment_size = im.value("segment_size", d.segment_size);
  p.compression_level = im.value("compression_level", d.compression_level);
  p.parallel_segments = im.value("parallel_segments", d.parallel_segments);
  p.keep_segments = im.value("keep_segments", d.keep_segments);
  p.allow_insecure = im.value("allow_insecure", d.allow_insecure);
}

}  // namespace

const char* TaskStateName(TaskState state) {
  return kStateNames[static_cast<int>(state)];
}

bool ParseTaskState(const std::string& name, TaskState* state) {
  for (int i = 0; i < static_cast<int>(std::size(kStateNames)); ++i) {
    if (name == kStateNames[i]) {
      *state = static_cast<TaskState>(i);
      return true;
    }
  }
  return false;
}

std::string TaskRecord::ToJson() const {
  json im = {{"store", this->image.store},
             {"auth_url", this->image.auth_url},
             {"auth_version", this->image.auth_version},
             {"user", this->image.user},
             {"tenant", this->image.tenant},
             {"region", this->image.region},
             {"api_key", this->image.api_key},
             {"container", this->image.container},
             {"object", this->image.object},
             {"format", this->image.format},
             {"manifest", this->image.manifest},
             {"segment_size", this->image.segment_size},
             {"compression_level", this->image.compression_level},
             {"parallel_segments", this->image.parallel_segments},
             {"keep_segments", this->image.keep_segments},
             {"allow_insecure", this->image.allow_insecure}};
  json j = {{"id", id},
            {"sr_path", sr_path},
            {"sr_uuid", sr_uuid},
            {"vdi_uuid", vdi_uuid},
            {"state", TaskStateName(state)},
            {"progress", progress},
            {"image", im},
            {"snapshot_uuid", snapshot_uuid},
            {"image_uuid", image_uuid},
            {"image_timestamp", image_timestamp},
            {"run_id", run_id},
            {"phase_bytes_done", phase_bytes_done},
            {"phase_bytes_total", phase_bytes_total},
            {"rate_bytes_per_s", rate_bytes_per_s},
            {"eta_s", eta_s},
            {"segments_done", segments_done},
            {"segments_total", segments_total},
            {"segments_skipped", segments_skipped},
            {"image_bytes", image_bytes},
            {"object_bytes", object_bytes},
            {"object_md5", object_md5},
            {"etag", etag},
            {"error_code", error_code},
            {"error_message", error_message},
            {"attempts", attempts},
            {"runs_ended", runs_ended},
            {"created", created},
            {"updated", updated}};
  return Dump(j, 1) + "\n";
}

base::Status TaskRecord::FromJson(const std::string& text, TaskRecord* r,
                                  const ImageParams& d) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::Status::Corruption("task record is not a JSON object");
  }
  try {
    *r = TaskRecord();
    r->id = j.at("id").get<std::string>();
    r->sr_path = j.at("sr_path").get<std::string>();
    r->sr_uuid = j.value("sr_uuid", "");
    r->vdi_uuid = j.at("vdi_uuid").get<std::string>();
    if (!ParseTaskState(j.at("state").get<std::string>(), &r->state)) {
      return base::Status::Corruption("task record: unknown state");
    }
    r->progress = j.value("progress", 0);
    ImageFromJson(j.at("image"), d, &r->image);
    r->snapshot_uuid = j.value("snapshot_uuid", "");
    r->image_uuid = j.value("image_uuid", "");
    r->image_timestamp = j.value("image_timestamp", 0u);
    r->run_id = j.value("run_id", "");
    r->phase_bytes_done = j.value("phase_bytes_done", uint64_t{0});
    r->phase_bytes_total = j.value("phase_bytes_total", uint64_t{0});
    r->rate_bytes_per_s = j.value("rate_bytes_per_s", 0.0);
    r->eta_s = j.value("eta_s", -1.0);
    r->segments_done = j.value("segments_done", uint64_t{0});
    r->segments_total = j.value("segments_total", int64_t{-1});
    r->segments_skipped = j.value("segments_skipped", uint64_t{0});
    r->image_bytes = j.value("image_bytes", uint64_t{0});
    r->object_bytes = j.value("object_bytes", uint64_t{0});
    r->object_md5 = j.value("object_md5", "");
    r->etag = j.value("etag", "");
    r->error_code = j.value("error_code", "");
    r->error_message = j.value("error_message", "");
    r->attempts = j.value("attempts", 0);
    // Records written before runs were counted ended cleanly.
    r->runs_ended = j.value("runs_ended", r->attempts);
    r->created = j.value("created", "");
    r->updated = j.value("updated", "");
  } catch (const std::exception& e) {
    return base::Status::Corruption(std::string("task record: ") + e.what());
  }
  return base::Status::OK();
}

std::string TaskEventJson(const TaskRecord& r) {
  json ev = {{"event", "task"},
             {"task_id", r.id},
             {"state", TaskStateName(r.state)},
             {"progress", r.progress},
             {"phase_bytes_done", r.phase_bytes_done},
             {"phase_bytes_total", r.phase_bytes_total}};
  return Dump(ev, -1);
}

}  // namespace vhdsm
