// FileLock: an flock(2) on a file, held for the object's lifetime.
//
// SR metadata changes hold the SR's lock; one GC per SR holds the GC lock.
// flock locks belong to the open file description, so they work across
// processes (VHDSR calls, vhdsmd) and, on NFS, across hosts where the server
// supports them.
#ifndef VHDSM_SM_FILE_LOCK_H_
#define VHDSM_SM_FILE_LOCK_H_

#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"

namespace vhdsm {

class FileLock {
 public:
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Blocks until the exclusive lock on `path` (created if missing, through
  // `env`: an SR's lock never leaves the SR) is held.
  static base::Status Acquire(base::Env* env, const std::string& path,
                              std::unique_ptr<FileLock>* lock);
  // As Acquire, but fails with kBusy at once if someone else holds it.
  static base::Status TryAcquire(base::Env* env, const std::string& path,
                                 std::unique_ptr<FileLock>* lock);

 private:
  explicit FileLock(std::unique_ptr<base::File> file)
      : file_(std::move(file)) {}
  std::unique_ptr<base::File> file_;
};

}  // namespace vhdsm

#endif  // VHDSM_SM_FILE_LOCK_H_
