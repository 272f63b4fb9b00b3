// Plain sources: a file read with pread, bytes in memory, ReadFully.
#include "upload/byte_source.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace upload {
namespace {

TEST(FileSource, ReadsTheFileWithSizeProgressAndMtime) {
  testutil::TempDir tmp;
  std::string data = testutil::RandomBytes(100000, 8);
  testutil::WriteFile(tmp.Join("img"), data);
  std::unique_ptr<FileSource> f;
  ASSERT_OK(FileSource::Open(tmp.Join("img"), &f));
  EXPECT_EQ(f->Size(), 100000);
  EXPECT_GT(f->mtime(), 0);
  std::string got(data.size() + 10, '\0');
  size_t n = 0;
  ASSERT_OK(ReadFully(f.get(), reinterpret_cast<uint8_t*>(got.data()),
                      got.size(), &n));
  EXPECT_EQ(n, data.size());  // short only at the end
  got.resize(n);
  EXPECT_EQ(got, data);
  EXPECT_EQ(f->Progress().done, 100000u);
  EXPECT_EQ(f->Progress().total, 100000);
  ASSERT_OK(f->Read(reinterpret_cast<uint8_t*>(got.data()), 1, &n));
  EXPECT_EQ(n, 0u);
}

TEST(FileSource, MissingFileIsNotFound) {
  std::unique_ptr<FileSource> f;
  base::Status st = FileSource::Open("/nonexistent/vhdsm-image", &f);
  EXPECT_EQ(st.code(), base::Code::kNotFound) << st.ToString();
}

TEST(FileSource, AFileThatShrinksIsCorruption) {
  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("img"), std::string(10000, 'x'));
  std::unique_ptr<FileSource> f;
  ASSERT_OK(FileSource::Open(tmp.Join("img"), &f));
  testutil::WriteFile(tmp.Join("img"), std::string(100, 'x'));
  std::string buf(20000, '\0');
  size_t n = 0;
  base::Status st = ReadFully(f.get(), reinterpret_cast<uint8_t*>(buf.data()),
                              buf.size(), &n);
  EXPECT_EQ(st.code(), base::Code::kCorruption) << st.ToString();
}

TEST(StringSource, ServesItsBytesInPieces) {
  StringSource s("hello, world");
  EXPECT_EQ(s.Size(), 12);
  uint8_t buf[5];
  size_t n = 0;
  ASSERT_OK(s.Read(buf, 5, &n));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n), "hello");
  EXPECT_EQ(s.Progress().done, 5u);
  std::string rest(20, '\0');
  ASSERT_OK(ReadFully(&s, reinterpret_cast<uint8_t*>(rest.data()), 20, &n));
  EXPECT_EQ(rest.substr(0, n), ", world");
  EXPECT_EQ(s.Progress().total, 12);
}

}  // namespace
}  // namespace upload
