#include "upload/tar_source.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/upload/swift_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/image_stream.h"

namespace upload {
namespace {

std::string ReadAll(ByteSource* src) {
  std::string out, buf(65536, '\0');
  for (;;) {
    size_t got = 0;
    base::Status st =
        src->Read(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &got);
    EXPECT_OK(st);
    if (!st.ok() || got == 0) return out;
    out.append(buf.data(), got);
  }
}

TEST(TarSource, GnuTarUnpacksZeroVhd) {
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{511}, size_t{512}, size_t{3 << 20}}) {
    std::string image = uploadtest::DiskLikeImage(size, size);
    std::unique_ptr<TarSource> tar;
    TarOptions o;
    o.mtime = 1700000000;
    ASSERT_OK(
        TarSource::Open(std::make_unique<StringSource>(image), size, o, &tar));
    std::string archive = ReadAll(tar.get());
    EXPECT_EQ(archive.size(), static_cast<size_t>(tar->Size()));
    EXPECT_EQ(archive.size() % 512, 0u);
    testutil::TempDir tmp;
    testutil::WriteFile(tmp.Join("a.tar"), archive);
    testutil::RunResult r =
        testutil::Run({"tar", "-xf", tmp.Join("a.tar"), "-C", tmp.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(testutil::ReadFile(tmp.Join("0.vhd")), image) << size;
    r = testutil::Run({"tar", "-tvf", tmp.Join("a.tar")});
    EXPECT_NE(r.out.find("root/root"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" 0.vhd"), std::string::npos) << r.out;
  }
}

TEST(TarSource, TgzStreamUnpacksWithTarXz) {
  std::string image = uploadtest::DiskLikeImage(2 << 20, 9);
  ImageStreamOptions o;
  o.format = ImageFormat::kTgz;
  std::unique_ptr<ByteSource> stream;
  ASSERT_OK(NewImageStream(std::make_unique<StringSource>(image), o, &stream));
  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("img.tgz"), ReadAll(stream.get()));
  testutil::RunResult r =
      testutil::Run({"tar", "-xzf", tmp.Join("img.tgz"), "-C", tmp.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testutil::ReadFile(tmp.Join("0.vhd")), image);
}

// A source that claims a huge size and serves zeros; only its start is read.
class ZeroSource : public ByteSource {
 public:
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override {
    std::memset(buf, 0, n);
    *got = n;
    return base::Status::OK();
  }
  SourceProgress Progress() const override { return {0, -1}; }
};

TEST(TarSource, PaxSizeForImagesOf8GiBAndMore) {
  const uint64_t size = (8ULL << 30) + 12345;  // beyond ustar's 11 digits
  std::unique_ptr<TarSource> tar;
  ASSERT_OK(TarSource::Open(std::make_unique<ZeroSource>(), size, TarOptions(),
                            &tar));
  EXPECT_EQ(tar->header().size(), 3u * 512);  // pax header + record + ustar
  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("head.tar"), tar->header());
  // Python's tarfile reads the header (the data is not there: stop early).
  testutil::RunResult r = testutil::Run({"/usr/bin/python3", "-c",
                                         "import sys, tarfile\n"
                                         "t = tarfile.open(sys.argv[1], 'r|')\n"
                                         "m = t.next()\n"
                                         "print(m.name, m.size, m.isfile())",
                                         tmp.Join("head.tar")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0.vhd " + std::to_string(size) + " True\n");
}

TEST(TarSource, ShortImageIsAnError) {
  std::unique_ptr<TarSource> tar;
  ASSERT_OK(TarSource::Open(std::make_unique<StringSource>("abc"), 10,
                            TarOptions(), &tar));
  std::string buf(4096, '\0');
  base::Status st;
  for (int i = 0; i < 10 && st.ok(); ++i) {
    size_t got = 0;
    st = tar->Read(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &got);
    if (got == 0) break;
  }
  EXPECT_EQ(st.code(), base::Code::kCorruption);
}

TEST(TarSource, RejectsLongNames) {
  std::unique_ptr<TarSource> tar;
  TarOptions o;
  o.member_name = std::string(101, 'a');
  EXPECT_FALSE(
      TarSource::Open(std::make_unique<StringSource>(""), 0, o, &tar).ok());
}

}  // namespace
}  // namespace upload
