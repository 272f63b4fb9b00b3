// upload-compress-bench: throughput and ratio of the deflate candidates on
// one input file, chunked the way GzipSource chunks it (1 MiB, independent
// chunks, compressed by N threads), plus GzipSource itself end to end.
//
// usage: upload-compress-bench FILE [THREADS...]   (default threads: 1 2)
//
// The file is read into memory first, so the figures are the compressors'
// (MB = 10^6 bytes of input per second of wall time; ratio = output/input).
// libdeflate has no sync flush, so its chunks cannot be joined into one gzip
// member (only into a multi-member file): it is measured for speed and
// ratio only. Prints a markdown table on stdout.
#include <libdeflate.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "upload/byte_source.h"
#include "upload/chunk_compressor.h"
#include "upload/gzip_source.h"

namespace {

constexpr size_t kChunk = 1 << 20;

using CompressFn = std::function<size_t(const uint8_t* in, size_t n, bool last,
                                        uint8_t* out, size_t cap)>;
// Makes one compressor per thread.
using Factory = std::function<CompressFn()>;

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Compresses `data` in chunks on `threads` threads; returns seconds, sets
// *out_bytes.
double RunChunked(const std::string& data, int threads, const Factory& make,
                  uint64_t* out_bytes) {
  size_t nchunks = (data.size() + kChunk - 1) / kChunk;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> total{0};
  double t0 = Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      CompressFn fn = make();
      std::vector<uint8_t> out(upload::ChunkCompressBound(kChunk));
      for (size_t i; (i = next.fetch_add(1)) < nchunks;) {
        size_t n = std::min(kChunk, data.size() - i * kChunk);
        const uint8_t* in =
            reinterpret_cast<const uint8_t*>(data.data()) + i * kChunk;
        total += fn(in, n, i + 1 == nchunks, out.data(), out.size());
      }
    });
  }
  for (auto& t : pool) t.join();
  *out_bytes = total + 18;  // gzip header + trailer
  return Now() - t0;
}

Factory Library(upload::Codec codec, int level) {
  return [codec, level] {
    std::shared_ptr<upload::ChunkCompressor> c;
    {
      std::unique_ptr<upload::ChunkCompressor> u;
      if (!upload::NewChunkCompressor(codec, level, &u).ok()) std::abort();
      c = std::move(u);
    }
    return
        [c](const uint8_t* in, size_t n, bool last, uint8_t* out, size_t cap) {
          size_t len = 0;
          if (!c->Compress(in, n, last, out, cap, &len).ok()) std::abort();
          return len;
        };
  };
}

Factory IsalRaw(int isal_level) {
  return [isal_level] {
    std::shared_ptr<upload::ChunkCompressor> c;
    {
      std::unique_ptr<upload::ChunkCompressor> u;
      if (!upload::NewIsalChunkCompressor(isal_level, &u).ok()) std::abort();
      c = std::move(u);
    }
    return
        [c](const uint8_t* in, size_t n, bool last, uint8_t* out, size_t cap) {
          size_t len = 0;
          if (!c->Compress(in, n, last, out, cap, &len).ok()) std::abort();
          return len;
        };
  };
}

Factory Libdeflate(int level) {
  return [level] {
    std::shared_ptr<libdeflate_compressor> c(libdeflate_alloc_compressor(level),
                                             libdeflate_free_compressor);
    return [c](const uint8_t* in, size_t n, bool, uint8_t* out, size_t cap) {
      return libdeflate_deflate_compress(c.get(), in, n, out, cap);
    };
  };
}

// Serves a string it does not own (no copy inside the timing).
class ViewSource : public upload::ByteSource {
 public:
  explicit ViewSource(const std::string& data) : data_(data) {}
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override {
    *got = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, *got);
    pos_ += *got;
    return base::Status::OK();
  }
  int64_t Size() const override { return static_cast<int64_t>(data_.size()); }
  upload::SourceProgress Progress() const override {
    return {pos_, static_cast<int64_t>(data_.size())};
  }

 private:
  const std::string& data_;
  uint64_t pos_ = 0;
};

// GzipSource end to end (zero-chunk shortcut, ordering, CRC).
double RunGzipSource(const std::string& data, int threads, int level,
                     uint64_t* out_bytes) {
  upload::GzipOptions o;
  o.codec = upload::Codec::kIsal;
  o.level = level;
  o.threads = threads;
  double t0 = Now();
  std::unique_ptr<upload::GzipSource> gz;
  if (!upload::GzipSource::Open(std::make_unique<ViewSource>(data), o, &gz)
           .ok()) {
    std::abort();
  }
  std::vector<uint8_t> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    size_t got = 0;
    if (!gz->Read(buf.data(), buf.size(), &got).ok()) std::abort();
    if (got == 0) break;
    total += got;
  }
  *out_bytes = total;
  return Now() - t0;
}

void Row(const char* name, const std::string& data, int threads,
         const std::function<double(uint64_t*)>& run) {
  uint64_t out = 0;
  double best = 1e9;
  for (int rep = 0; rep < 3; ++rep) best = std::min(best, run(&out));
  std::printf("| %s | %d | %.0f | %.3f |\n", name, threads,
              data.size() / best / 1e6,
              static_cast<double>(out) / static_cast<double>(data.size()));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [THREADS...]\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1], std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  if (data.empty()) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  std::vector<int> threads;
  for (int i = 2; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {1, 2};

  std::printf("input: %s, %.1f MiB; best of 3; MB/s = 10^6 input bytes/s\n\n",
              argv[1], data.size() / 1048576.0);
  std::printf(
      "| compressor (1 MiB independent chunks) | threads | MB/s | "
      "ratio |\n|---|---|---|---|\n");
  struct Candidate {
    const char* name;
    Factory factory;
  };
  const Candidate candidates[] = {
      {"zlib level 1", Library(upload::Codec::kZlib, 1)},
      {"zlib level 6", Library(upload::Codec::kZlib, 6)},
      {"ISA-L igzip level 0 (not used)", IsalRaw(0)},
      {"ISA-L igzip level 1 (our gzip levels 1-3)",
       Library(upload::Codec::kIsal, 1)},
      {"ISA-L igzip level 2 (our 4-6, default)",
       Library(upload::Codec::kIsal, 6)},
      {"ISA-L igzip level 3 (our 7-9)", Library(upload::Codec::kIsal, 9)},
      {"libdeflate level 1", Libdeflate(1)},
      {"libdeflate level 6", Libdeflate(6)},
  };
  for (const Candidate& c : candidates) {
    for (int t : threads) {
      Row(c.name, data, t,
          [&](uint64_t* out) { return RunChunked(data, t, c.factory, out); });
    }
  }
  for (int t : threads) {
    Row("vhdsm GzipSource, ISA-L, level 6 (zero chunks skipped)", data, t,
        [&](uint64_t* out) { return RunGzipSource(data, t, 6, out); });
  }
  // Unallocated space: all zeros, with and without the zero-chunk shortcut.
  std::string zeros(256 << 20, '\0');
  Row("zeros only: ISA-L level 2, compressed", zeros, 1, [&](uint64_t* out) {
    return RunChunked(zeros, 1, Library(upload::Codec::kIsal, 6), out);
  });
  Row("zeros only: zlib level 6, compressed", zeros, 1, [&](uint64_t* out) {
    return RunChunked(zeros, 1, Library(upload::Codec::kZlib, 6), out);
  });
  Row("zeros only: GzipSource (shortcut)", zeros, 1,
      [&](uint64_t* out) { return RunGzipSource(zeros, 1, 6, out); });
  return 0;
}
