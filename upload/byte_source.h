// ByteSource: a pull stream of bytes, the input of the compressor and of the
// uploader.
//
// Read() fills up to n bytes and sets *got; *got == 0 means end of stream
// (and only then), so callers loop until 0. After a non-OK Status the stream
// is unusable. Size() is the number of bytes Read() will yield in all, or -1
// when unknown (a compressed stream). Progress() says how far the *original*
// image has been consumed: a plain source reports its own position, a
// transforming source (gzip, tar) the position of the image beneath it, so
// that progress is shown in image bytes whatever the format.
//
// Sources are used by one reader thread at a time; Progress() alone may be
// called from any thread.
#ifndef VHDSM_UPLOAD_BYTE_SOURCE_H_
#define VHDSM_UPLOAD_BYTE_SOURCE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace upload {

struct SourceProgress {
  uint64_t done = 0;   // bytes of the original image consumed so far
  int64_t total = -1;  // its size, or -1 if unknown
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual base::Status Read(uint8_t* buf, size_t n, size_t* got) = 0;
  virtual int64_t Size() const { return -1; }
  virtual SourceProgress Progress() const = 0;
};

// Reads a file (or block device) front to back with pread. The size is taken
// at open; a file that grows later is read only up to that size.
class FileSource : public ByteSource {
 public:
  static base::Status Open(const std::string& path,
                           std::unique_ptr<FileSource>* out);
  ~FileSource() override;
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override;
  int64_t Size() const override { return static_cast<int64_t>(size_); }
  SourceProgress Progress() const override;
  // The file's modification time (seconds since the epoch), e.g. for a tar
  // header that must be identical when an upload is resumed.
  int64_t mtime() const { return mtime_; }

 private:
  FileSource(int fd, std::string path, uint64_t size, int64_t mtime);
  int fd_;
  std::string path_;
  uint64_t size_;
  int64_t mtime_;
  std::atomic<uint64_t> offset_{0};
};

// Serves bytes held in memory (tests, small streams).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override;
  int64_t Size() const override { return static_cast<int64_t>(data_.size()); }
  SourceProgress Progress() const override;

 private:
  std::string data_;
  std::atomic<uint64_t> offset_{0};
};

// Reads until `n` bytes are in `buf` or the stream ends; *got < n only at the
// end of the stream.
base::Status ReadFully(ByteSource* src, uint8_t* buf, size_t n, size_t* got);

}  // namespace upload

#endif  // VHDSM_UPLOAD_BYTE_SOURCE_H_
