// SR locations: which directories a caller may name as device_config's
// location.
//
// For every caller the location must be an existing directory that is not
// itself a symbolic link (FileSR uses it in place; it is never created).
// A caller who is not root on the host (a request over the loopback TCP
// port, which every local user can reach, or from a non-root peer on the
// Unix socket) may in addition name only a directory strictly inside one of
// the configured roots ([daemon] sr_roots). The comparison is made on the
// resolved paths, so a root that is reached through a symlink (/var/run ->
// /run) still works, while a location that leaves its root through ".." or
// a symlinked component does not.
#ifndef VHDSM_SM_SR_LOCATION_H_
#define VHDSM_SM_SR_LOCATION_H_

#include <string>
#include <vector>

#include "base/status.h"

namespace vhdsm {

// The default of [daemon] sr_roots: where xapi mounts SRs, and /srv.
inline const std::vector<std::string> kDefaultSrRoots = {"/var/run/sr-mount",
                                                         "/srv"};

// OK, or why `location` (an absolute path) may not be used: kNotFound (it
// does not exist), kInvalidArgument (a symlink, not a directory, or, when
// `confined`, outside every root of `roots`). Touches nothing.
base::Status CheckSrLocation(const std::string& location, bool confined,
                             const std::vector<std::string>& roots);

}  // namespace vhdsm

#endif  // VHDSM_SM_SR_LOCATION_H_
