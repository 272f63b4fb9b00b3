// Where an image goes, and whether it may: the checks of a new task's
// ImageParams, and the upload::SwiftStore a run uploads to.
//
// A store is named (a [store NAME] section, its key in the configuration)
// or given inline (auth_url, user and a key the task keeps apart). An
// http:// auth_url sends credentials in clear: it is refused unless the
// store (allow_insecure in its section) or the inline params say so, and
// each allowed use logs a warning. Every refusal is kInvalidArgument with a
// message that says how to allow or fix it.
#ifndef VHDSM_IMAGE_IMAGE_STORE_H_
#define VHDSM_IMAGE_IMAGE_STORE_H_

#include <map>
#include <string>

#include "base/status.h"
#include "image/image_params.h"
#include "upload/uploader.h"

namespace vhdsm {

using StoreMap = std::map<std::string, StoreConfig>;

// Refuses params no run could use: names Swift would refuse or misread,
// an unknown format, manifest, segment size or compression level, an
// unknown store, inline auth without auth_url, user or key, an insecure
// auth_url not allowed.
base::Status CheckImageParams(const ImageParams& p, const StoreMap& stores,
                              bool have_inline_key);

// The store the task's image goes to. `inline_key`: the task's own key
// (inline auth only). Backoff delays are multiplied by
// `retry_delay_scale` (> 0; tests shorten them).
base::Status ResolveStore(const ImageParams& p, const StoreMap& stores,
                          const std::string& inline_key,
                          double retry_delay_scale, upload::SwiftStore* store);

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_IMAGE_STORE_H_
