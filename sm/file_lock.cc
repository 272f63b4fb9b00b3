#include "sm/file_lock.h"

#include <sys/file.h>

#include <cerrno>

namespace vhdsm {

namespace {

// Opens the lock file, creating it if missing (without truncating a lock
// another process holds: the file is empty anyway, but stays the same inode).
base::Status OpenLockFile(base::Env* env, const std::string& path,
                          std::unique_ptr<base::File>* file) {
  for (int tries = 0;; ++tries) {
    base::Status s = env->Open(path, base::Env::OpenMode::kReadWrite, file);
    if (s.code() != base::Code::kNotFound || tries == 3) return s;
    s = env->Open(path, base::Env::OpenMode::kCreateExclusive, file);
    if (s.code() != base::Code::kExists) return s;
  }
}

base::Status Lock(base::Env* env, const std::string& path, bool wait,
                  std::unique_ptr<base::File>* out) {
  std::unique_ptr<base::File> file;
  base::Status s = OpenLockFile(env, path, &file);
  if (!s.ok()) return s.Annotate("open lock");
  if (file->fd() < 0) {
    return base::Status::NotSupported("lock " + path + ": no descriptor");
  }
  for (;;) {
    if (::flock(file->fd(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return base::Status::Busy(path + " is locked");
    return base::Status::FromErrno(errno, "lock " + path);
  }
  *out = std::move(file);
  return base::Status::OK();
}

}  // namespace

FileLock::~FileLock() = default;  // closing the file releases the lock

base::Status FileLock::Acquire(base::Env* env, const std::string& path,
                               std::unique_ptr<FileLock>* lock) {
  std::unique_ptr<base::File> file;
  RETURN_IF_ERROR(Lock(env, path, true, &file));
  lock->reset(new FileLock(std::move(file)));
  return base::Status::OK();
}

base::Status FileLock::TryAcquire(base::Env* env, const std::string& path,
                                  std::unique_ptr<FileLock>* lock) {
  std::unique_ptr<base::File> file;
  RETURN_IF_ERROR(Lock(env, path, false, &file));
  lock->reset(new FileLock(std::move(file)));
  return base::Status::OK();
}

}  // namespace vhdsm
