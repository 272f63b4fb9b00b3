// An in-memory Swift account behind an HttpScript, enough for the uploader:
// v1.0 auth (each call hands out a new token: "tok-1", "tok-2", ...; only
// the latest is accepted, so a test expires a token by re-authenticating or
// with ExpireToken()), container PUT, object PUT (422 when an ETag header
// differs from the body's MD5), SLO manifests (?multipart-manifest=put with
// the ETag Swift computes), DLO manifests, JSON listings with prefix, marker
// and limit, HEAD, GET (an object's own bytes; a manifest's JSON), and
// DELETE (?multipart-manifest=delete included).
// GET /info answers 404 (an old cluster: the defaults apply).
//
//   auth URL     https://auth.test/auth/v1.0   user "acct:user", key "secret"
//   storage URL  https://swift.test/v1/AUTH_t
//
// Faults are queued on the script (HttpScript::Queue) and take precedence.
#ifndef VHDSM_TESTS_UPLOAD_FAKE_SWIFT_H_
#define VHDSM_TESTS_UPLOAD_FAKE_SWIFT_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "tests/upload/scripted_transport.h"
#include "upload/uploader.h"

namespace uploadtest {

class FakeSwift {
 public:
  static constexpr const char* kAuthUrl = "https://auth.test/auth/v1.0";
  static constexpr const char* kStorageUrl = "https://swift.test/v1/AUTH_t";

  struct Object {
    std::string data;  // a manifest's JSON, for an SLO
    std::string etag;  // unquoted
    uint64_t size = 0;
    bool slo = false;
    std::string dlo_prefix;  // "<container>/<prefix>" for a DLO
  };

  // Installs the account's rules on `script`, which must outlive nothing
  // of this object (both live in the test).
  explicit FakeSwift(HttpScript* script);

  // A store for this account: fast, exact retries (no delay, no jitter).
  upload::SwiftStore Store() const;

  // Objects by "<container>/<name>" (decoded).
  std::map<std::string, Object> Objects() const;
  void PutObject(const std::string& container, const std::string& name,
                 const std::string& data);
  // The current token stops being accepted (401) until the next auth.
  void ExpireToken();
  std::string token() const;

 private:
  Reply Auth(const Exchange& e);
  Reply Storage(const Exchange& e);
  Reply Put(const std::string& container, const std::string& object,
            const std::string& query, const Exchange& e);
  Reply List(const std::string& container, const std::string& query);
  Reply Head(const std::string& key);
  Reply Delete(const std::string& key, const std::string& query);
  // The size and ETag a HEAD reports for `o`.
  void Describe(const Object& o, uint64_t* size, std::string* etag) const;

  HttpScript* script_;
  mutable std::mutex mu_;
  int auths_ = 0;
  std::string token_;
  std::map<std::string, bool> containers_;
  std::map<std::string, Object> objects_;
};

}  // namespace uploadtest

#endif  // VHDSM_TESTS_UPLOAD_FAKE_SWIFT_H_
