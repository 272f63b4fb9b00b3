// Tests of image/chain_image_source.h: a chain streamed as one VHD, the
// same bytes on every open, progress in image bytes.
#include "image/chain_image_source.h"

#include <gtest/gtest.h>

#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

class ChainImageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(Sr::Open(dir_.path(), &sr_));
    Vdi v;
    ASSERT_OK(sr_->CreateVdi(4 << 20, VdiMeta(), "", &v));
    leaf_ = sr_->VdiPath(v.uuid);
    ASSERT_TRUE(
        vhd::Uuid::Parse("0a1b2c3d-0000-4000-8000-0000000000bb", &uuid_));
  }
  std::string ReadAll(ChainImageSource* src) {
    std::string out;
    uint8_t buf[1000];  // not a sector multiple
    size_t got = 0;
    do {
      EXPECT_OK(src->Read(buf, sizeof(buf), &got));
      out.append(reinterpret_cast<char*>(buf), got);
    } while (got > 0);
    return out;
  }
  testutil::TempDir dir_;
  std::unique_ptr<Sr> sr_;
  std::string leaf_;
  vhd::Uuid uuid_;
};

TEST_F(ChainImageSourceTest, StreamsOneVhdWithProgress) {
  std::unique_ptr<ChainImageSource> src;
  ASSERT_OK(ChainImageSource::Open(sr_->env(), leaf_, uuid_, 1234, &src));
  ASSERT_GT(src->Size(), 0);
  EXPECT_EQ(src->Progress().done, 0u);
  EXPECT_EQ(src->Progress().total, src->Size());
  std::string bytes = ReadAll(src.get());
  ASSERT_EQ(static_cast<int64_t>(bytes.size()), src->Size());
  EXPECT_EQ(bytes.substr(0, 8), "conectix");
  EXPECT_EQ(bytes.substr(bytes.size() - 512, 8), "conectix");
  EXPECT_EQ(src->Progress().done, bytes.size());
}

TEST_F(ChainImageSourceTest, TheSameUuidAndTimeGiveTheSameBytes) {
  std::unique_ptr<ChainImageSource> a, b, c;
  ASSERT_OK(ChainImageSource::Open(sr_->env(), leaf_, uuid_, 1234, &a));
  ASSERT_OK(ChainImageSource::Open(sr_->env(), leaf_, uuid_, 1234, &b));
  ASSERT_OK(ChainImageSource::Open(sr_->env(), leaf_, uuid_, 1235, &c));
  std::string first = ReadAll(a.get());
  EXPECT_EQ(ReadAll(b.get()), first);
  EXPECT_NE(ReadAll(c.get()), first);
}

TEST_F(ChainImageSourceTest, AMissingLeafIsNotFound) {
  std::unique_ptr<ChainImageSource> src;
  EXPECT_EQ(
      ChainImageSource::Open(sr_->env(), dir_.Join("none.vhd"), uuid_, 1, &src)
          .code(),
      base::Code::kNotFound);
}

TEST_F(ChainImageSourceTest, ALeafOutsideTheSrIsRefused) {
  testutil::TempDir other;
  std::unique_ptr<Sr> other_sr;
  ASSERT_OK(Sr::Open(other.path(), &other_sr));
  Vdi v;
  ASSERT_OK(other_sr->CreateVdi(2 << 20, VdiMeta(), "", &v));
  std::unique_ptr<ChainImageSource> src;
  EXPECT_FALSE(ChainImageSource::Open(sr_->env(), other_sr->VdiPath(v.uuid),
                                      uuid_, 1, &src)
                   .ok());
}

}  // namespace
}  // namespace vhdsm
