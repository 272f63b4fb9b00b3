// The parameters of an image, one type from the wire to the uploader, and
// the object stores a host configures.
//
// ImageParams' member initializers are the ONE statement of the image
// defaults. A host's [image] section (host/config.h) overrides them, and
// ImageService hands the result to whoever builds an ImageParams for a new
// task (ImageService::defaults()) and to TaskRecord::FromJson for members a
// record lacks.
#ifndef VHDSM_IMAGE_IMAGE_PARAMS_H_
#define VHDSM_IMAGE_IMAGE_PARAMS_H_

#include <cstdint>
#include <string>

namespace vhdsm {

struct ImageParams {
  std::string store;  // a configured store's name, or "" for inline auth
  std::string auth_url;
  std::string auth_version = "1";
  std::string user;
  std::string tenant;
  std::string region;
  bool api_key = false;  // Rackspace RAX-KSKEY API key credentials (v2)
  std::string container;
  std::string object;
  std::string format = "vhd";    // vhd | tgz
  std::string manifest = "slo";  // slo | dlo
  uint64_t segment_size = 100ull << 20;
  int compression_level = 6;
  int parallel_segments = 2;
  bool keep_segments = false;  // on failure or cancel
  // Inline auth only: an http:// auth_url is refused unless this is set
  // (a configured store says so in its own section).
  bool allow_insecure = false;
};

// A [store NAME] section: an object store image tasks name by NAME.
struct StoreConfig {
  std::string name;
  std::string auth_url;
  std::string auth_version = "1";
  std::string user;
  std::string key;
  std::string tenant;
  std::string region;
  std::string ca_bundle;
  bool allow_insecure = false;
  unsigned connect_timeout_s = 10;
  unsigned stall_timeout_s = 60;
  unsigned retries = 6;
};

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_IMAGE_PARAMS_H_
