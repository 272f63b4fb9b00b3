// Tests of sm/vdi_meta.h: the record on disk, its defaults, and hostile
// records (wrong types, not JSON, too large, bytes that are not UTF-8).
#include "sm/vdi_meta.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace vhdsm {
namespace {

const char kUuid[] = "0a1b2c3d-0000-4000-8000-0000000000aa";

class VdiMetaTest : public ::testing::Test {
 protected:
  std::string Slurp(const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  void Plant(const std::string& text) {
    std::ofstream(dir_.Join(std::string(kUuid) + ".json")) << text;
  }
  testutil::TempDir dir_;
  MetaStore store_{base::Env::Default(), dir_.path()};
};

TEST_F(VdiMetaTest, PutWritesOneJsonFileThatGetReadsBack) {
  VdiMeta m;
  m.name_label = "disk";
  m.name_description = "the root disk";
  m.type = "ha_statefile";
  m.read_only = true;
  m.managed = false;
  m.is_a_snapshot = true;
  m.snapshot_of = "0a1b2c3d-0000-4000-8000-0000000000bb";
  m.snapshot_time = "20260101T00:00:00Z";
  ASSERT_OK(store_.Put(kUuid, m));
  std::string path = dir_.Join(std::string(kUuid) + ".json");
  nlohmann::json j = nlohmann::json::parse(Slurp(path));
  EXPECT_EQ(j["name_label"], "disk");
  EXPECT_EQ(j["type"], "ha_statefile");
  EXPECT_EQ(j["read_only"], true);
  EXPECT_EQ(j["managed"], false);
  VdiMeta back;
  ASSERT_OK(store_.Get(kUuid, &back));
  EXPECT_EQ(back.name_label, m.name_label);
  EXPECT_EQ(back.name_description, m.name_description);
  EXPECT_EQ(back.type, m.type);
  EXPECT_TRUE(back.read_only);
  EXPECT_FALSE(back.managed);
  EXPECT_TRUE(back.is_a_snapshot);
  EXPECT_EQ(back.snapshot_of, m.snapshot_of);
  EXPECT_EQ(back.snapshot_time, m.snapshot_time);
  // Nothing but the record: the atomic write left no temporary behind.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(VdiMetaTest, AMissingRecordReadsAsTheDefaultsAndRemoveIsIdempotent) {
  VdiMeta m;
  m.name_label = "stale";
  ASSERT_OK(store_.Get(kUuid, &m));
  EXPECT_EQ(m.name_label, "");
  EXPECT_EQ(m.type, "user");
  EXPECT_TRUE(m.managed);
  ASSERT_OK(store_.Put(kUuid, m));
  ASSERT_OK(store_.Remove(kUuid));
  EXPECT_FALSE(
      std::filesystem::exists(dir_.Join(std::string(kUuid) + ".json")));
  EXPECT_OK(store_.Remove(kUuid));
}

TEST_F(VdiMetaTest, WrongTypesKeepTheDefaults) {
  Plant(
      "{\"name_label\":5,\"type\":[],\"read_only\":\"yes\",\"managed\":null,"
      "\"is_a_snapshot\":1,\"snapshot_of\":{},\"name_description\":\"ok\"}");
  VdiMeta m;
  ASSERT_OK(store_.Get(kUuid, &m));
  EXPECT_EQ(m.name_label, "");
  EXPECT_EQ(m.type, "user");
  EXPECT_FALSE(m.read_only);
  EXPECT_TRUE(m.managed);
  EXPECT_FALSE(m.is_a_snapshot);
  EXPECT_EQ(m.snapshot_of, "");
  EXPECT_EQ(m.name_description, "ok");
}

TEST_F(VdiMetaTest, ARecordThatIsNotAJsonObjectIsCorruption) {
  for (const std::string& text :
       {std::string("[]"), std::string("\"x\""), std::string("{"),
        std::string(""), std::string(1000, '[')}) {
    Plant(text);
    VdiMeta m;
    base::Status s = store_.Get(kUuid, &m);
    EXPECT_EQ(s.code(), base::Code::kCorruption) << text.substr(0, 20);
  }
}

TEST_F(VdiMetaTest, AnOversizedRecordIsRefusedBeforeItIsRead) {
  Plant("{\"name_label\":\"" + std::string((1 << 20) + 1, 'a') + "\"}");
  VdiMeta m;
  EXPECT_EQ(store_.Get(kUuid, &m).code(), base::Code::kTooLarge);
}

TEST_F(VdiMetaTest, NamesThatAreNotUtf8AreStoredReplaced) {
  VdiMeta m;
  m.name_label = "disk \xff\xfe";
  ASSERT_OK(store_.Put(kUuid, m));
  VdiMeta back;
  ASSERT_OK(store_.Get(kUuid, &back));
  EXPECT_EQ(back.name_label, "disk \xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace vhdsm
