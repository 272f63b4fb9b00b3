#include "upload/md5.h"

#include <gtest/gtest.h>

namespace upload {
namespace {

TEST(Md5, KnownVectors) {
  EXPECT_EQ(Md5::Of(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5::Of("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Md5 md5;
  md5.Update(data.data(), 3);
  md5.Update(data.data() + 3, data.size() - 3);
  EXPECT_EQ(md5.Hex(), Md5::Of(data));
  md5.Reset();
  md5.Update("abc", 3);
  EXPECT_EQ(md5.Hex(), "900150983cd24fb0d6963f7d28e17f72");
}

}  // namespace
}  // namespace upload
