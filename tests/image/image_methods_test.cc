// Tests of image/image_methods.h: the image methods on a Plugin, as xapi-
// style calls on the wire, with their fault codes; no object store (no task
// gets as far as uploading).
#include "image/image_methods.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "image/image_task.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "xmlrpc/parser.h"

namespace vhdsm {
namespace {

const char kSrUuid[] = "a4c1e8f2-0000-4000-8000-000000000001";
const char kTask[] = "0a1b2c3d-0000-4000-8000-000000000001";

class ImageMethodsTest : public ::testing::Test {
 protected:
  ImageMethodsTest() : images_(base::Env::Default(), Options(state_.path())) {
    RegisterImageMethods(&plugin_, {&images_, true});
    RegisterImageMethods(&bare_, {});
  }

  // One struct param: device_config:location = the SR, sr_uuid, `members`.
  xmlrpc::Response Send(const Plugin& plugin, const std::string& method,
                        const std::string& members) {
    std::string xml =
        "<methodCall><methodName>" + method +
        "</methodName><params><param><value><struct>"
        "<member><name>device_config</name><value><struct><member><name>"
        "location</name><value>" +
        dir_.path() +
        "</value></member></struct></value></member>"
        "<member><name>sr_uuid</name><value>" +
        kSrUuid + "</value></member>" + members +
        "</struct></value></param></params></methodCall>";
    std::string out = plugin.Handle(xml);
    auto r = xmlrpc::ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    return r.ok() ? r.value() : xmlrpc::Response(xmlrpc::Fault{-1, out});
  }
  static std::string Member(const std::string& k, const std::string& v) {
    return "<member><name>" + k + "</name><value>" + v + "</value></member>";
  }
  static std::string Image(const std::string& extra) {
    return "<member><name>image</name><value><struct>" +
           Member("container", "c") + Member("object", "o") + extra +
           "</struct></value></member>";
  }
  std::string CreateVdi() {
    xmlrpc::Response r =
        Send(plugin_, "vdi_create",
             "<member><name>args</name><value><array><data><value>4194304"
             "</value></data></array></value></member>");
    EXPECT_OK(r);
    return r.ok() ? r.value().as_struct().Find("uuid")->as_string() : "";
  }
  static int Code(const xmlrpc::Response& r) {
    return r.ok() ? 0 : r.fault().code;
  }

  testutil::TempDir dir_;
  testutil::TempDir state_;
  // One configured store, "s", that nothing answers.
  static ImageServiceOptions Options(const std::string& state_dir) {
    ImageServiceOptions o;
    o.state_dir = state_dir;
    StoreConfig store;
    store.name = "s";
    store.auth_url = "https://127.0.0.1:1/auth/v1.0";
    store.user = "u";
    o.stores["s"] = store;
    return o;
  }

  ImageService images_;
  Plugin plugin_;
  Plugin bare_;  // no ImageService
};

TEST_F(ImageMethodsTest, ImageSizesUseTheOneParser) {
  std::string u = CreateVdi();
  std::string vdi = Member("vdi_location", u);
  for (const Plugin* p : {&plugin_, &bare_}) {
    xmlrpc::Response r = Send(*p, "image_create",
                              vdi + Image(Member("segment_size", "16777217T")));
    EXPECT_EQ(Code(r), 143);
    EXPECT_NE(r.fault().message.find("segment_size"), std::string::npos);
    EXPECT_EQ(Code(Send(*p, "image_create",
                        vdi + Image(Member("segment_size", "1M ")))),
              143);
    EXPECT_EQ(Code(Send(*p, "image_create",
                        vdi + Image(Member("compression_level", "1K")))),
              143);
    EXPECT_EQ(Code(Send(*p, "image_create",
                        vdi + Image(Member("parallel_segments", "-2")))),
              143);
  }
  // No task was recorded.
  EXPECT_FALSE(std::filesystem::exists(dir_.Join(".vhdsm/tasks")) &&
               !std::filesystem::is_empty(dir_.Join(".vhdsm/tasks")));
}

TEST_F(ImageMethodsTest, WithoutAnImageServiceTheMethodsAreUnimplemented) {
  xmlrpc::Response r = Send(bare_, "image_create",
                            Member("vdi_location", CreateVdi()) + Image(""));
  EXPECT_EQ(Code(r), 38);
  EXPECT_EQ(r.fault().message,
            "The requested method is not supported/implemented "
            "[opterr=image tasks are not available in this host]");
  EXPECT_EQ(Code(Send(bare_, "task_list", "")), 38);
  EXPECT_EQ(Code(Send(bare_, "task_status", Member("task_id", kTask))), 38);
}

TEST_F(ImageMethodsTest, TaskIdsAreCheckedAndUnknownTasksFault) {
  xmlrpc::Response r = Send(plugin_, "task_status", Member("task_id", "../x"));
  EXPECT_EQ(Code(r), 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=task_id '../x' is not a task "
            "id]");
  for (const char* m : {"task_status", "task_cancel", "task_resume"}) {
    r = Send(plugin_, m, Member("task_id", kTask));
    EXPECT_EQ(Code(r), 202) << m;
    EXPECT_EQ(
        r.fault().message,
        std::string("General backend error [opterr=no task ") + kTask + "]")
        << m;
  }
  r = Send(plugin_, "task_list", "");
  ASSERT_OK(r);
  EXPECT_TRUE(r.value().as_array().empty());
}

TEST_F(ImageMethodsTest, ImageOfAMissingVdiIs144) {
  xmlrpc::Response r =
      Send(plugin_, "image_create",
           Member("vdi_location", "0a1b2c3d-0000-4000-8000-0000000000aa") +
               Image(Member("store", "s")));
  EXPECT_EQ(Code(r), 144) << r.fault().message;
  // The store is checked first: an unknown one is the caller's error.
  r = Send(
      plugin_, "image_create",
      Member("vdi_location", CreateVdi()) + Image(Member("store", "nope")));
  EXPECT_EQ(Code(r), 143);
  EXPECT_EQ(r.fault().message,
            "Failed to parse the request [opterr=image: no store 'nope' is "
            "configured]");
}

TEST_F(ImageMethodsTest, OnlyTheMasterCreatesImages) {
  std::string u = CreateVdi();
  std::string xml =
      "<methodCall><methodName>image_create</methodName><params><param>"
      "<value><struct><member><name>device_config</name><value><struct>" +
      Member("location", dir_.path()) + Member("SRmaster", "false") +
      "</struct></value></member>" + Member("vdi_location", u) + Image("") +
      "</struct></value></param></params></methodCall>";
  auto r = xmlrpc::ParseMethodResponse(plugin_.Handle(xml));
  ASSERT_OK(r);
  EXPECT_EQ(Code(r.value()), 202);
}

}  // namespace
}  // namespace vhdsm
