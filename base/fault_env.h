// FaultInjectionEnv: an Env wrapper for tests that counts mutating calls and
// can fail one of them, or "crash" at one of them.
//
// Mutating calls are Write, Truncate, Sync, WriteBack, CopyTo (on the
// destination), Rename, Link, Unlink, SyncDir and Open with a create mode. A
// simulated crash at call k means calls 0..k-1 took effect and call k and
// everything after it (reads included) fail with kIOError without touching
// the disk: the disk is left exactly as a power cut after call k-1 would
// leave it, given that each call is applied whole. With torn_bytes > 0, the
// crashing Write applies its first torn_bytes bytes before failing.
#ifndef VHDSM_BASE_FAULT_ENV_H_
#define VHDSM_BASE_FAULT_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"

namespace base {

class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // Crash at mutating call number `k` (0-based); -1 disables.
  void CrashAt(int64_t k, size_t torn_bytes = 0) {
    crash_at_ = k;
    torn_bytes_ = torn_bytes;
  }
  // Fail mutating call number `k` once with `status`; later calls succeed.
  void FailAt(int64_t k, Status status) {
    fail_at_ = k;
    fail_status_ = std::move(status);
  }
  // While set, File::Reserve fails with kNoSpace (a full filesystem) and
  // does not count as a mutating call (it changes no byte of any file).
  void SetNoSpace(bool no_space) { no_space_ = no_space; }
  bool no_space() const { return no_space_; }
  // While `status` is not OK, Realpath and StatFs fail with it (they change
  // nothing, so they are not mutating calls and are not counted).
  void FailQueries(Status status) { query_status_ = std::move(status); }
  // Number of mutating calls seen so far (including failed ones).
  int64_t mutations() const { return count_; }
  bool crashed() const { return crashed_; }
  // Every mutating call so far, in order ("write <path>", "link <from>", ...).
  const std::vector<std::string>& history() const { return history_; }
  void Reset() {
    count_ = 0;
    history_.clear();
    crashed_ = false;
    crash_at_ = -1;
    fail_at_ = -1;
  }

  Status Open(const std::string& path, OpenMode mode,
              std::unique_ptr<File>* file) override;
  Status Stat(const std::string& path, FileInfo* info) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status ListDir(const std::string& dir,
                 std::vector<std::string>* names) override;
  Status Mkdir(const std::string& dir, int mode) override;
  Status Realpath(const std::string& path, std::string* out) override;
  Status StatFs(const std::string& path, FsInfo* info) override;
  bool follows_locators() const override { return base_->follows_locators(); }

  // Called before every mutating call; returns non-OK when it must fail.
  // *torn receives how many bytes of a Write still go through.
  Status BeforeMutation(const std::string& what, size_t* torn = nullptr);
  Status BeforeRead(const std::string& what);
  // BeforeRead, then the failure set by FailQueries.
  Status BeforeQuery(const std::string& what);

 private:
  Env* base_;
  int64_t count_ = 0;
  int64_t crash_at_ = -1;
  int64_t fail_at_ = -1;
  size_t torn_bytes_ = 0;
  Status fail_status_;
  Status query_status_;
  bool crashed_ = false;
  bool no_space_ = false;
  std::vector<std::string> history_;
};

}  // namespace base

#endif  // VHDSM_BASE_FAULT_ENV_H_
