#include "upload/segment_buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace upload {
namespace {

// One Append() step: large enough for cheap locking, small enough that the
// MD5s run on data still in cache and a streaming reader gets data early.
constexpr size_t kStep = 1 << 20;

}  // namespace

base::Status SegmentBuffer::New(uint64_t capacity, const std::string& spool_dir,
                                std::unique_ptr<SegmentBuffer>* out) {
  if (spool_dir.empty()) {
    void* p =
        ::mmap(nullptr, std::max<uint64_t>(capacity, 1), PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      return base::Status::FromErrno(
          errno, "segment buffer of " + std::to_string(capacity) + " bytes");
    }
    out->reset(new SegmentBuffer(capacity, static_cast<uint8_t*>(p), -1));
    return base::Status::OK();
  }
  int fd = ::open(spool_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    return base::Status::FromErrno(errno, "temporary file in " + spool_dir);
  }
  out->reset(new SegmentBuffer(capacity, nullptr, fd));
  (*out)->staging_.reset(new uint8_t[kStep]);
  return base::Status::OK();
}

SegmentBuffer::SegmentBuffer(uint64_t capacity, uint8_t* mem, int fd)
    : capacity_(capacity), mem_(mem), fd_(fd) {}

SegmentBuffer::~SegmentBuffer() {
  if (mem_ != nullptr) ::munmap(mem_, std::max<uint64_t>(capacity_, 1));
  if (fd_ >= 0) ::close(fd_);
}

void SegmentBuffer::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  filled_ = 0;
  sealed_ = false;
  aborted_ = false;
  size_ = 0;
  md5_.clear();
  source_done_ = 0;
  md5_ctx_.Reset();
  // Keep the spool file from holding a previous, longer segment's blocks.
  if (fd_ >= 0 && ::ftruncate(fd_, 0) != 0) {
    // Harmless: the file is overwritten and only filled_ bytes are read.
  }
}

base::Status SegmentBuffer::Store(const uint8_t* data, size_t n,
                                  uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t w =
        ::pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return base::Status::FromErrno(errno, "writing the spool file");
    }
    done += static_cast<size_t>(w);
  }
  return base::Status::OK();
}

base::Status SegmentBuffer::Append(ByteSource* src, Md5* whole) {
  // Only the producer changes filled_ and the bytes past it: read unlocked.
  uint64_t at = filled();
  size_t want = static_cast<size_t>(std::min<uint64_t>(kStep, capacity_ - at));
  uint8_t* dst = mem_ != nullptr ? mem_ + at : staging_.get();
  size_t got = 0;
  RETURN_IF_ERROR(ReadFully(src, dst, want, &got));
  if (mem_ == nullptr) RETURN_IF_ERROR(Store(dst, got, at));
  md5_ctx_.Update(dst, got);
  if (whole != nullptr) whole->Update(dst, got);
  {
    std::lock_guard<std::mutex> l(mu_);
    filled_ = at + got;
    if (got < want || filled_ == capacity_) {
      sealed_ = true;
      size_ = filled_;
      md5_ = md5_ctx_.Hex();
      source_done_ = src->Progress().done;
    }
  }
  cv_.notify_all();
  return base::Status::OK();
}

void SegmentBuffer::Abort() {
  {
    std::lock_guard<std::mutex> l(mu_);
    aborted_ = true;
  }
  cv_.notify_all();
}

bool SegmentBuffer::sealed() const {
  std::lock_guard<std::mutex> l(mu_);
  return sealed_;
}

uint64_t SegmentBuffer::filled() const {
  std::lock_guard<std::mutex> l(mu_);
  return filled_;
}

bool SegmentBuffer::WaitSealed() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return sealed_ || aborted_; });
  return !aborted_;
}

HttpBody SegmentBuffer::body() {
  HttpBody b;
  b.data = mem_;
  b.fd = fd_;
  b.size = size_;
  return b;
}

HttpBody SegmentBuffer::stream_body() {
  HttpBody b;
  b.stream = this;
  return b;
}

int64_t SegmentBuffer::ReadAt(uint64_t offset, uint8_t* buf, size_t n) {
  uint64_t avail;
  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return aborted_ || sealed_ || filled_ > offset; });
    if (aborted_) return -1;
    if (offset >= filled_) return 0;  // sealed: the end
    avail = filled_ - offset;
  }
  // Bytes below filled_ never change until Reset().
  size_t k = static_cast<size_t>(std::min<uint64_t>(n, avail));
  if (mem_ != nullptr) {
    std::memcpy(buf, mem_ + offset, k);
    return static_cast<int64_t>(k);
  }
  ssize_t r;
  do {
    r = ::pread(fd_, buf, k, static_cast<off_t>(offset));
  } while (r < 0 && errno == EINTR);
  return r <= 0 ? -1 : r;
}

}  // namespace upload
