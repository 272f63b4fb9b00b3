// Authentication against Swift's auth (v1.0) or Keystone (v2.0, v3), giving
// a token and the storage URL to use it with.
//
//   v1.0  GET <url> with X-Auth-User / X-Auth-Key  ->  X-Auth-Token,
//         X-Storage-Url (tempauth, swauth, Rackspace legacy auth)
//   v2.0  POST <url>/tokens, JSON passwordCredentials {username, password}
//         or, with api_key, Rackspace's RAX-KSKEY:apiKeyCredentials
//         {username, apiKey}; optional tenantName  ->  access.token.id and
//         access.serviceCatalog
//   v3    POST <url>/auth/tokens, password method (user name + domain),
//         optional project scope  ->  X-Subject-Token header and
//         token.catalog
// `url` may be given with or without the trailing /tokens (/auth/tokens).
// From a catalog, the endpoint is the first of type `service_type`
// ("object-store") whose region equals `region` (any region if empty) and
// whose interface is `interface` ("public", or "internal" for Rackspace
// ServiceNet; v2's publicURL/internalURL). `storage_url`, if set, overrides
// whatever the service returns.
//
// One exchange, no retries (SwiftSession applies its RetryPolicy). The key
// never appears in a Status message. *retryable tells the caller whether a
// failure was transient (no response, 408/429/5xx).
#ifndef VHDSM_UPLOAD_AUTH_H_
#define VHDSM_UPLOAD_AUTH_H_

#include <string>

#include "base/status.h"
#include "upload/http_transport.h"

namespace upload {

enum class AuthVersion { kV1, kV2, kV3 };

// "1" / "1.0" / "2" / "2.0" / "3" (and "v"-prefixed forms).
bool ParseAuthVersion(const std::string& s, AuthVersion* version);

struct AuthOptions {
  AuthVersion version = AuthVersion::kV1;
  std::string url;
  std::string user;  // v1: "account:user"
  std::string key;   // secret: v1 key, v2/v3 password, or v2 API key
  bool api_key = false;
  std::string tenant;  // v2 tenantName / v3 project name; optional
  std::string user_domain = "Default";     // v3
  std::string project_domain = "Default";  // v3
  std::string region;
  std::string interface = "public";
  std::string service_type = "object-store";
  std::string storage_url;
};

struct AuthResult {
  std::string token;
  std::string storage_url;  // without a trailing '/'
};

base::Status Authenticate(HttpTransport* http, const AuthOptions& options,
                          AuthResult* result, bool* retryable);

// The JSON halves, separately testable. `body` is the identity response.
base::Status ParseV2Access(const std::string& body, const AuthOptions& options,
                           AuthResult* result);
base::Status ParseV3Catalog(const std::string& body, const AuthOptions& options,
                            AuthResult* result);

// The request bodies (they contain the secret: never log them).
std::string V2RequestBody(const AuthOptions& options);
std::string V3RequestBody(const AuthOptions& options);

}  // namespace upload

#endif  // VHDSM_UPLOAD_AUTH_H_
