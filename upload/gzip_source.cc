#include "upload/gzip_source.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/sanitize.h"

namespace upload {

struct GzipSource::Slot {
  std::unique_ptr<uint8_t[]> in;
  std::unique_ptr<uint8_t[]> out;
  size_t out_cap = 0;
  size_t in_len = 0;
  size_t out_len = 0;
  uint32_t crc = 0;
  uint64_t seq = 0;
  bool last = false;
  bool ready = false;  // guarded by mu_
};

namespace {

bool AllZero(const uint8_t* p, size_t n) {
  // memcmp of the buffer against itself shifted by one byte runs at memory
  // speed and proves every byte equals the first.
  return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

base::Status GzipSource::Open(std::unique_ptr<ByteSource> input,
                              const GzipOptions& options,
                              std::unique_ptr<GzipSource>* out) {
  if (options.chunk_size < 4096 || options.chunk_size > (64u << 20)) {
    return base::Status::InvalidArgument(
        "gzip chunk size must be 4 KiB .. 64 MiB");
  }
  if (options.threads < 0 || options.threads > 64) {
    return base::Status::InvalidArgument("gzip threads must be 0 .. 64");
  }
  std::unique_ptr<GzipSource> src(new GzipSource(std::move(input), options));
  int threads = options.threads;
  if (threads == 0) {
    threads =
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  for (int i = 0; i < threads; ++i) {
    std::unique_ptr<ChunkCompressor> c;
    RETURN_IF_ERROR(NewChunkCompressor(options.codec, options.level, &c));
    src->compressors_.push_back(std::move(c));
  }
  size_t nslots = 2 * static_cast<size_t>(threads) + 2;
  size_t cap = ChunkCompressBound(options.chunk_size);
  for (size_t i = 0; i < nslots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->in.reset(new uint8_t[options.chunk_size]);
    slot->out.reset(new uint8_t[cap]);
    slot->out_cap = cap;
    src->slots_.push_back(std::move(slot));
  }
  for (auto& c : src->compressors_) {
    ChunkCompressor* raw = c.get();
    src->workers_.emplace_back([s = src.get(), raw] {
      // Nothing may escape a thread (std::terminate would take the daemon
      // down): an exception fails the stream like any error.
      try {
        s->Worker(raw);
      } catch (const std::exception& e) {
        s->FailFromWorker(std::string("compressor thread: ") + e.what());
      } catch (...) {
        s->FailFromWorker("compressor thread: unknown exception");
      }
    });
  }
  *out = std::move(src);
  return base::Status::OK();
}

GzipSource::GzipSource(std::unique_ptr<ByteSource> input,
                       const GzipOptions& options)
    : options_(options), input_(std::move(input)) {
  // RFC 1952 header: magic, CM=deflate, no flags, MTIME 0, XFL 0, OS 3 (Unix).
  const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  std::memcpy(header_, header, sizeof(header_));
}

GzipSource::~GzipSource() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void GzipSource::FailFromWorker(const std::string& what) {
  {
    std::lock_guard<std::mutex> l(mu_);
    input_done_ = true;
    if (error_.ok()) error_ = base::Status::IOError(base::SanitizeText(what));
  }
  cv_.notify_all();
}

void GzipSource::Worker(ChunkCompressor* compressor) {
  const size_t nslots = slots_.size();
  for (;;) {
    Slot* slot = nullptr;
    {
      std::lock_guard<std::mutex> read_lock(read_mu_);
      uint64_t seq;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] {
          return stop_ || input_done_ || !error_.ok() ||
                 next_read_ < next_out_ + nslots;
        });
        if (stop_ || input_done_ || !error_.ok()) return;
        seq = next_read_++;
        slot = slots_[seq % nslots].get();
        slot->ready = false;
        slot->seq = seq;
      }
      size_t got = 0;
      base::Status st =
          ReadFully(input_.get(), slot->in.get(), options_.chunk_size, &got);
      slot->in_len = got;
      slot->last = got < options_.chunk_size;
      if (!st.ok() || slot->last) {
        std::lock_guard<std::mutex> l(mu_);
        input_done_ = true;
        if (!st.ok() && error_.ok()) error_ = st;
      }
      if (!st.ok()) {
        cv_.notify_all();
        return;
      }
    }
    base::Status st = CompressSlot(compressor, slot);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!st.ok() && error_.ok()) error_ = st;
      slot->ready = true;
    }
    cv_.notify_all();
  }
}

base::Status GzipSource::CompressSlot(ChunkCompressor* compressor, Slot* slot) {
  if (!slot->last && AllZero(slot->in.get(), slot->in_len)) {
    std::call_once(zero_once_, [&] {
      // Compressed with a compressor of our own, so that a worker's stream
      // state is never shared.
      std::unique_ptr<ChunkCompressor> c;
      zero_status_ = NewChunkCompressor(options_.codec, options_.level, &c);
      if (!zero_status_.ok()) return;
      std::vector<uint8_t> zeros(options_.chunk_size, 0);
      zero_deflate_.resize(ChunkCompressBound(options_.chunk_size));
      size_t len = 0;
      zero_status_ =
          c->Compress(zeros.data(), zeros.size(), false, zero_deflate_.data(),
                      zero_deflate_.size(), &len);
      zero_deflate_.resize(len);
      zero_crc_ = Crc32(0, zeros.data(), zeros.size());
    });
    RETURN_IF_ERROR(zero_status_);
    std::memcpy(slot->out.get(), zero_deflate_.data(), zero_deflate_.size());
    slot->out_len = zero_deflate_.size();
    slot->crc = zero_crc_;
    zero_chunks_.fetch_add(1, std::memory_order_relaxed);
    return base::Status::OK();
  }
  slot->crc = Crc32(0, slot->in.get(), slot->in_len);
  return compressor->Compress(slot->in.get(), slot->in_len, slot->last,
                              slot->out.get(), slot->out_cap, &slot->out_len);
}

base::Status GzipSource::Read(uint8_t* buf, size_t n, size_t* got) {
  *got = 0;
  const size_t nslots = slots_.size();
  while (*got < n) {
    if (phase_ == Phase::kHeader || phase_ == Phase::kTrailer) {
      const uint8_t* src = phase_ == Phase::kHeader ? header_ : trailer_;
      size_t len =
          phase_ == Phase::kHeader ? sizeof(header_) : sizeof(trailer_);
      size_t k = std::min(n - *got, len - phase_pos_);
      std::memcpy(buf + *got, src + phase_pos_, k);
      *got += k;
      phase_pos_ += k;
      if (phase_pos_ == len) {
        phase_ = phase_ == Phase::kHeader ? Phase::kBody : Phase::kDone;
        phase_pos_ = 0;
      }
      continue;
    }
    if (phase_ == Phase::kDone) break;
    Slot* slot = slots_[next_out_ % nslots].get();
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] {
        return !error_.ok() || (slot->ready && slot->seq == next_out_);
      });
      if (!error_.ok()) return error_;
    }
    // A ready slot is not touched by workers until next_out_ moves past it.
    size_t k = std::min(n - *got, slot->out_len - phase_pos_);
    std::memcpy(buf + *got, slot->out.get() + phase_pos_, k);
    *got += k;
    phase_pos_ += k;
    if (phase_pos_ < slot->out_len) continue;
    crc_ = Crc32Combine(crc_, slot->crc, slot->in_len);
    isize_ += slot->in_len;
    delivered_input_.fetch_add(slot->in_len, std::memory_order_relaxed);
    chunks_.fetch_add(1, std::memory_order_relaxed);
    bool last = slot->last;
    {
      std::lock_guard<std::mutex> l(mu_);
      slot->ready = false;
      ++next_out_;
    }
    cv_.notify_all();
    phase_pos_ = 0;
    if (last) {
      PutLe32(trailer_, crc_);
      PutLe32(trailer_ + 4, static_cast<uint32_t>(isize_));  // ISIZE: mod 2^32
      phase_ = Phase::kTrailer;
    }
  }
  return base::Status::OK();
}

SourceProgress GzipSource::Progress() const {
  return {delivered_input_.load(std::memory_order_relaxed), input_->Size()};
}

GzipStats GzipSource::stats() const {
  return {chunks_.load(std::memory_order_relaxed),
          zero_chunks_.load(std::memory_order_relaxed)};
}

}  // namespace upload
