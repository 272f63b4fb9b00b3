#include "base/clock.h"

#include <chrono>

namespace base {

std::string FormatIsoUtc(time_t t) {
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string NowIso() { return FormatIsoUtc(time(nullptr)); }

double MonotonicSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace base
