#include "upload/object_names.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/util/status_matchers.h"
#include "upload/upload_error.h"

namespace upload {
namespace {

void ExpectBad(const base::Status& s, const std::string& why) {
  EXPECT_EQ(ErrorOf(s), UploadError::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(why), std::string::npos) << s.ToString();
}

TEST(ObjectNames, ContainerRules) {
  EXPECT_OK(CheckContainerName("images"));
  EXPECT_OK(CheckContainerName("caf\xc3\xa9 ..x"));
  EXPECT_OK(CheckContainerName(std::string(256, 'c')));
  ExpectBad(CheckContainerName(std::string(257, 'c')), "1..256 bytes");
  ExpectBad(CheckContainerName(""), "1..256 bytes");
  ExpectBad(CheckContainerName("a/b"), "'/'");
  ExpectBad(CheckContainerName("."), "'.' or '..'");
  ExpectBad(CheckContainerName(".."), "'.' or '..'");
  ExpectBad(CheckContainerName(std::string("a\0b", 3)), "control");
  ExpectBad(CheckContainerName("a\nb"), "control");
  ExpectBad(CheckContainerName("a\xff"), "UTF-8");
}

TEST(ObjectNames, ObjectRules) {
  EXPECT_OK(CheckObjectName("a/b/c.vhd"));
  EXPECT_OK(CheckObjectName("x./y"));  // "./" inside a segment
  EXPECT_OK(CheckObjectName("..a/b../..."));
  EXPECT_OK(CheckObjectName("a//b/"));
  EXPECT_OK(CheckObjectName(std::string(1024, 'o')));
  ExpectBad(CheckObjectName(std::string(1025, 'o')), "1..1024 bytes");
  ExpectBad(CheckObjectName(""), "1..1024 bytes");
  // Defect 5: this went out as PUT /v1/AUTH_other/c2/obj.
  ExpectBad(CheckObjectName("a/../../../AUTH_other/c2/obj"), "'..'");
  ExpectBad(CheckObjectName(".."), "'..'");
  ExpectBad(CheckObjectName("./a"), "'.'");
  ExpectBad(CheckObjectName("a/."), "'.'");
  ExpectBad(CheckObjectName("a/./b"), "'.'");
  ExpectBad(CheckObjectName(std::string("o\0", 2)), "control");
  ExpectBad(CheckObjectName("o\x7f"), "control");
  ExpectBad(CheckObjectName("o\xc0\xaf"), "UTF-8");  // overlong '/'
}

TEST(ObjectNames, MessageQuotesTheNameSanitized) {
  base::Status s = CheckObjectName("a\n\xff/..");
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_EQ(s.message().find('\xff'), std::string::npos);
}

}  // namespace
}  // namespace upload
