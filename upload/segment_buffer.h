// SegmentBuffer: holds one segment from compression until its upload has
// succeeded, so that a failed PUT can be resent from the start, and lets the
// upload start while the segment is still being produced (BodyStream).
//
// The producer calls Reset(), then Append() until sealed() (the segment is
// full or the source ended), or Abort() if it gives up; the uploading thread
// reads through ReadAt() concurrently, blocking for bytes not yet produced.
// Once sealed, size() and md5() (hex) describe the whole segment; `whole`
// (Append's argument) has seen the same bytes, in order, for the MD5 of the
// whole stream.
//
// Storage: memory (an anonymous mapping of `capacity` bytes: pages are
// committed only as they are filled) or, for segments above the caller's
// memory limit, an unlinked temporary file under `spool_dir` (O_TMPFILE), so
// that 5 GiB segments do not need 5 GiB of RAM.
#ifndef VHDSM_UPLOAD_SEGMENT_BUFFER_H_
#define VHDSM_UPLOAD_SEGMENT_BUFFER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "upload/byte_source.h"
#include "upload/http_transport.h"
#include "upload/md5.h"

namespace upload {

class SegmentBuffer : public BodyStream {
 public:
  // spool_dir empty: memory; otherwise a temporary file in that directory.
  static base::Status New(uint64_t capacity, const std::string& spool_dir,
                          std::unique_ptr<SegmentBuffer>* out);
  ~SegmentBuffer() override;
  SegmentBuffer(const SegmentBuffer&) = delete;
  SegmentBuffer& operator=(const SegmentBuffer&) = delete;

  // Empties the buffer for a new segment. No reader may be active.
  void Reset();
  // Reads up to 1 MiB more from `src` (never past the capacity); seals the
  // segment when it is full or `src` ended. `whole` may be null.
  base::Status Append(ByteSource* src, Md5* whole);
  // Ends the segment as failed: blocked and later readers get -1.
  void Abort();

  bool sealed() const;
  uint64_t filled() const;  // bytes produced so far
  // Valid once sealed.
  uint64_t size() const { return size_; }
  const std::string& md5() const { return md5_; }
  // The source's Progress().done when the segment was sealed.
  uint64_t source_done() const { return source_done_; }
  // Blocks until sealed or aborted; false if aborted.
  bool WaitSealed();

  // The segment as a body of known size and MD5 (once sealed) ...
  HttpBody body();
  // ... or as a stream, to start sending before it is sealed.
  HttpBody stream_body();
  int64_t ReadAt(uint64_t offset, uint8_t* buf, size_t n) override;

 private:
  SegmentBuffer(uint64_t capacity, uint8_t* mem, int fd);
  base::Status Store(const uint8_t* data, size_t n, uint64_t offset);

  const uint64_t capacity_;
  uint8_t* const mem_;                  // memory mode
  const int fd_;                        // file mode
  std::unique_ptr<uint8_t[]> staging_;  // file mode: one read step
  Md5 md5_ctx_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t filled_ = 0;
  bool sealed_ = false;
  bool aborted_ = false;
  uint64_t size_ = 0;
  std::string md5_;
  uint64_t source_done_ = 0;
};

}  // namespace upload

#endif  // VHDSM_UPLOAD_SEGMENT_BUFFER_H_
