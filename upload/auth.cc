#include "upload/auth.h"

#include <nlohmann/json.hpp>

#include "upload/retry_policy.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

using nlohmann::json;

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

base::Status NoEndpoint(const AuthOptions& o) {
  return MakeError(UploadError::kAuthResponse,
                   "the service catalog has no '" + o.service_type + "' " +
                       o.interface + " endpoint" +
                       (o.region.empty() ? "" : " in region " + o.region));
}

base::Status Finish(const AuthOptions& o, std::string token,
                    std::string storage_url, AuthResult* result) {
  if (!o.storage_url.empty()) storage_url = o.storage_url;
  if (token.empty() || storage_url.empty()) {
    return MakeError(UploadError::kAuthResponse,
                     "the identity service answered without a token or a "
                     "storage URL");
  }
  result->token = std::move(token);
  result->storage_url = TrimSlash(std::move(storage_url));
  return base::Status::OK();
}

// Status for an identity answer that is not a success.
base::Status HttpFailure(const std::string& what, const HttpResponse& r,
                         bool* retryable) {
  *retryable = IsTransientStatus(r.status);
  std::string msg = what + " answered " + std::to_string(r.status);
  if (r.status == 401 || r.status == 403) {
    return MakeError(UploadError::kAuthFailed, msg + " (credentials rejected)");
  }
  return MakeError(
      *retryable ? UploadError::kRetriesExhausted : UploadError::kAuthResponse,
      msg);
}

}  // namespace

bool ParseAuthVersion(const std::string& s, AuthVersion* version) {
  std::string v = s;
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.erase(0, 1);
  if (v == "1" || v == "1.0") {
    *version = AuthVersion::kV1;
  } else if (v == "2" || v == "2.0") {
    *version = AuthVersion::kV2;
  } else if (v == "3") {
    *version = AuthVersion::kV3;
  } else {
    return false;
  }
  return true;
}

std::string V2RequestBody(const AuthOptions& o) {
  json auth;
  if (o.api_key) {
    auth["RAX-KSKEY:apiKeyCredentials"] = {{"username", o.user},
                                           {"apiKey", o.key}};
  } else {
    auth["passwordCredentials"] = {{"username", o.user}, {"password", o.key}};
  }
  if (!o.tenant.empty()) auth["tenantName"] = o.tenant;
  return json{{"auth", auth}}.dump();
}

std::string V3RequestBody(const AuthOptions& o) {
  json identity = {{"methods", {"password"}},
                   {"password",
                    {{"user",
                      {{"name", o.user},
                       {"domain", {{"name", o.user_domain}}},
                       {"password", o.key}}}}}};
  json auth = {{"identity", identity}};
  if (!o.tenant.empty()) {
    auth["scope"] = {
        {"project",
         {{"name", o.tenant}, {"domain", {{"name", o.project_domain}}}}}};
  }
  return json{{"auth", auth}}.dump();
}

base::Status ParseV2Access(const std::string& body, const AuthOptions& o,
                           AuthResult* result) {
  try {
    json j = json::parse(body);
    const json& access = j.at("access");
    std::string token = Str(access.at("token"), "id");
    std::string url;
    const std::string url_key = o.interface + "URL";  // publicURL, internalURL
    for (const json& service : access.value("serviceCatalog", json::array())) {
      if (Str(service, "type") != o.service_type) continue;
      for (const json& ep : service.value("endpoints", json::array())) {
        if (!o.region.empty() && Str(ep, "region") != o.region) continue;
        url = Str(ep, url_key.c_str());
        if (!url.empty()) break;
      }
      if (!url.empty()) break;
    }
    if (url.empty() && o.storage_url.empty()) return NoEndpoint(o);
    return Finish(o, std::move(token), std::move(url), result);
  } catch (const json::exception& e) {
    return MakeError(UploadError::kAuthResponse,
                     std::string("v2.0 token response: ") + e.what());
  }
}

base::Status ParseV3Catalog(const std::string& body, const AuthOptions& o,
                            AuthResult* result) {
  try {
    json j = json::parse(body);
    std::string url;
    for (const json& service : j.at("token").value("catalog", json::array())) {
      if (Str(service, "type") != o.service_type) continue;
      for (const json& ep : service.value("endpoints", json::array())) {
        if (Str(ep, "interface") != o.interface) continue;
        if (!o.region.empty() && Str(ep, "region") != o.region &&
            Str(ep, "region_id") != o.region) {
          continue;
        }
        url = Str(ep, "url");
        if (!url.empty()) break;
      }
      if (!url.empty()) break;
    }
    if (url.empty() && o.storage_url.empty()) return NoEndpoint(o);
    result->storage_url = url;
    return base::Status::OK();
  } catch (const json::exception& e) {
    return MakeError(UploadError::kAuthResponse,
                     std::string("v3 token response: ") + e.what());
  }
}

base::Status Authenticate(HttpTransport* http, const AuthOptions& o,
                          AuthResult* result, bool* retryable) {
  *retryable = false;
  if (o.url.empty()) {
    return MakeError(UploadError::kInvalidArgument, "no auth URL given");
  }
  HttpRequest req;
  HttpResponse resp;
  std::string body;
  std::string what;
  if (o.version == AuthVersion::kV1) {
    req.method = "GET";
    req.url = o.url;
    req.headers = {"X-Auth-User: " + o.user, "X-Auth-Key: " + o.key};
    what = "v1.0 auth at " + o.url;
  } else {
    std::string url = TrimSlash(o.url);
    if (o.version == AuthVersion::kV2) {
      if (!EndsWith(url, "/tokens")) url += "/tokens";
      body = V2RequestBody(o);
      what = "v2.0 identity at " + url;
    } else {
      if (!EndsWith(url, "/auth/tokens")) url += "/auth/tokens";
      body = V3RequestBody(o);
      what = "v3 identity at " + url;
    }
    req.method = "POST";
    req.url = url;
    req.headers = {"Content-Type: application/json", "Accept: application/json",
                   "Expect:"};
    req.body.data = reinterpret_cast<const uint8_t*>(body.data());
    req.body.size = body.size();
  }
  base::Status st = http->Perform(req, &resp);
  if (!st.ok()) {
    *retryable = resp.transport == Transport::kRetryable;
    if (resp.transport == Transport::kCancelled) {
      return MakeError(UploadError::kCancelled, "cancelled during auth");
    }
    return MakeError(
        *retryable ? UploadError::kRetriesExhausted : UploadError::kTransport,
        st.message());
  }
  if (resp.status < 200 || resp.status > 299) {
    return HttpFailure(what, resp, retryable);
  }
  if (o.version == AuthVersion::kV1) {
    return Finish(o, resp.Header("x-auth-token"), resp.Header("x-storage-url"),
                  result);
  }
  if (o.version == AuthVersion::kV2) return ParseV2Access(resp.body, o, result);
  AuthResult catalog;
  RETURN_IF_ERROR(ParseV3Catalog(resp.body, o, &catalog));
  return Finish(o, resp.Header("x-subject-token"), catalog.storage_url, result);
}

}  // namespace upload
