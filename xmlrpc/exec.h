// The exec transport: one request per process, as xapi runs SM drivers.
//
// xapi execs the driver with the whole <methodCall> as argv[1] (at most
// 128 KiB, the kernel's MAX_ARG_STRLEN), reads exactly one <methodResponse>
// from stdout, and requires exit status 0 even for faults. So:
//   - argc == 2: the request is argv[1];
//   - argc == 1: the request is read from stdin, at most
//     ExecOptions::max_request_bytes (a larger input is refused after
//     reading one byte more than the limit; the rest is never read);
//   - anything else is a parse_error fault, as sm's SRCommand raises
//     BadRequest unless len(sys.argv) == 2.
// The response goes to stdout and nothing else does; diagnostics go to
// log.h (syslog and stderr): refusals and faults at LOG_WARNING, each call
// at LOG_DEBUG.
//
// What answers the request is either a Dispatcher in this process or any
// ExecHandler (VHDSR's hands the bytes to libvhdsm.so through its C ABI):
// the transport is the same for both.
#ifndef VHDSM_XMLRPC_EXEC_H_
#define VHDSM_XMLRPC_EXEC_H_

#include <unistd.h>

#include <functional>
#include <string>
#include <string_view>

#include "xmlrpc/dispatcher.h"

namespace xmlrpc {

// Answers one request that passed the transport's checks with the complete
// <methodResponse> document. Must not fail: errors are fault documents.
using ExecHandler = std::function<std::string(std::string_view request)>;

struct ExecOptions {
  // The fault of a request the transport refuses (argument count, size,
  // unreadable stdin).
  FaultKind parse_error = FaultPolicy().parse_error;
  size_t max_request_bytes = Limits().max_body_bytes;
  Style style = Style::kCompact;  // of the refusal documents
};

// Returns the <methodResponse> for this invocation; never fails.
std::string HandleExecInvocation(const ExecHandler& handler,
                                 const ExecOptions& options, int argc,
                                 const char* const* argv,
                                 int stdin_fd = STDIN_FILENO);

// The same with `dispatcher` answering, under its options' fault policy,
// body limit and style; each call is logged with its method and outcome.
std::string HandleExecInvocation(const Dispatcher& dispatcher, int argc,
                                 const char* const* argv,
                                 int stdin_fd = STDIN_FILENO);

// Writes `response` to stdout, whole (retrying short writes and EINTR).
// False, after logging why, when stdout refuses it.
bool WriteExecResponse(std::string_view response);

// Complete main()s: HandleExecInvocation, the response written to stdout,
// and the exit status (always 0, as xapi requires).
int RunExecMain(const ExecHandler& handler, const ExecOptions& options,
                int argc, const char* const* argv);
int RunExecMain(const Dispatcher& dispatcher, int argc,
                const char* const* argv);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_EXEC_H_
