#include "upload/chunk_compressor.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <vector>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace upload {
namespace {

// Inflates raw deflate data; fails the test on a stream error.
std::string InflateRaw(const std::vector<uint8_t>& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u) << "trailing bytes after the final block";
  inflateEnd(&z);
  return out;
}

// Compresses `chunks` independently and concatenates them, as GzipSource
// does.
std::vector<uint8_t> CompressChunks(Codec codec, int level,
                                    const std::vector<std::string>& chunks) {
  std::unique_ptr<ChunkCompressor> c;
  EXPECT_OK(NewChunkCompressor(codec, level, &c));
  std::vector<uint8_t> out;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const std::string& in = chunks[i];
    std::vector<uint8_t> buf(ChunkCompressBound(in.size()));
    size_t len = 0;
    base::Status st =
        c->Compress(reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                    i + 1 == chunks.size(), buf.data(), buf.size(), &len);
    EXPECT_OK(st);
    out.insert(out.end(), buf.begin(), buf.begin() + len);
  }
  return out;
}

class ChunkCompressorTest
    : public ::testing::TestWithParam<std::tuple<Codec, int>> {};

TEST_P(ChunkCompressorTest, IndependentChunksFormOneDeflateStream) {
  auto [codec, level] = GetParam();
  std::string image = uploadtest::DiskLikeImage(3 << 20, 11);
  std::vector<std::string> chunks = {
      image.substr(0, 1 << 20), image.substr(1 << 20, 1 << 20),
      std::string(1 << 20, '\0'), image.substr(2 << 20, 12345), ""};
  std::string whole;
  for (const auto& c : chunks) whole += c;
  std::vector<uint8_t> z = CompressChunks(codec, level, chunks);
  EXPECT_LT(z.size(), whole.size());
  EXPECT_EQ(InflateRaw(z), whole);
}

TEST_P(ChunkCompressorTest, IncompressibleDataFitsTheBound) {
  auto [codec, level] = GetParam();
  std::string noise = testutil::RandomBytes(1 << 20, 5);
  std::vector<uint8_t> z = CompressChunks(codec, level, {noise});
  EXPECT_LE(z.size(), ChunkCompressBound(noise.size()));
  // Levels in use fall back to stored blocks: at most ~0.1 % growth.
  EXPECT_LT(z.size(), noise.size() + noise.size() / 1000 + 64);
  EXPECT_EQ(InflateRaw(z), noise);
}

TEST_P(ChunkCompressorTest, Deterministic) {
  auto [codec, level] = GetParam();
  std::string image = uploadtest::DiskLikeImage(1 << 20, 3);
  EXPECT_EQ(CompressChunks(codec, level, {image, ""}),
            CompressChunks(codec, level, {image, ""}));
}

INSTANTIATE_TEST_SUITE_P(Codecs, ChunkCompressorTest,
                         ::testing::Combine(::testing::Values(Codec::kIsal,
                                                              Codec::kZlib),
                                            ::testing::Values(1, 6, 9)));

TEST(ChunkCompressor, RejectsBadLevels) {
  std::unique_ptr<ChunkCompressor> c;
  EXPECT_EQ(NewChunkCompressor(Codec::kIsal, 0, &c).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(NewChunkCompressor(Codec::kZlib, 10, &c).code(),
            base::Code::kInvalidArgument);
  EXPECT_EQ(NewIsalChunkCompressor(4, &c).code(), base::Code::kInvalidArgument);
}

TEST(ChunkCompressor, IsalLevelMapping) {
  EXPECT_EQ(IsalLevelFor(1), 1);
  EXPECT_EQ(IsalLevelFor(3), 1);
  EXPECT_EQ(IsalLevelFor(6), 2);
  EXPECT_EQ(IsalLevelFor(9), 3);
}

TEST(ChunkCompressor, CrcMatchesZlibAndCombines) {
  std::string a = testutil::RandomBytes(100000, 1);
  std::string b = testutil::RandomBytes(77777, 2);
  auto p = [](const std::string& s) {
    return reinterpret_cast<const uint8_t*>(s.data());
  };
  uint32_t za = static_cast<uint32_t>(crc32(0, p(a), a.size()));
  EXPECT_EQ(Crc32(0, p(a), a.size()), za);
  std::string ab = a + b;
  EXPECT_EQ(Crc32Combine(Crc32(0, p(a), a.size()), Crc32(0, p(b), b.size()),
                         b.size()),
            static_cast<uint32_t>(crc32(0, p(ab), ab.size())));
}

TEST(ChunkCompressor, CodecNames) {
  Codec c;
  EXPECT_TRUE(ParseCodec("zlib", &c));
  EXPECT_EQ(c, Codec::kZlib);
  EXPECT_TRUE(ParseCodec("isal", &c));
  EXPECT_EQ(c, Codec::kIsal);
  EXPECT_STREQ(CodecName(c), "isal");
  EXPECT_FALSE(ParseCodec("zstd", &c));
}

}  // namespace
}  // namespace upload
