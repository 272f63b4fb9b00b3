#include "base/harden.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>

namespace base {

Status ProtectCredentials() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Status::FromErrno(errno, "prctl(PR_SET_DUMPABLE, 0)");
  }
  struct rlimit none = {0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    return Status::FromErrno(errno, "setrlimit(RLIMIT_CORE, 0)");
  }
  return Status::OK();
}

}  // namespace base
