// The exec transport: one request per process, as xapi runs SM drivers.
//
// xapi execs the driver with the whole <methodCall> as argv[1] (at most
// 128 KiB, the kernel's MAX_ARG_STRLEN), reads exactly one <methodResponse>
// from stdout, and requires exit status 0 even for faults. So:
//   - argc == 2: the request is argv[1];
//   - argc == 1: the request is read from stdin, at most
//     Limits::max_body_bytes (a larger input is refused after reading one
//     byte more than the limit; the rest is never read);
//   - anything else is a parse_error fault, as sm's SRCommand raises
//     BadRequest unless len(sys.argv) == 2.
// The response goes to stdout and nothing else does; diagnostics go to
// log.h (syslog and stderr): faults at LOG_WARNING, each call at LOG_DEBUG.
#ifndef VHDSM_XMLRPC_EXEC_H_
#define VHDSM_XMLRPC_EXEC_H_

#include <unistd.h>

#include <string>

#include "xmlrpc/dispatcher.h"

namespace xmlrpc {

// Returns the <methodResponse> for this invocation; never fails.
std::string HandleExecInvocation(const Dispatcher& dispatcher, int argc,
                                 const char* const* argv,
                                 int stdin_fd = STDIN_FILENO);

// A complete main(): HandleExecInvocation, the response written to stdout,
// and the exit status (always 0, as xapi requires).
int RunExecMain(const Dispatcher& dispatcher, int argc,
                const char* const* argv);

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_EXEC_H_
