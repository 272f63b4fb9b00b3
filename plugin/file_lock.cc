#include "plugin/file_lock.h"

#include <sys/file.h>

#include <cerrno>

namespace vhdsm {

namespace {

// Opens the lock file, creating it if missing (without truncating a lock
// another process holds: the file is empty anyway, but stays the same inode).
vhd::Status OpenLockFile(vhd::Env* env, const std::string& path,
                         std::unique_ptr<vhd::File>* file) {
  for (int tries = 0;; ++tries) {
    vhd::Status s = env->Open(path, vhd::Env::OpenMode::kReadWrite, file);
    if (s.code() != vhd::Code::kNotFound || tries == 3) return s;
    s = env->Open(path, vhd::Env::OpenMode::kCreateExclusive, file);
    if (s.code() != vhd::Code::kExists) return s;
  }
}

vhd::Status Lock(vhd::Env* env, const std::string& path, bool wait,
                 std::unique_ptr<vhd::File>* out) {
  std::unique_ptr<vhd::File> file;
  vhd::Status s = OpenLockFile(env, path, &file);
  if (!s.ok()) return s.Annotate("open lock");
  if (file->fd() < 0) {
    return vhd::Status::NotSupported("lock " + path + ": no descriptor");
  }
  for (;;) {
    if (::flock(file->fd(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return vhd::Status::Busy(path + " is locked");
    return vhd::Status::FromErrno(errno, "lock " + path);
  }
  *out = std::move(file);
  return vhd::Status::OK();
}

}  // namespace

FileLock::~FileLock() = default;  // closing the file releases the lock

vhd::Status FileLock::Acquire(vhd::Env* env, const std::string& path,
                              std::unique_ptr<FileLock>* lock) {
  std::unique_ptr<vhd::File> file;
  VHD_RETURN_IF_ERROR(Lock(env, path, true, &file));
  lock->reset(new FileLock(std::move(file)));
  return vhd::Status::OK();
}

vhd::Status FileLock::TryAcquire(vhd::Env* env, const std::string& path,
                                 std::unique_ptr<FileLock>* lock) {
  std::unique_ptr<vhd::File> file;
  VHD_RETURN_IF_ERROR(Lock(env, path, false, &file));
  lock->reset(new FileLock(std::move(file)));
  return vhd::Status::OK();
}

}  // namespace vhdsm
