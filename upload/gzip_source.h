// GzipSource: a gzip stream of another ByteSource, compressed on all cores.
//
// The input is cut into chunks of `chunk_size` bytes; worker threads deflate
// chunks independently (ChunkCompressor: no back-references across chunks,
// each ending on a byte boundary) and Read() concatenates them in order into
// ONE gzip member (RFC 1952) whose trailer carries the combined CRC-32 and
// ISIZE, as pigz does. Any gzip reader (gzip -d, tar -xz, Python's gzip,
// zlib) reads it. The header has no name and mtime 0, so the same input and
// options always give the same bytes, whatever the thread count: a resumed
// upload recompresses to identical segments.
//
// A chunk that is all zeros (an unallocated region of a disk image) is not
// compressed: its deflate data and CRC are computed once and copied.
//
// Memory: about (2 * threads + 2) * 2.2 * chunk_size bytes of buffers.
// Workers read the input ahead of Read() by at most that many chunks.
// Progress() is the position in the *uncompressed* stream up to the last
// chunk fully returned by Read(), and the input's Size().
#ifndef VHDSM_UPLOAD_GZIP_SOURCE_H_
#define VHDSM_UPLOAD_GZIP_SOURCE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "upload/byte_source.h"
#include "upload/chunk_compressor.h"

namespace upload {

struct GzipOptions {
  Codec codec = Codec::kIsal;
  int level = 6;                // gzip's 1..9
  int threads = 0;              // compression workers; 0 = one per core
  size_t chunk_size = 1 << 20;  // input bytes per independent chunk
};

struct GzipStats {
  uint64_t chunks = 0;       // chunks returned so far
  uint64_t zero_chunks = 0;  // of which all-zero (served from the cache)
};

class GzipSource : public ByteSource {
 public:
  // Starts the workers. Fails for a bad level, chunk size (4 KiB .. 64 MiB)
  // or thread count (> 64).
  static base::Status Open(std::unique_ptr<ByteSource> input,
                           const GzipOptions& options,
                           std::unique_ptr<GzipSource>* out);
  ~GzipSource() override;  // stops and joins the workers

  base::Status Read(uint8_t* buf, size_t n, size_t* got) override;
  SourceProgress Progress() const override;
  GzipStats stats() const;

 private:
  struct Slot;
  GzipSource(std::unique_ptr<ByteSource> input, const GzipOptions& options);
  void Worker(ChunkCompressor* compressor);
  // Records an exception that ended a worker as the stream's error.
  void FailFromWorker(const std::string& what);
  // Compresses slot's input into its output (or copies the zero chunk).
  base::Status CompressSlot(ChunkCompressor* compressor, Slot* slot);

  const GzipOptions options_;
  std::unique_ptr<ByteSource> input_;
  std::vector<std::unique_ptr<ChunkCompressor>> compressors_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> workers_;

  // Serializes input reads so that chunks are read in sequence order.
  std::mutex read_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool input_done_ = false;  // a chunk marked last has been claimed
  uint64_t next_read_ = 0;   // sequence number of the next chunk to read
  uint64_t next_out_ = 0;    // sequence number of the chunk Read() is on
  base::Status error_;

  // Consumer state (Read() only).
  enum class Phase { kHeader, kBody, kTrailer, kDone };
  Phase phase_ = Phase::kHeader;
  size_t phase_pos_ = 0;
  uint8_t header_[10];
  uint8_t trailer_[8];
  uint32_t crc_ = 0;
  uint64_t isize_ = 0;
  std::atomic<uint64_t> delivered_input_{0};
  std::atomic<uint64_t> chunks_{0};
  std::atomic<uint64_t> zero_chunks_{0};

  // The deflate data and CRC of one full chunk of zeros, made on first use.
  std::once_flag zero_once_;
  std::vector<uint8_t> zero_deflate_;
  uint32_t zero_crc_ = 0;
  base::Status zero_status_;
};

}  // namespace upload

#endif  // VHDSM_UPLOAD_GZIP_SOURCE_H_
