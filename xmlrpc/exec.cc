#include "xmlrpc/exec.h"

#include <cerrno>
#include <chrono>

#include "base/log.h"
#include "xmlrpc/writer.h"

namespace xmlrpc {

namespace {

// Reads at most `max + 1` bytes, so that "more than max" is detectable
// without reading an unbounded input. False on a read error.
bool ReadBounded(int fd, size_t max, std::string* out, std::string* error) {
  out->clear();
  char buf[65536];
  while (out->size() <= max) {
    size_t want = std::min(sizeof(buf), max + 1 - out->size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = "cannot read stdin: errno " + std::to_string(errno);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

ExecOptions OptionsOf(const Dispatcher& dispatcher) {
  const Dispatcher::Options& d = dispatcher.options();
  ExecOptions options;
  options.parse_error = d.faults.parse_error;
  options.max_request_bytes = d.limits.max_body_bytes;
  options.style = d.style;
  return options;
}

}  // namespace

std::string HandleExecInvocation(const ExecHandler& handler,
                                 const ExecOptions& options, int argc,
                                 const char* const* argv, int stdin_fd) {
  auto refuse = [&](const std::string& detail) {
    Fault fault = MakeFault(options.parse_error, detail);
    base::Log(LOG_WARNING, "request refused: " + fault.message);
    return WriteFault(fault, options.style);
  };

  std::string stdin_request;
  std::string_view request;
  if (argc == 2) {
    request = argv[1];
  } else if (argc <= 1) {
    std::string error;
    if (!ReadBounded(stdin_fd, options.max_request_bytes, &stdin_request,
                     &error)) {
      return refuse(error);
    }
    request = stdin_request;
  } else {
    return refuse("expected the request as the only argument, got " +
                  std::to_string(argc - 1) + " arguments");
  }
  if (request.size() > options.max_request_bytes) {
    return refuse("request larger than " +
                  std::to_string(options.max_request_bytes) + " bytes");
  }
  return handler(request);
}

std::string HandleExecInvocation(const Dispatcher& dispatcher, int argc,
                                 const char* const* argv, int stdin_fd) {
  auto handle = [&](std::string_view request) {
    auto start = std::chrono::steady_clock::now();
    Dispatcher::Outcome outcome;
    std::string response = dispatcher.Handle(request, &outcome);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    std::string method = outcome.method.empty() ? "(unparsed)" : outcome.method;
    if (outcome.fault) {
      base::Log(LOG_WARNING, method + ": fault " +
                                 std::to_string(outcome.fault->code) + ": " +
                                 outcome.fault->message);
    } else {
      base::Log(LOG_DEBUG,
                method + ": ok in " + std::to_string(micros) + " us");
    }
    return response;
  };
  return HandleExecInvocation(handle, OptionsOf(dispatcher), argc, argv,
                              stdin_fd);
}

bool WriteExecResponse(std::string_view response) {
  size_t done = 0;
  while (done < response.size()) {
    ssize_t n =
        ::write(STDOUT_FILENO, response.data() + done, response.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      base::Log(LOG_ERR, "cannot write the response to stdout");
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

int RunExecMain(const ExecHandler& handler, const ExecOptions& options,
                int argc, const char* const* argv) {
  WriteExecResponse(HandleExecInvocation(handler, options, argc, argv));
  return 0;
}

int RunExecMain(const Dispatcher& dispatcher, int argc,
                const char* const* argv) {
  WriteExecResponse(HandleExecInvocation(dispatcher, argc, argv));
  return 0;
}

}  // namespace xmlrpc
