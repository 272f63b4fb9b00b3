// When and how long the uploader waits before repeating a request.
#include "upload/retry_policy.h"

#include <gtest/gtest.h>

namespace upload {
namespace {

TEST(RetryPolicy, TransientStatuses) {
  for (long s : {408L, 429L, 498L, 500L, 502L, 503L, 504L, 507L}) {
    EXPECT_TRUE(IsTransientStatus(s)) << s;
  }
  for (long s : {200L, 201L, 400L, 401L, 403L, 404L, 409L, 411L, 413L, 422L,
                 501L, 505L}) {
    EXPECT_FALSE(IsTransientStatus(s)) << s;
  }
}

TEST(RetryPolicy, ExponentialBackoffWithJitterAndCap) {
  RetryPolicy p;
  p.initial_delay_s = 1;
  p.multiplier = 2;
  p.max_delay_s = 10;
  p.jitter = 0;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 0.7), 1);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 2, 0.7), 2);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 4, 0.7), 8);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 9, 0.7), 10);
  p.jitter = 0.5;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 3, 0.0), 4);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 3, 0.999999), 4 * (1 - 0.5 * 0.999999));
  for (int i = 0; i < 100; ++i) {
    double d = BackoffDelay(p, 3, i / 100.0);
    EXPECT_GE(d, 2);
    EXPECT_LE(d, 4);
  }
}

TEST(RetryPolicy, RetryAfter) {
  std::time_t now = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(ParseRetryAfter("", now), -1);
  EXPECT_EQ(ParseRetryAfter("7", now), 7);
  EXPECT_EQ(ParseRetryAfter("0", now), 0);
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now), 30);
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
  EXPECT_EQ(ParseRetryAfter("soon", now), -1);
}

TEST(RetryPolicy, DelayScaleShortensEveryBackoff) {
  RetryPolicy p;
  p.jitter = 0;
  p.delay_scale = 0.05;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 0.3), 0.05);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 3, 0.3), 0.2);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 20, 0.3), 64 * 0.05);  // the cap, scaled
  p.jitter = 0.5;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 2, 1.0), 0.05);  // 2 s, jittered to 1 s
  p.delay_scale = 0;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 5, 0.5), 0);
  p.delay_scale = -3;  // never a negative wait
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 5, 0.5), 0);
  EXPECT_DOUBLE_EQ(RetryPolicy().delay_scale, 1.0);
}

}  // namespace
}  // namespace upload
