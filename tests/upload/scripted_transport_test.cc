// The test transport itself: rule order, recording, bodies, cancel.
#include "tests/upload/scripted_transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace uploadtest {
namespace {

using upload::HttpRequest;
using upload::HttpResponse;
using upload::Transport;

HttpRequest Req(const std::string& method, const std::string& url) {
  HttpRequest r;
  r.method = method;
  r.url = url;
  return r;
}

TEST(HttpScript, QueuedRepliesComeFirstThenServedOnes) {
  HttpScript script;
  script.Serve("GET", "^/a", [](const Exchange& e) {
    return Reply::Status(200, "served " + e.path).Set("X-Y", "z");
  });
  script.Queue("GET", "^/a/1$", {Reply::Status(503), Reply::Reset()});
  auto t = script.NewTransport();
  HttpResponse r;
  ASSERT_OK(t->Perform(Req("GET", "https://h.test/a/1"), &r));
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(t->Perform(Req("GET", "https://h.test/a/1"), &r).ok());
  EXPECT_EQ(r.transport, Transport::kRetryable);
  ASSERT_OK(t->Perform(Req("GET", "https://h.test/a/1"), &r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "served /a/1");
  EXPECT_EQ(r.Header("x-y"), "z");
  // Another method, or no rule at all: a fatal failure, listed.
  EXPECT_FALSE(t->Perform(Req("DELETE", "https://h.test/a/1"), &r).ok());
  EXPECT_EQ(r.transport, Transport::kFatal);
  EXPECT_EQ(script.Unmatched(),
            std::vector<std::string>{"DELETE https://h.test/a/1"});
  EXPECT_EQ(script.Requests().size(), 4u);
  EXPECT_EQ(script.Requests("GET", "/a/1$").size(), 3u);
}

TEST(HttpScript, RecordsHeadersAndWholeBodies) {
  HttpScript script;
  script.Serve("PUT", "/", [](const Exchange&) { return Reply::Status(201); });
  auto t = script.NewTransport();
  HttpRequest req = Req("PUT", "https://h.test/c/o?x=1");
  req.headers = {"ETag: abc", "X-Auth-Token:  tok"};
  std::string data = "0123456789";
  req.body.data = reinterpret_cast<const uint8_t*>(data.data());
  req.body.size = data.size();
  HttpResponse r;
  ASSERT_OK(t->Perform(req, &r));

  testutil::TempDir tmp;
  testutil::WriteFile(tmp.Join("f"), "..file body..");
  int fd = ::open(tmp.Join("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  req.body = {};
  req.body.fd = fd;
  req.body.offset = 2;
  req.body.size = 9;
  ASSERT_OK(t->Perform(req, &r));
  ::close(fd);

  auto log = script.Requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].path, "/c/o?x=1");
  EXPECT_EQ(log[0].Header("etag"), "abc");
  EXPECT_EQ(log[0].Header("X-AUTH-TOKEN"), "tok");
  EXPECT_FALSE(log[0].HasHeader("Content-Type"));
  EXPECT_EQ(log[0].body, data);
  EXPECT_EQ(log[1].body, "file body");
}

class Stream : public upload::BodyStream {
 public:
  explicit Stream(int64_t fail_at) : fail_at_(fail_at) {}
  int64_t ReadAt(uint64_t offset, uint8_t* buf, size_t n) override {
    if (fail_at_ >= 0 && offset >= static_cast<uint64_t>(fail_at_)) return -1;
    if (offset >= 100000) return 0;
    size_t k = std::min<size_t>(n, 100000 - offset);
    for (size_t i = 0; i < k; ++i) buf[i] = static_cast<uint8_t>(offset + i);
    return static_cast<int64_t>(k);
  }

 private:
  int64_t fail_at_;
};

TEST(HttpScript, StreamedBodiesAndCancel) {
  HttpScript script;
  script.Serve("PUT", "/", [](const Exchange&) { return Reply::Status(201); });
  bool cancel = false;
  upload::HttpOptions o;
  o.cancelled = [&] { return cancel; };
  auto t = script.NewTransport(o);
  Stream whole(-1), broken(70000);
  HttpRequest req = Req("PUT", "https://h.test/s");
  req.body.stream = &whole;
  HttpResponse r;
  ASSERT_OK(t->Perform(req, &r));
  ASSERT_EQ(script.Requests()[0].body.size(), 100000u);
  EXPECT_EQ(static_cast<uint8_t>(script.Requests()[0].body[70001]),
            static_cast<uint8_t>(70001));
  req.body.stream = &broken;
  EXPECT_FALSE(t->Perform(req, &r).ok());
  EXPECT_EQ(r.transport, Transport::kFatal);
  cancel = true;
  EXPECT_FALSE(t->Perform(Req("GET", "https://h.test/s"), &r).ok());
  EXPECT_EQ(r.transport, Transport::kCancelled);
  EXPECT_EQ(script.Requests().size(), 1u);  // neither reached the server
}

}  // namespace
}  // namespace uploadtest
