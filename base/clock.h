// Clock: the two times the project records. Wall time for people (task
// records, SR metadata) as ISO 8601 UTC, and a monotonic clock for
// intervals (rates, throttling), which never goes back when the wall clock
// is set.
#ifndef VHDSM_BASE_CLOCK_H_
#define VHDSM_BASE_CLOCK_H_

#include <ctime>
#include <string>

namespace base {

// `t` as "YYYY-MM-DDTHH:MM:SSZ" (UTC); "" if it cannot be represented.
std::string FormatIsoUtc(time_t t);

// Now, as FormatIsoUtc.
std::string NowIso();

// Seconds on a monotonic clock with an arbitrary origin: for differences.
double MonotonicSeconds();

}  // namespace base

#endif  // VHDSM_BASE_CLOCK_H_
