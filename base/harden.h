// ProtectCredentials: process hardening for a process about to hold an
// object-store key or token (vhdsmd, image task workers, the CLIs when they
// read a key).
//
// Makes the process non-dumpable (prctl PR_SET_DUMPABLE 0: no core file, and
// other processes of the same uid can neither ptrace it nor read its
// /proc/PID/mem or environ) and sets RLIMIT_CORE to 0, soft and hard. Both
// last for the life of the process; RLIMIT_CORE is inherited by children,
// while execve makes a child dumpable again, so a helper that reads a key
// calls this itself. Idempotent and cheap: call it before each read of a
// credential rather than once at a distance from it.
#ifndef VHDSM_BASE_HARDEN_H_
#define VHDSM_BASE_HARDEN_H_

#include "base/status.h"

namespace base {

// kIOError with errno's text when the kernel refuses (it does not on Linux).
Status ProtectCredentials();

}  // namespace base

#endif  // VHDSM_BASE_HARDEN_H_
