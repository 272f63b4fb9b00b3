#include "upload/retry_policy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace upload {

bool IsTransientStatus(long status) {
  if (status == 408 || status == 429 || status == 498) return true;
  return status >= 500 && status <= 599 && status != 501 && status != 505;
}

double BackoffDelay(const RetryPolicy& policy, int retry, double uniform01) {
  double d = policy.initial_delay_s *
             std::pow(policy.multiplier, std::max(0, retry - 1));
  d = std::min(d, policy.max_delay_s);
  double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  return d * (1.0 - jitter * std::clamp(uniform01, 0.0, 1.0)) *
         std::max(0.0, policy.delay_scale);
}

double ParseRetryAfter(const std::string& value, std::time_t now) {
  if (value.empty()) return -1;
  bool digits = std::all_of(value.begin(), value.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    if (value.size() > 9) return -1;
    return static_cast<double>(std::strtol(value.c_str(), nullptr, 10));
  }
  time_t when = curl_getdate(value.c_str(), nullptr);
  if (when == -1) return -1;
  return std::max(0.0, std::difftime(when, now));
}

}  // namespace upload
