// The SLO manifest body and the ETag Swift gives a large object.
#include "upload/slo_manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "upload/md5.h"

namespace upload {
namespace {

TEST(SloManifest, JsonAndEtag) {
  std::vector<ManifestEntry> e = {
      {"/c_segments/o/1/00000000", Md5::Of("a"), 1},
      {"/c_segments/o/1/00000001", Md5::Of("bc"), 2}};
  nlohmann::json j = nlohmann::json::parse(SloManifestJson(e));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["path"], "/c_segments/o/1/00000001");
  EXPECT_EQ(j[1]["etag"], Md5::Of("bc"));
  EXPECT_EQ(j[1]["size_bytes"], 2);
  EXPECT_EQ(LargeObjectEtag(e), Md5::Of(Md5::Of("a") + Md5::Of("bc")));
  EXPECT_EQ(TotalSize(e), 3u);
}

}  // namespace
}  // namespace upload
