#include "base/log.h"

#include <unistd.h>

#include <mutex>

namespace base {

namespace {

struct LogState {
  std::mutex mu;
  LogOptions options;
  bool syslog_open = false;
  LogSink test_sink;
};

LogState& State() {
  static LogState* state = new LogState();  // never destroyed: usable at exit
  return *state;
}

}  // namespace

void ConfigureLog(const LogOptions& options) {
  LogState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.options = options;
  if (s.syslog_open) {
    closelog();
    s.syslog_open = false;
  }
}

void Log(int priority, std::string_view message) {
  LogState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  if (priority > s.options.max_priority) return;
  std::string line;
  line.reserve(message.size());
  for (char c : message) {
    line += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  if (s.test_sink) {
    s.test_sink(priority, line);
    return;
  }
  if (s.options.to_syslog) {
    if (!s.syslog_open) {
      // openlog keeps the pointer: options.ident lives until reconfigured,
      // and ConfigureLog closes the log first.
      openlog(s.options.ident.c_str(), LOG_PID | LOG_NDELAY,
              s.options.facility);
      s.syslog_open = true;
    }
    syslog(priority, "%s", line.c_str());
  }
  if (s.options.to_stderr) {
    std::string out = s.options.ident + ": " + line + "\n";
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n <= 0) break;  // nothing sensible to do about a broken stderr
      done += static_cast<size_t>(n);
    }
  }
}

void SetLogSinkForTesting(LogSink sink) {
  LogState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  s.test_sink = std::move(sink);
}

}  // namespace base
