// Test helpers for the upload suites: a private Swift all-in-one (started by
// scripts/saio.sh on first use, stopped when the test program ends, and by
// saio.sh's watchdog if the program dies), background processes, the test
// identity service, disk-like images and Swift listings.
#ifndef VHDSM_TESTS_UPLOAD_SWIFT_FIXTURE_H_
#define VHDSM_TESTS_UPLOAD_SWIFT_FIXTURE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/util/test_util.h"
#include "upload/image_stream.h"
#include "upload/uploader.h"

namespace uploadtest {

struct Saio {
  std::string root;      // SAIO_ROOT
  std::string auth_url;  // v1.0
  std::string user = "test:tester";
  std::string key = "testing";
  std::string storage_url;  // http://127.0.0.1:PORT/v1/AUTH_test
  int replicas = 1;         // SAIO_REPLICAS the test program was started with
};

// Starts Swift if not yet running (once per test program) and returns it,
// with SAIO_REPLICAS from this process's environment (default 1).
// Sets ST_AUTH/ST_USER/ST_KEY in this process's environment for `swift`.
// Aborts the program if Swift cannot start (every Swift test would fail).
const Saio& Swift();

// Runs scripts/saio.sh with the test Swift's root; returns its exit code.
int SaioCommand(const std::vector<std::string>& args);
// Sets a proxy fault (JSON spec, see scripts/saio/saio_fault.py); "clear".
void SetFault(const std::string& spec);
// How many requests the last fault spec hit.
int FaultHits();

// A v1.0 store for the test Swift with fast retries (10 ms doubling, 6
// attempts) so that fault tests take seconds.
upload::SwiftStore V1Store();

// Runs a program to completion with extra environment; returns exit code.
int RunWithEnv(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env, std::string* out,
               std::string* err);

// A child process running in the background, stdout and stderr to files.
// The destructor kills (SIGKILL) and reaps it if it still runs.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out_path,
        const std::string& err_path,
        const std::map<std::string, std::string>& env = {});
  ~Child();
  pid_t pid() const { return pid_; }
  // Waits for exit; returns the exit code (-1 if killed by a signal).
  int Wait();
  bool Running();
  void Kill(int sig);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// The identity service for Keystone v2.0/v3 tests (tests/upload/
// identity_stub.py on 127.0.0.1), whose catalog points at the test Swift.
class IdentityStub {
 public:
  // Starts it (over HTTPS with a fresh self-signed certificate for
  // 127.0.0.1 if `tls`); a failure to start fails the test.
  explicit IdentityStub(bool tls = false);
  ~IdentityStub();
  const std::string& url() const { return url_; }  // http(s)://127.0.0.1:N
  std::string cert_path() const { return dir_ + "/cert.pem"; }

 private:
  std::unique_ptr<testutil::TempDir> tmp_;
  std::string dir_;
  std::unique_ptr<Child> child_;
  std::string url_;
};

// Disk-like bytes: random, text-like and zero runs, deterministic in seed.
std::string DiskLikeImage(size_t size, uint64_t seed);

// Names (and MD5s) of objects under `prefix` in `container`.
std::map<std::string, std::string> ListObjects(const std::string& container,
                                               const std::string& prefix);
// Downloads an object with python-swiftclient's `swift download` (an
// independent client: it follows SLO and DLO manifests) and returns it.
std::string SwiftDownload(const std::string& container,
                          const std::string& object);

// Gunzips with zlib (gzip framing, all members).
std::string Gunzip(const std::string& gz);

// Repository root (for scripts/ and tests/ files).
std::string SourceRoot();

// Uploads `image` in `format` (gzip level 6, ISA-L) with `options`.
base::Status UploadImage(const upload::SwiftStore& store,
                         const upload::UploadOptions& options,
                         const std::string& image, upload::ImageFormat format,
                         upload::UploadResult* result);

// A container name unique to the running test ("t-<suite>-<name>").
std::string TestContainer();

}  // namespace uploadtest

#endif  // VHDSM_TESTS_UPLOAD_SWIFT_FIXTURE_H_
