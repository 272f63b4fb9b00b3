// ChunkCompressor: deflate one chunk of input so that independently
// compressed chunks concatenate into one valid deflate stream.
//
// Contract of Compress(): writes to `out` the raw deflate (RFC 1951) data of
// in[0, n) that references nothing before `in` and ends on a byte boundary;
// unless `last`, it ends with an empty stored block (a "sync flush"), so the
// next chunk's data may follow directly; with `last` it ends with a final
// block. `out_cap` must be at least ChunkCompressBound(n). The output for a
// given (codec, level, input, last) is deterministic, which resume relies on.
// A compressor is used by one thread at a time; make one per worker.
//
// Levels are gzip's, 1 (fastest) to 9 (smallest). zlib implements them as
// is; ISA-L has four levels (0-3), mapped as IsalLevelFor() says.
#ifndef VHDSM_UPLOAD_CHUNK_COMPRESSOR_H_
#define VHDSM_UPLOAD_CHUNK_COMPRESSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/status.h"

namespace upload {

enum class Codec {
  kIsal,  // Intel ISA-L igzip: the default (see COMPRESSION.md)
  kZlib,  // zlib: the reference implementation
};

// "isal" / "zlib"; ParseCodec returns false for other names.
const char* CodecName(Codec codec);
bool ParseCodec(const char* name, Codec* codec);

class ChunkCompressor {
 public:
  virtual ~ChunkCompressor() = default;
  virtual base::Status Compress(const uint8_t* in, size_t n, bool last,
                                uint8_t* out, size_t out_cap,
                                size_t* out_len) = 0;
};

// Fails with kInvalidArgument for a level outside 1..9.
base::Status NewChunkCompressor(Codec codec, int level,
                                std::unique_ptr<ChunkCompressor>* out);

// The most Compress() writes for n input bytes.
size_t ChunkCompressBound(size_t n);

// ISA-L level used for gzip level 1..9: 1-3 -> 1, 4-6 -> 2, 7-9 -> 3.
// ISA-L's level 0 is never used: it does not fall back to stored blocks and
// expands incompressible data by ~23 % (measured, COMPRESSION.md).
int IsalLevelFor(int gzip_level);

// An ISA-L compressor at its own level 0..3 (benchmarks).
base::Status NewIsalChunkCompressor(int isal_level,
                                    std::unique_ptr<ChunkCompressor>* out);

// CRC-32 (gzip's) of buf, continuing from crc (0 to start).
uint32_t Crc32(uint32_t crc, const uint8_t* buf, size_t n);
// CRC-32 of A||B from crc(A), crc(B) and len(B).
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

}  // namespace upload

#endif  // VHDSM_UPLOAD_CHUNK_COMPRESSOR_H_
