#include "upload/slo_manifest.h"

#include <nlohmann/json.hpp>

#include "upload/md5.h"

namespace upload {

std::string SloManifestJson(const std::vector<ManifestEntry>& entries) {
  nlohmann::json list = nlohmann::json::array();
  for (const ManifestEntry& e : entries) {
    list.push_back(
        {{"path", e.path}, {"etag", e.etag}, {"size_bytes", e.size}});
  }
  return list.dump();
}

std::string LargeObjectEtag(const std::vector<ManifestEntry>& entries) {
  Md5 md5;
  for (const ManifestEntry& e : entries)
    md5.Update(e.etag.data(), e.etag.size());
  return md5.Hex();
}

uint64_t TotalSize(const std::vector<ManifestEntry>& entries) {
  uint64_t total = 0;
  for (const ManifestEntry& e : entries) total += e.size;
  return total;
}

}  // namespace upload
