#include "sm/vdi_meta.h"

#include <nlohmann/json.hpp>

namespace vhdsm {

std::string VdiMeta::ToJson() const {
  nlohmann::json j = {
      {"name_label", name_label},
      {"name_description", name_description},
      {"type", type},
      {"read_only", read_only},
      {"managed", managed},
      {"is_a_snapshot", is_a_snapshot},
      {"snapshot_of", snapshot_of},
      {"snapshot_time", snapshot_time},
  };
  // Names may come from any caller: never throw on invalid UTF-8.
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

base::Status VdiMeta::FromJson(const std::string& text, VdiMeta* meta) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::Status::Corruption("VDI metadata is not a JSON object");
  }
  *meta = VdiMeta();
  auto str = [&](const char* k, std::string* out) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) *out = it->get<std::string>();
  };
  auto flag = [&](const char* k, bool* out) {
    auto it = j.find(k);
    if (it != j.end() && it->is_boolean()) *out = it->get<bool>();
  };
  str("name_label", &meta->name_label);
  str("name_description", &meta->name_description);
  str("type", &meta->type);
  flag("read_only", &meta->read_only);
  flag("managed", &meta->managed);
  flag("is_a_snapshot", &meta->is_a_snapshot);
  str("snapshot_of", &meta->snapshot_of);
  str("snapshot_time", &meta->snapshot_time);
  return base::Status::OK();
}

std::string MetaStore::Path(const std::string& uuid) const {
  return dir_ + "/" + uuid + ".json";
}

base::Status MetaStore::Get(const std::string& uuid, VdiMeta* meta) {
  std::string text;
  base::Status s = base::ReadFileToString(env_, Path(uuid), &text, 1 << 20);
  if (s.code() == base::Code::kNotFound) {
    *meta = VdiMeta();
    return base::Status::OK();
  }
  RETURN_IF_ERROR(s);
  return VdiMeta::FromJson(text, meta);
}

base::Status MetaStore::Put(const std::string& uuid, const VdiMeta& meta) {
  return base::WriteFileAtomic(env_, Path(uuid), meta.ToJson());
}

base::Status MetaStore::Remove(const std::string& uuid) {
  base::Status s = env_->Unlink(Path(uuid));
  if (s.code() == base::Code::kNotFound) return base::Status::OK();
  return s;
}

}  // namespace vhdsm
