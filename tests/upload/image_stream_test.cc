// The byte stream uploaded for each image format.
#include "upload/image_stream.h"

#include <gtest/gtest.h>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace upload {
namespace {

// A source that does not know its size (as a compressed stream).
class UnsizedSource : public StringSource {
 public:
  using StringSource::StringSource;
  int64_t Size() const override { return -1; }
};

std::string ReadAll(ByteSource* s) {
  std::string out;
  uint8_t buf[65536];
  for (;;) {
    size_t got = 0;
    EXPECT_OK(s->Read(buf, sizeof(buf), &got));
    if (got == 0) return out;
    out.append(reinterpret_cast<char*>(buf), got);
  }
}

TEST(ImageStream, FormatNames) {
  ImageFormat f = ImageFormat::kRaw;
  EXPECT_TRUE(ParseImageFormat("gzip", &f));
  EXPECT_EQ(f, ImageFormat::kVhd);
  for (ImageFormat g :
       {ImageFormat::kVhd, ImageFormat::kTgz, ImageFormat::kRaw}) {
    ASSERT_TRUE(ParseImageFormat(ImageFormatName(g), &f));
    EXPECT_EQ(f, g);
  }
  EXPECT_FALSE(ParseImageFormat("zip", &f));
  EXPECT_FALSE(ParseImageFormat("", &f));
}

TEST(ImageStream, RawIsTheImageItself) {
  std::string image = testutil::RandomBytes(300000, 4);
  ImageStreamOptions o;
  o.format = ImageFormat::kRaw;
  std::unique_ptr<ByteSource> s;
  ASSERT_OK(NewImageStream(std::make_unique<StringSource>(image), o, &s));
  EXPECT_EQ(s->Size(), static_cast<int64_t>(image.size()));
  EXPECT_EQ(ReadAll(s.get()), image);
}

TEST(ImageStream, VhdIsTheImageGzipped) {
  std::string image = uploadtest::DiskLikeImage(3 << 20, 5);
  ImageStreamOptions o;  // vhd by default
  std::unique_ptr<ByteSource> s;
  ASSERT_OK(NewImageStream(std::make_unique<StringSource>(image), o, &s));
  std::string gz = ReadAll(s.get());
  EXPECT_LT(gz.size(), image.size());
  EXPECT_EQ(uploadtest::Gunzip(gz), image);
  EXPECT_EQ(s->Progress().done, image.size());  // counted in image bytes
}

TEST(ImageStream, TgzHoldsTheImageAsZeroVhd) {
  std::string image = testutil::RandomBytes(5000, 6);
  ImageStreamOptions o;
  o.format = ImageFormat::kTgz;
  std::unique_ptr<ByteSource> s;
  ASSERT_OK(NewImageStream(std::make_unique<StringSource>(image), o, &s));
  std::string tar = uploadtest::Gunzip(ReadAll(s.get()));
  ASSERT_GE(tar.size(), 512u + image.size());
  EXPECT_EQ(tar.substr(0, 6), std::string("0.vhd\0", 6));
  EXPECT_EQ(tar.substr(512, image.size()), image);
  EXPECT_EQ(tar.size() % 512, 0u);
}

TEST(ImageStream, TgzNeedsAKnownSize) {
  ImageStreamOptions o;
  o.format = ImageFormat::kTgz;
  std::unique_ptr<ByteSource> s;
  base::Status st =
      NewImageStream(std::make_unique<UnsizedSource>("abc"), o, &s);
  EXPECT_EQ(st.code(), base::Code::kInvalidArgument) << st.ToString();
}

}  // namespace
}  // namespace upload
