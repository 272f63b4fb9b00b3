// SwiftSession's classification of answers, retries, re-authentication and
// cancel, against the scripted store.
#include "upload/swift_session.h"

#include <gtest/gtest.h>

#include "tests/upload/fake_swift.h"
#include "tests/upload/scripted_transport.h"
#include "tests/util/status_matchers.h"

namespace upload {
namespace {

using uploadtest::FakeSwift;
using uploadtest::HttpScript;
using uploadtest::Reply;

class Session : public ::testing::Test {
 protected:
  Session() : swift_(&script_), http_(script_.NewTransport()) {
    store_ = swift_.Store();
    store_.retry.max_attempts = 3;
  }
  std::unique_ptr<SwiftSession> Make(std::function<bool()> cancelled = {}) {
    return std::make_unique<SwiftSession>(
        store_.auth, store_.retry, std::move(cancelled),
        [this](const std::string& line) { log_.push_back(line); });
  }
  base::Status Get(SwiftSession* s, const CallOptions& o = {}) {
    return s->Call(http_.get(), "GET", "/c/o", {"X-Test: 1"}, {}, &resp_, o);
  }

  HttpScript script_;
  FakeSwift swift_;
  std::unique_ptr<HttpTransport> http_;
  SwiftStore store_;
  HttpResponse resp_;
  std::vector<std::string> log_;
};

TEST_F(Session, SendsTheTokenAndHeadersToTheStorageUrl) {
  script_.Queue("GET", "/c/o$", {Reply::Status(200, "body")});
  auto s = Make();
  ASSERT_OK(Get(s.get()));
  EXPECT_EQ(resp_.body, "body");
  auto gets = script_.Requests("GET", "/c/o$");
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].url, std::string(FakeSwift::kStorageUrl) + "/c/o");
  EXPECT_EQ(gets[0].Header("X-Auth-Token"), "tok-1");
  EXPECT_EQ(gets[0].Header("X-Test"), "1");
  EXPECT_EQ(s->storage_url(), FakeSwift::kStorageUrl);
  EXPECT_EQ(s->stats().requests, 1u);  // storage requests only
}

TEST_F(Session, ARefusalIsRejectedAtOnceWithTheBodySanitized) {
  script_.Queue("GET", "/c/o$",
                {Reply::Status(403, "no\n\x1b[2J" + std::string(5000, 'x'))});
  auto s = Make();
  base::Status st = Get(s.get());
  EXPECT_EQ(ErrorOf(st), UploadError::kRejected) << st.ToString();
  EXPECT_NE(st.message().find(": 403 (no\\x0A\\x1B[2J"), std::string::npos);
  EXPECT_LT(st.message().size(), 700u);
  EXPECT_EQ(script_.Requests("GET", "/c/o$").size(), 1u);
}

TEST_F(Session, AlsoOkStatusesAreAnswers) {
  auto s = Make();
  ASSERT_OK(Get(s.get(), CallOptions::NotFoundOk()));  // the fake has no c/o
  EXPECT_EQ(resp_.status, 404);
  EXPECT_EQ(ErrorOf(Get(s.get())), UploadError::kRejected);
}

TEST_F(Session, TransientFailuresAreRetriedThenExhausted) {
  script_.Queue("GET", "/c/o$",
                {Reply::Status(503), Reply::Reset(), Reply::Status(429)});
  auto s = Make();
  base::Status st = Get(s.get());
  EXPECT_EQ(ErrorOf(st), UploadError::kRetriesExhausted) << st.ToString();
  EXPECT_NE(st.message().find("429 after 3 attempts"), std::string::npos);
  EXPECT_EQ(script_.Requests("GET", "/c/o$").size(), 3u);
  EXPECT_EQ(s->stats().retries, 2u);
  EXPECT_EQ(s->stats().requests, 3u);
}

TEST_F(Session, RetryAfterRaisesTheWaitUpToItsCap) {
  store_.retry.max_retry_after_s = 0.01;
  script_.Queue("GET", "/c/o$", {Reply::Status(503).Set("Retry-After", "30")});
  auto s = Make();
  ASSERT_OK(Get(s.get(), CallOptions::NotFoundOk()));
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("503; retry 1 in 0.010000 s"), std::string::npos)
      << log_[0];
}

TEST_F(Session, AFatalTransportErrorIsNotRetried) {
  script_.Queue("GET", "/c/o$", {Reply{Transport::kFatal, 0, {}, ""}});
  auto s = Make();
  EXPECT_EQ(ErrorOf(Get(s.get())), UploadError::kTransport);
  EXPECT_EQ(script_.Requests("GET", "/c/o$").size(), 1u);
}

TEST_F(Session, CancelEndsTheWaitBeforeARetry) {
  store_.retry.initial_delay_s = 3600;  // a wait only a cancel can end
  store_.retry.max_delay_s = 3600;
  bool cancel = false;
  script_.Queue("GET", "/c/o$", {Reply::Status(503)});
  auto s = Make([&] { return cancel; });
  ASSERT_OK(s->Connect(http_.get()));
  cancel = true;
  base::Status st = Get(s.get());
  EXPECT_EQ(ErrorOf(st), UploadError::kCancelled) << st.ToString();
  EXPECT_EQ(script_.Requests("GET", "/c/o$").size(), 1u);
}

TEST_F(Session, AuthIsRetriedOnlyWhenTransient) {
  script_.Queue("GET", "^/auth/", std::vector<Reply>(3, Reply::Status(500)));
  auto s = Make();
  base::Status st = s->Connect(http_.get());
  EXPECT_EQ(ErrorOf(st), UploadError::kRetriesExhausted) << st.ToString();
  EXPECT_NE(st.message().find("(after 3 attempts)"), std::string::npos);
  EXPECT_EQ(script_.Requests("GET", "^/auth/").size(), 3u);

  store_.auth.key = "wrong";
  auto bad = Make();
  st = bad->Connect(http_.get());
  EXPECT_EQ(ErrorOf(st), UploadError::kAuthFailed) << st.ToString();
  EXPECT_EQ(script_.Requests("GET", "^/auth/").size(), 4u);  // no retry
  EXPECT_EQ(st.message().find("wrong"), std::string::npos);
}

TEST_F(Session, AnotherThreadsRenewedTokenIsReused) {
  auto s = Make();
  ASSERT_OK(s->Connect(http_.get()));
  swift_.ExpireToken();
  script_.Queue("GET", "/c/o$", {Reply::Status(401)});
  ASSERT_OK(Get(s.get(), CallOptions::NotFoundOk()));
  EXPECT_EQ(s->stats().reauths, 1u);
  EXPECT_EQ(s->current_auth().token, "tok-2");
  // A session seeded with the token needs no auth of its own.
  auto seeded = Make();
  seeded->Seed(s->current_auth());
  ASSERT_OK(Get(seeded.get(), CallOptions::NotFoundOk()));
  EXPECT_EQ(script_.Requests("GET", "^/auth/").size(), 2u);
}

TEST_F(Session, AStreamedBodysEtagIsAskedOnlyAfterACompleteAnswer) {
  int asked = 0;
  CallOptions o;
  o.expected_etag_after = [&] {
    ++asked;
    return std::string("abc");
  };
  script_.Queue(
      "GET", "/c/o$",
      {Reply::Status(503), Reply::Status(200).Set("ETag", "\"abc\"")});
  auto s = Make();
  ASSERT_OK(Get(s.get(), o));
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace upload
