// RetryPolicy: when and how long to wait before repeating a failed request.
//
// Transient = no response (connection refused/reset, timeout) or HTTP 408,
// 429, 498 (Swift's rate limit) or 5xx other than 501/505. Attempt k (k = 1
// for the first retry) waits d = min(max_delay, initial * multiplier^(k-1)),
// drawn uniformly from [d * (1 - jitter), d] so that parallel uploaders
// spread out, then multiplied by delay_scale (a deployment's or a test's
// knob: 0.05 makes every backoff 20 times shorter); a server's Retry-After
// (seconds or HTTP-date) raises the wait to at least that, capped at
// max_retry_after_s. Swift itself never sends Retry-After; front ends (load
// balancers, Rackspace) may.
#ifndef VHDSM_UPLOAD_RETRY_POLICY_H_
#define VHDSM_UPLOAD_RETRY_POLICY_H_

#include <ctime>
#include <string>

namespace upload {

struct RetryPolicy {
  int max_attempts = 6;  // in all, the first included (swiftclient: 6)
  double initial_delay_s = 1.0;
  double max_delay_s = 64.0;
  double multiplier = 2.0;
  double jitter = 0.5;  // 0 = exact delays
  double max_retry_after_s = 300.0;
  double delay_scale = 1.0;  // scales backoffs, not Retry-After; < 0 is 0
};

bool IsTransientStatus(long status);

// The wait before retry number `retry` (1-based); `uniform01` in [0, 1).
double BackoffDelay(const RetryPolicy& policy, int retry, double uniform01);

// Seconds a Retry-After value asks for (delta-seconds or an HTTP-date
// relative to `now`), or -1 if empty or unparsable.
double ParseRetryAfter(const std::string& value, std::time_t now);

}  // namespace upload

#endif  // VHDSM_UPLOAD_RETRY_POLICY_H_
