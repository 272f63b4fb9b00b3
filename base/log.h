// Log: where the transports write diagnostics. syslog and stderr only,
// never stdout (in exec mode stdout carries the one <methodResponse>).
//
// Defaults: ident "vhdsm", facility LOG_LOCAL2 (where xapi-project/sm's
// SMlog goes, /var/log/SMlog on a XenServer host), both sinks on. Priorities
// are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). Thread-safe.
#ifndef VHDSM_BASE_LOG_H_
#define VHDSM_BASE_LOG_H_

#include <syslog.h>

#include <functional>
#include <string>
#include <string_view>

namespace base {

struct LogOptions {
  std::string ident = "vhdsm";
  int facility = LOG_LOCAL2;
  bool to_syslog = true;
  bool to_stderr = true;
  // Messages less important than this are dropped (LOG_DEBUG keeps all).
  int max_priority = LOG_INFO;
};

void ConfigureLog(const LogOptions& options);

// Writes one line: to syslog as is, to stderr as "<ident>: <message>\n".
// Control characters in `message` are replaced so one call is one line.
void Log(int priority, std::string_view message);

// Tests: while set, every message goes to `sink` instead (after the
// priority filter). An empty function restores the configured sinks.
using LogSink = std::function<void(int priority, std::string_view message)>;
void SetLogSinkForTesting(LogSink sink);

}  // namespace base

#endif  // VHDSM_BASE_LOG_H_
