// SpawnDetached: starts a helper process that outlives its caller.
//
// Under xapi's exec model a VHDSR process exits right after answering, so
// work that takes longer (the GC, an image task) runs in a child started
// here: its own session (no signal from the caller's group reaches it),
// stdin/stdout/stderr on /dev/null (xapi reads exactly one response from
// the caller's stdout), not waited for. The child is `helper`, or this very
// executable when `helper` is empty, run with `args`. A non-empty `config`
// is the child's $VHDSM_CONFIG: every helper (VHDSR, vhdsm, vhdsmd via
// Host::Create) reads the configuration its parent was given, whatever the
// helper's own command line looks like.
#ifndef VHDSM_BASE_SPAWN_H_
#define VHDSM_BASE_SPAWN_H_

#include <string>
#include <vector>

namespace base {

// False (and nothing started) when the executable cannot be found or run.
bool SpawnDetached(const std::string& helper,
                   const std::vector<std::string>& args,
                   const std::string& config = "");

}  // namespace base

#endif  // VHDSM_BASE_SPAWN_H_
