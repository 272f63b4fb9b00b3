#include "upload/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace upload {

base::Status FileSource::Open(const std::string& path,
                              std::unique_ptr<FileSource>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::Status::FromErrno(errno, "open " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return base::Status::FromErrno(err, "stat " + path);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
      int err = errno;
      ::close(fd);
      return base::Status::FromErrno(err, "size of " + path);
    }
    size = static_cast<uint64_t>(end);
  }
  // The whole file is read once, front to back.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  out->reset(new FileSource(fd, path, size, st.st_mtime));
  return base::Status::OK();
}

FileSource::FileSource(int fd, std::string path, uint64_t size, int64_t mtime)
    : fd_(fd), path_(std::move(path)), size_(size), mtime_(mtime) {}

FileSource::~FileSource() { ::close(fd_); }

base::Status FileSource::Read(uint8_t* buf, size_t n, size_t* got) {
  *got = 0;
  uint64_t off = offset_.load(std::memory_order_relaxed);
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - off));
  while (n > 0) {
    ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return base::Status::FromErrno(errno, "read " + path_);
    }
    if (r == 0) {
      return base::Status::Corruption(path_ + ": file shrank while reading");
    }
    *got = static_cast<size_t>(r);
    offset_.store(off + *got, std::memory_order_relaxed);
    break;
  }
  return base::Status::OK();
}

SourceProgress FileSource::Progress() const {
  return {offset_.load(std::memory_order_relaxed), static_cast<int64_t>(size_)};
}

base::Status StringSource::Read(uint8_t* buf, size_t n, size_t* got) {
  uint64_t off = offset_.load(std::memory_order_relaxed);
  *got = static_cast<size_t>(std::min<uint64_t>(n, data_.size() - off));
  std::memcpy(buf, data_.data() + off, *got);
  offset_.store(off + *got, std::memory_order_relaxed);
  return base::Status::OK();
}

SourceProgress StringSource::Progress() const {
  return {offset_.load(std::memory_order_relaxed),
          static_cast<int64_t>(data_.size())};
}

base::Status ReadFully(ByteSource* src, uint8_t* buf, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    size_t r = 0;
    RETURN_IF_ERROR(src->Read(buf + *got, n - *got, &r));
    if (r == 0) break;
    *got += r;
  }
  return base::Status::OK();
}

}  // namespace upload
