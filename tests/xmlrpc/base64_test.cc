#include "xmlrpc/base64.h"

#include <gtest/gtest.h>

namespace xmlrpc {
namespace {

// RFC 4648 section 10.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(EncodeBase64(plain), encoded);
    auto decoded = DecodeBase64(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, AllByteValuesRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(DecodeBase64(EncodeBase64(bytes)).value(), bytes);
  EXPECT_EQ(DecodeBase64(EncodeBase64Lines(bytes)).value(), bytes);
}

TEST(Base64Test, LinesAreCPythonEncodebytes) {
  // base64.encodebytes(b'\0' * 60)
  EXPECT_EQ(EncodeBase64Lines(std::string(60, '\0')),
            std::string(76, 'A') + "\nAAAA\n");
  EXPECT_EQ(EncodeBase64Lines(""), "");
  EXPECT_EQ(EncodeBase64Lines("foo"), "Zm9v\n");
}

TEST(Base64Test, DecodeIgnoresWhitespace) {
  EXPECT_EQ(DecodeBase64(" Zm9v\nYmFy\r\n\t").value(), "foobar");
  EXPECT_EQ(DecodeBase64("Zm9vYg==\n").value(), "foob");
}

TEST(Base64Test, DecodeRejectsInvalid) {
  for (const char* bad : {"Zm9v!", "Z", "Zm9vY", "Zg=", "Zg===", "Zg==Zg==",
                          "=Zg=", "Zm9v=", "Zm-v", "Zm_v"}) {
    EXPECT_FALSE(DecodeBase64(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace xmlrpc
