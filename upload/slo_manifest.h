// Static Large Object manifests (Swift's slo middleware).
//
// A manifest is a JSON array of {"path": "/<container>/<object>",
// "etag": "<md5 hex>", "size_bytes": N}, PUT with ?multipart-manifest=put.
// Swift HEADs every entry and refuses the manifest (400) on a missing
// segment or an etag/size mismatch. The large object's ETag is the MD5 of
// the concatenated entry etags (hex strings, no separators); sent as the
// manifest PUT's ETag header, Swift checks it too (422 on mismatch). An
// entry may itself be an SLO (its etag is then that SLO's ETag): nesting
// lifts the 1,000-entry limit of one manifest to 1,000 x 1,000 segments.
#ifndef VHDSM_UPLOAD_SLO_MANIFEST_H_
#define VHDSM_UPLOAD_SLO_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

namespace upload {

struct ManifestEntry {
  std::string path;  // "/<container>/<object>", not URL-encoded
  std::string etag;  // MD5 hex (for a sub-SLO: its SLO ETag)
  uint64_t size = 0;
};

std::string SloManifestJson(const std::vector<ManifestEntry>& entries);
// MD5 hex of the concatenated etags: the ETag Swift gives the large object
// (SLO, and DLO over the same segments).
std::string LargeObjectEtag(const std::vector<ManifestEntry>& entries);
uint64_t TotalSize(const std::vector<ManifestEntry>& entries);

}  // namespace upload

#endif  // VHDSM_UPLOAD_SLO_MANIFEST_H_
