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
#ifndef VHDSM_VHD_HARDEN_H_
#define VHDSM_VHD_HARDEN_H_

#include "vhd/status.h"

namespace vhd {

// kIOError with errno's text when the kernel refuses (it does not on Linux).
Status ProtectCredentials();

}  // namespace vhd

#endif  // VHDSM_VHD_HARDEN_H_
