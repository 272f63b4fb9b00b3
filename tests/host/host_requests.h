// Helpers of the host/ suites: SMAPIv1 requests as the host programs send
// them (one struct param; no session_ref, so the plugin works standalone,
// without xapi), a configuration file written into a test directory, and a
// sink that collects the plugin's events for a test to wait on.
#ifndef VHDSM_TESTS_HOST_HOST_REQUESTS_H_
#define VHDSM_TESTS_HOST_HOST_REQUESTS_H_

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/util/test_util.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace hosttest {

// `method` on the SR in `sr_dir` ("" for none), with `members` added to the
// struct and `args` as its args.
inline std::string SmRequest(const std::string& method,
                             const std::string& sr_dir = "",
                             xmlrpc::Struct members = {},
                             xmlrpc::Array args = {}) {
  xmlrpc::Struct dc;
  if (!sr_dir.empty()) dc.Set("location", sr_dir);
  members.Set("command", method);
  members.Set("device_config", dc);
  members.Set("args", args);
  return xmlrpc::WriteMethodCall(xmlrpc::MethodCall{method, {members}}).value();
}

inline xmlrpc::Response ParseReply(const std::string& reply) {
  xmlrpc::Result<xmlrpc::Response> r = xmlrpc::ParseMethodResponse(reply);
  return r.ok() ? r.value() : xmlrpc::Response(r.fault());
}

// Writes `text` as `dir`/vhdsm.conf (mode 0600) and returns its path.
inline std::string WriteConfig(const testutil::TempDir& dir,
                               const std::string& text) {
  std::string path = dir.Join("vhdsm.conf");
  testutil::WriteFile(path, text);
  ::chmod(path.c_str(), 0600);
  return path;
}

// Sets an environment variable (or unsets it, with nullopt) for its scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Collects events from the plugin's threads.
class EventLog {
 public:
  void Add(const std::string& json) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(json);
    cv_.notify_all();
  }
  // The first event containing `needle`, waiting for it at most `limit`
  // (a bound against hanging, generous for a loaded machine, not a timing
  // expectation); nullopt if none came.
  std::optional<std::string> WaitFor(
      const std::string& needle,
      std::chrono::seconds limit = std::chrono::seconds(120)) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<std::string> found;
    cv_.wait_for(lock, limit, [&] {
      for (const std::string& e : events_) {
        if (e.find(needle) != std::string::npos) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

}  // namespace hosttest

#endif  // VHDSM_TESTS_HOST_HOST_REQUESTS_H_
