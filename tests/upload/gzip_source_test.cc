#include "upload/gzip_source.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/md5.h"

namespace upload {
namespace {

std::string ReadAll(ByteSource* src, size_t step = 100003) {
  std::string out;
  std::string buf(step, '\0');
  for (;;) {
    size_t got = 0;
    base::Status st =
        src->Read(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &got);
    EXPECT_OK(st);
    if (!st.ok() || got == 0) break;
    out.append(buf.data(), got);
  }
  return out;
}

std::string Compress(const std::string& data, GzipOptions o,
                     GzipStats* stats = nullptr) {
  std::unique_ptr<GzipSource> gz;
  base::Status st =
      GzipSource::Open(std::make_unique<StringSource>(data), o, &gz);
  EXPECT_OK(st);
  if (!st.ok()) return "";
  std::string out = ReadAll(gz.get());
  if (stats != nullptr) *stats = gz->stats();
  EXPECT_EQ(gz->Progress().done, data.size());
  return out;
}

TEST(GzipSource, RoundTripsEverySizeAroundChunkBoundaries) {
  GzipOptions o;
  o.chunk_size = 64 << 10;
  o.threads = 3;
  std::string image = uploadtest::DiskLikeImage(400 << 10, 1);
  for (size_t n : {size_t{0}, size_t{1}, o.chunk_size - 1, o.chunk_size,
                   o.chunk_size + 1, 2 * o.chunk_size, image.size()}) {
    std::string data = image.substr(0, n);
    std::string gz = Compress(data, o);
    ASSERT_GE(gz.size(), 18u);
    EXPECT_EQ(uploadtest::Gunzip(gz), data) << "size " << n;
  }
}

TEST(GzipSource, OneMemberSameBytesForAnyThreadCount) {
  std::string image = uploadtest::DiskLikeImage(5 << 20, 2);
  GzipOptions o;
  o.chunk_size = 256 << 10;
  o.threads = 1;
  std::string one = Compress(image, o);
  o.threads = 4;
  EXPECT_EQ(Compress(image, o), one);
  // One member: the header appears once, ISIZE is the input size mod 2^32.
  EXPECT_EQ(one.substr(0, 3), std::string("\x1f\x8b\x08", 3));
  uint32_t isize = 0;
  for (int i = 0; i < 4; ++i) {
    isize |=
        static_cast<uint32_t>(static_cast<uint8_t>(one[one.size() - 4 + i]))
        << (8 * i);
  }
  EXPECT_EQ(isize, image.size());
}

TEST(GzipSource, ZeroChunksComeFromTheCache) {
  std::string data(8 << 20, '\0');
  data.replace(3 << 20, 5, "hello");
  GzipOptions o;
  GzipStats stats;
  std::string gz = Compress(data, o, &stats);
  EXPECT_EQ(stats.chunks, 9u);  // 8 full + the empty last one
  EXPECT_EQ(stats.zero_chunks, 7u);
  EXPECT_LT(gz.size(), 64u << 10);
  EXPECT_EQ(uploadtest::Gunzip(gz), data);
}

TEST(GzipSource, ReadableByGzipTarAndPython) {
  std::string image = uploadtest::DiskLikeImage(3 << 20, 4);
  testutil::TempDir tmp;
  GzipOptions o;
  o.chunk_size = 128 << 10;
  testutil::WriteFile(tmp.Join("img.gz"), Compress(image, o));
  testutil::RunResult r = testutil::Run({"gzip", "-dc", tmp.Join("img.gz")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, image);
  r = testutil::Run(
      {"/usr/bin/python3", "-c",
       "import gzip,hashlib,sys;"
       "print(hashlib.md5(gzip.open(sys.argv[1]).read()).hexdigest())",
       tmp.Join("img.gz")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Md5::Of(image) + "\n");
}

TEST(GzipSource, ZlibCodecToo) {
  std::string image = uploadtest::DiskLikeImage(2 << 20, 5);
  GzipOptions o;
  o.codec = Codec::kZlib;
  o.level = 1;
  EXPECT_EQ(uploadtest::Gunzip(Compress(image, o)), image);
}

class FailingSource : public ByteSource {
 public:
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override {
    if (served_ >= (3 << 20)) return base::Status::IOError("disk on fire");
    *got = std::min<size_t>(n, 4096);
    std::memset(buf, 'a', *got);
    served_ += *got;
    return base::Status::OK();
  }
  SourceProgress Progress() const override { return {served_, -1}; }

 private:
  uint64_t served_ = 0;
};

TEST(GzipSource, SourceErrorsReachTheReader) {
  std::unique_ptr<GzipSource> gz;
  ASSERT_OK(
      GzipSource::Open(std::make_unique<FailingSource>(), GzipOptions(), &gz));
  std::string buf(1 << 20, '\0');
  base::Status st;
  for (int i = 0; i < 100 && st.ok(); ++i) {
    size_t got = 0;
    st = gz->Read(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &got);
    if (st.ok() && got == 0) break;
  }
  EXPECT_EQ(st.code(), base::Code::kIOError);
  EXPECT_NE(st.message().find("disk on fire"), std::string::npos);
}

TEST(GzipSource, DestroyedEarlyStopsWorkers) {
  std::string image = uploadtest::DiskLikeImage(16 << 20, 6);
  std::unique_ptr<GzipSource> gz;
  ASSERT_OK(GzipSource::Open(std::make_unique<StringSource>(image),
                             GzipOptions(), &gz));
  uint8_t buf[100];
  size_t got = 0;
  ASSERT_OK(gz->Read(buf, sizeof(buf), &got));
  EXPECT_EQ(got, sizeof(buf));
  gz.reset();  // must join without reading the rest
}

TEST(GzipSource, RejectsBadOptions) {
  std::unique_ptr<GzipSource> gz;
  GzipOptions o;
  o.chunk_size = 100;
  EXPECT_FALSE(
      GzipSource::Open(std::make_unique<StringSource>("x"), o, &gz).ok());
  o = GzipOptions();
  o.level = 0;
  EXPECT_FALSE(
      GzipSource::Open(std::make_unique<StringSource>("x"), o, &gz).ok());
}

}  // namespace
}  // namespace upload
