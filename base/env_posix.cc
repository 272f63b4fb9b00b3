// POSIX implementation of Env (Env::Default()).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/env.h"

namespace base {
namespace {

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, void* buf) override {
    size_t got = 0;
    RETURN_IF_ERROR(ReadSome(offset, n, buf, &got));
    if (got != n) {
      return Status::Corruption("short read in " + path_ + " at offset " +
                                std::to_string(offset) + ": wanted " +
                                std::to_string(n) + " bytes, file ends after " +
                                std::to_string(got));
    }
    return Status::OK();
  }

  Status ReadSome(uint64_t offset, size_t n, void* buf, size_t* got) override {
    char* p = static_cast<char*>(buf);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, p + done, n - done, offset + done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "read " + path_);
      }
      if (r == 0) break;
      done += r;
    }
    *got = done;
    return Status::OK();
  }

  Status Write(uint64_t offset, const void* buf, size_t n) override {
    const char* p = static_cast<const char*>(buf);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pwrite(fd_, p + done, n - done, offset + done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + path_);
      }
      done += r;
    }
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, size) != 0) {
      return Status::FromErrno(errno, "truncate " + path_);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "sync " + path_);
    return Status::OK();
  }

  Status Size(uint64_t* size) override {
    struct stat st;
    if (::fstat(fd_, &st) != 0)
      return Status::FromErrno(errno, "stat " + path_);
    *size = st.st_size;
    return Status::OK();
  }

  Status CopyTo(File* dst, uint64_t src_off, uint64_t dst_off,
                uint64_t n) override {
    int dfd = dst->fd();
    if (dfd < 0 || kernel_copy_failed_) {
      return File::CopyTo(dst, src_off, dst_off, n);
    }
    loff_t in = src_off, out = dst_off;
    while (n > 0) {
      ssize_t r = ::copy_file_range(fd_, &in, dfd, &out, n, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
            errno == EOPNOTSUPP) {
          kernel_copy_failed_ = true;
          return File::CopyTo(dst, in, out, n);
        }
        return Status::FromErrno(errno, "copy " + path_ + " to " + dst->path());
      }
      if (r == 0) {
        return Status::Corruption("short read in " + path_ + " at offset " +
                                  std::to_string(in));
      }
      n -= r;
    }
    return Status::OK();
  }

  Status Reserve(uint64_t offset, uint64_t n) override {
    int r;
    do {
      r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, offset, n);
    } while (r != 0 && errno == EINTR);
    if (r == 0) return Status::OK();
    int err = errno;
    if (err == EOPNOTSUPP || err == ENOSYS) return Status::OK();
    // A failed fallocate may hold part of the range: past EOF, give it back.
    uint64_t size = 0;
    if (Size(&size).ok()) (void)Truncate(size);
    return Status::FromErrno(
        err, "reserve " + std::to_string(n) + " bytes in " + path_);
  }

  void StartWriteback(uint64_t offset, uint64_t n) override {
    ::sync_file_range(fd_, offset, n, SYNC_FILE_RANGE_WRITE);
  }

  Status WriteBack(uint64_t offset, uint64_t n) override {
    constexpr unsigned kWriteAndWait = SYNC_FILE_RANGE_WAIT_BEFORE |
                                       SYNC_FILE_RANGE_WRITE |
                                       SYNC_FILE_RANGE_WAIT_AFTER;
    if (::sync_file_range(fd_, offset, n, kWriteAndWait) == 0) {
      return Status::OK();
    }
    // Filesystems without it (EINVAL/ESPIPE) get the stronger fdatasync.
    if (errno == EINVAL || errno == ESPIPE || errno == ENOSYS) return Sync();
    return Status::FromErrno(errno, "write back " + path_);
  }

  const std::string& path() const override { return path_; }
  int fd() const override { return fd_; }

 private:
  int fd_;
  std::string path_;
  bool kernel_copy_failed_ = false;
};

class PosixEnv : public Env {
 public:
  Status Open(const std::string& path, OpenMode mode,
              std::unique_ptr<File>* file) override {
    int fd = ::open(path.c_str(), OpenFlags(mode), 0644);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + " is a directory");
    }
    file->reset(new PosixFile(fd, path));
    return Status::OK();
  }

  Status Mkdir(const std::string& dir, int mode) override {
    if (::mkdir(dir.c_str(), mode) != 0) {
      return Status::FromErrno(errno, "mkdir " + dir);
    }
    return Status::OK();
  }

  Status Realpath(const std::string& path, std::string* out) override {
    char* r = ::realpath(path.c_str(), nullptr);
    if (r == nullptr) return Status::FromErrno(errno, "resolve " + path);
    *out = r;
    std::free(r);
    return Status::OK();
  }

  Status StatFs(const std::string& path, FsInfo* info) override {
    int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "statfs " + path);
    Status s = StatFsOfFd(fd, path, info);
    ::close(fd);
    return s;
  }

  Status Stat(const std::string& path, FileInfo* info) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return Status::FromErrno(errno, "stat " + path);
    }
    info->size = st.st_size;
    info->mtime = st.st_mtime;
    info->dev = st.st_dev;
    info->ino = st.st_ino;
    info->is_regular = S_ISREG(st.st_mode);
    info->is_dir = S_ISDIR(st.st_mode);
    struct stat lst;
    info->is_symlink = ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(errno, "rename " + from + " to " + to);
    }
    return Status::OK();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno(errno, "link " + from + " to " + to);
    }
    return Status::OK();
  }

  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      return Status::FromErrno(errno, "unlink " + path);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open dir " + dir);
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return Status::FromErrno(err, "sync dir " + dir);
    return Status::OK();
  }

  Status ListDir(const std::string& dir,
                 std::vector<std::string>* names) override {
    names->clear();
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open dir " + dir);
    return ListDirFd(fd, dir, names);
  }
};

}  // namespace

std::unique_ptr<File> NewFdFile(int fd, const std::string& path) {
  return std::make_unique<PosixFile>(fd, path);
}

Status ListDirFd(int dir_fd, const std::string& path,
                 std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::fdopendir(dir_fd);
  if (d == nullptr) {
    int err = errno;
    ::close(dir_fd);
    return Status::FromErrno(err, "open dir " + path);
  }
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names->emplace_back(e->d_name);
    }
    errno = 0;
  }
  int err = errno;  // readdir's end and its failure differ only in errno
  ::closedir(d);
  if (err != 0) return Status::FromErrno(err, "read dir " + path);
  return Status::OK();
}

int OpenFlags(Env::OpenMode mode) {
  switch (mode) {
    case Env::OpenMode::kReadOnly:
      return O_CLOEXEC | O_RDONLY;
    case Env::OpenMode::kReadWrite:
      return O_CLOEXEC | O_RDWR;
    case Env::OpenMode::kCreateExclusive:
      return O_CLOEXEC | O_RDWR | O_CREAT | O_EXCL;
    case Env::OpenMode::kCreateTruncate:
      return O_CLOEXEC | O_RDWR | O_CREAT | O_TRUNC;
  }
  return O_CLOEXEC | O_RDONLY;  // not reached: every mode is listed above
}

Status StatFsOfFd(int fd, const std::string& what, FsInfo* info) {
  struct statvfs st;
  if (::fstatvfs(fd, &st) != 0) {
    return Status::FromErrno(errno, "statfs " + what);
  }
  info->total = uint64_t{st.f_blocks} * st.f_frsize;
  info->free = uint64_t{st.f_bfree} * st.f_frsize;
  info->available = uint64_t{st.f_bavail} * st.f_frsize;
  return Status::OK();
}

Env* Env::Default() {
  // Never destroyed (threads may use it during exit), and not on the heap:
  // a plugin host that dlcloses libvhdsm must not see it as a leak.
  alignas(PosixEnv) static unsigned char storage[sizeof(PosixEnv)];
  static PosixEnv* env = new (storage) PosixEnv();
  return env;
}

}  // namespace base
