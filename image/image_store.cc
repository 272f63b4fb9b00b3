#include "image/image_store.h"

#include <syslog.h>

#include <cctype>

#include "base/sanitize.h"
#include "upload/object_names.h"

namespace vhdsm {

namespace {

bool IsInsecureUrl(const std::string& url) {
  std::string scheme = url.substr(0, 7);
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(ch));
  return scheme == "http://";
}

std::string HowToAllow(const ImageParams& p) {
  return p.store.empty() ? "set the image member allow_insecure = true, or "
                           "vhdsm image create --allow-insecure"
                         : "set allow_insecure = true in [store " + p.store +
                               "] of vhdsm.conf";
}

// Refuses an http:// auth URL unless `allowed`; logs every allowed use.
base::Status CheckInsecure(const std::string& url, bool allowed,
                           const ImageParams& p) {
  if (!IsInsecureUrl(url)) return base::Status::OK();
  std::string u = base::SanitizeText(url, 256);
  if (!allowed) {
    return base::Status::InvalidArgument(
        "image: auth_url " + u +
        " is not https: credentials would cross the network in clear (" +
        HowToAllow(p) + " to allow it)");
  }
  syslog(LOG_WARNING,
         "vhdsm: using insecure auth_url %s: credentials and token are sent "
         "unencrypted",
         u.c_str());
  return base::Status::OK();
}

base::Status CheckShape(const ImageParams& p) {
  if (p.container.empty() || p.object.empty()) {
    return base::Status::InvalidArgument(
        "image: container and object are required");
  }
  // Swift's name rules, before any task exists: "a/../../AUTH_x/c/o" must
  // never reach a URL.
  for (const base::Status& s : {upload::CheckContainerName(p.container),
                                upload::CheckObjectName(p.object)}) {
    if (!s.ok()) return base::Status::InvalidArgument("image: " + s.message());
  }
  if (p.format != "vhd" && p.format != "tgz") {
    return base::Status::InvalidArgument("image: format must be vhd or tgz");
  }
  if (p.manifest != "slo" && p.manifest != "dlo") {
    return base::Status::InvalidArgument("image: manifest must be slo or dlo");
  }
  if (p.segment_size < 1 || p.segment_size > upload::kMaxSegmentSize) {
    return base::Status::InvalidArgument("image: segment_size out of range");
  }
  if (p.compression_level < 0 || p.compression_level > 9) {
    return base::Status::InvalidArgument("image: compression level 0..9");
  }
  return base::Status::OK();
}

}  // namespace

base::Status CheckImageParams(const ImageParams& p, const StoreMap& stores,
                              bool have_inline_key) {
  RETURN_IF_ERROR(CheckShape(p));
  if (p.store.empty()) {
    if (p.auth_url.empty() || p.user.empty() || !have_inline_key) {
      return base::Status::InvalidArgument(
          "image: name a configured store, or give auth_url, user and key");
    }
    return CheckInsecure(p.auth_url, p.allow_insecure, p);
  }
  auto it = stores.find(p.store);
  if (it == stores.end()) {
    return base::Status::InvalidArgument("image: no store '" + p.store +
                                         "' is configured");
  }
  return CheckInsecure(it->second.auth_url, it->second.allow_insecure, p);
}

base::Status ResolveStore(const ImageParams& p, const StoreMap& stores,
                          const std::string& inline_key,
                          double retry_delay_scale, upload::SwiftStore* store) {
  *store = upload::SwiftStore();
  if (!p.store.empty()) {
    auto it = stores.find(p.store);
    if (it == stores.end()) {
      return base::Status::InvalidArgument("store '" + p.store +
                                           "' is not configured");
    }
    const StoreConfig& sc = it->second;
    RETURN_IF_ERROR(CheckInsecure(sc.auth_url, sc.allow_insecure, p));
    upload::ParseAuthVersion(sc.auth_version, &store->auth.version);
    store->auth.url = sc.auth_url;
    store->auth.user = sc.user;
    store->auth.key = sc.key;
    store->auth.tenant = sc.tenant;
    store->auth.region = sc.region;
    store->http.tls.ca_file = sc.ca_bundle;
    store->http.connect_timeout_s = sc.connect_timeout_s;
    store->http.stall_timeout_s = sc.stall_timeout_s;
    store->retry.max_attempts = static_cast<int>(sc.retries);
  } else {
    RETURN_IF_ERROR(CheckInsecure(p.auth_url, p.allow_insecure, p));
    upload::ParseAuthVersion(p.auth_version, &store->auth.version);
    store->auth.url = p.auth_url;
    store->auth.user = p.user;
    store->auth.key = inline_key;
    store->auth.tenant = p.tenant;
    store->auth.region = p.region;
    store->auth.api_key = p.api_key;
  }
  if (retry_delay_scale > 0) store->retry.delay_scale = retry_delay_scale;
  return base::Status::OK();
}

}  // namespace vhdsm
