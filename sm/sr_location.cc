#include "sm/sr_location.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace vhdsm {

namespace {

// The canonical path of an existing `path`, or "" if it cannot be resolved.
std::string Resolve(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(
      ::realpath(path.c_str(), nullptr), &std::free);
  return real ? std::string(real.get()) : std::string();
}

// `path` lies strictly inside `root` (both canonical).
bool Inside(const std::string& path, const std::string& root) {
  if (root == "/") return path.size() > 1;
  return path.size() > root.size() + 1 &&
         path.compare(0, root.size(), root) == 0 && path[root.size()] == '/';
}

std::string Join(const std::vector<std::string>& roots) {
  std::string out;
  for (const std::string& r : roots) out += (out.empty() ? "" : ",") + r;
  return out;
}

}  // namespace

base::Status CheckSrLocation(const std::string& location, bool confined,
                             const std::vector<std::string>& roots) {
  struct stat st;
  if (::lstat(location.c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      return base::Status::NotFound("location " + location + " does not exist");
    }
    return base::Status::InvalidArgument("location " + location + ": " +
                                         std::strerror(e));
  }
  if (S_ISLNK(st.st_mode)) {
    return base::Status::InvalidArgument(
        "location " + location +
        " is a symbolic link; name the directory itself");
  }
  if (!S_ISDIR(st.st_mode)) {
    return base::Status::InvalidArgument("location " + location +
                                         " is not a directory");
  }
  if (!confined) return base::Status::OK();
  std::string real = Resolve(location);
  if (!real.empty()) {
    for (const std::string& root : roots) {
      std::string r = Resolve(root);
      if (!r.empty() && Inside(real, r)) return base::Status::OK();
    }
  }
  std::string shown = real.empty() || real == location
                          ? location
                          : location + " (" + real + ")";
  return base::Status::InvalidArgument(
      "location " + shown + " is not inside sr_roots (" + Join(roots) +
      ", [daemon] in vhdsm.conf); only root on the Unix socket may name "
      "another directory");
}

}  // namespace vhdsm
