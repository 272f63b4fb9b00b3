#include "plugin/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace vhdsm {

namespace {

vhd::Status Lock(const std::string& path, bool wait, int* fd_out) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return vhd::Status::FromErrno(errno, "open lock " + path);
  for (;;) {
    if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) break;
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return vhd::Status::Busy(path + " is locked");
    return vhd::Status::FromErrno(err, "lock " + path);
  }
  *fd_out = fd;
  return vhd::Status::OK();
}

}  // namespace

FileLock::~FileLock() { ::close(fd_); }

vhd::Status FileLock::Acquire(const std::string& path,
                              std::unique_ptr<FileLock>* lock) {
  int fd = -1;
  VHD_RETURN_IF_ERROR(Lock(path, true, &fd));
  lock->reset(new FileLock(fd));
  return vhd::Status::OK();
}

vhd::Status FileLock::TryAcquire(const std::string& path,
                                 std::unique_ptr<FileLock>* lock) {
  int fd = -1;
  VHD_RETURN_IF_ERROR(Lock(path, false, &fd));
  lock->reset(new FileLock(fd));
  return vhd::Status::OK();
}

}  // namespace vhdsm
