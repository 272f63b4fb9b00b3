// ConfinedEnv: an Env confined to one directory (an SR).
//
// The files of an SR are written by others (NFS peers, vdi_introduce,
// operators), so no name found there may lead out of it. A ConfinedEnv holds
// a descriptor of its directory (which must exist and not be a symlink) and
// performs every call relative to it:
//   - paths are "<dir>/<rel>" (as the directory was named, or its canonical
//     spelling) or a relative "<rel>"; a ".." component, an absolute path
//     elsewhere, or an empty name fails with kUnsafePath;
//   - the directories on the way are resolved by openat2(RESOLVE_BENEATH |
//     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the kernel has it
//     (probed once: ENOSYS/EPERM from a seccomp filter fall back), else by a
//     walk of the components with openat(O_NOFOLLOW | O_DIRECTORY);
//   - the last component is never followed either: open with O_NOFOLLOW,
//     Stat is one fstatat(AT_SYMLINK_NOFOLLOW) (a symlink is reported as
//     one, is_regular false), unlinkat/renameat/linkat/mkdirat act on names.
// A path that meets a symlink fails with kUnsafePath and touches nothing.
// Open accepts regular files only (kUnsafePath for a FIFO, a device, a
// socket; InvalidArgument for a directory), and never blocks on one.
//
// Realpath and StatFs answer only for paths inside the root (see below).
//
// Parents: follows_locators() is false, so vhd::FindParent resolves a
// differencing disk's parent only by its header name, <uuid>.vhd next to it
// (see chain.h); no locator is ever read as a path.
#ifndef VHDSM_BASE_CONFINED_ENV_H_
#define VHDSM_BASE_CONFINED_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"

namespace base {

class ConfinedEnv : public Env {
 public:
  struct Options {
    // Resolve by walking components even where openat2 exists (tests).
    bool force_walk = false;
  };

  // Opens the directory `dir` (O_PATH | O_DIRECTORY | O_NOFOLLOW): kNotFound
  // if it does not exist, kUnsafePath if it is a symlink, InvalidArgument if
  // it is not a directory.
  static Status Open(const std::string& dir, const Options& options,
                     std::unique_ptr<ConfinedEnv>* env);
  static Status Open(const std::string& dir,
                     std::unique_ptr<ConfinedEnv>* env) {
    return Open(dir, Options(), env);
  }
  ~ConfinedEnv() override;

  // The directory as it was named.
  const std::string& root() const { return root_; }
  // True when paths are resolved with openat2.
  bool uses_openat2() const { return use_openat2_; }
  // Bytes in the directory's file system: total, and available to us
  // (StatFs of the root, for callers that want only those two).
  Status Space(uint64_t* total, uint64_t* avail) const;

  Status Open(const std::string& path, OpenMode mode,
              std::unique_ptr<File>* file) override;
  Status Stat(const std::string& path, FileInfo* info) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status ListDir(const std::string& dir,
                 std::vector<std::string>* names) override;
  Status Mkdir(const std::string& dir, int mode) override;
  // "<canonical root>/<components>": every directory on the way is resolved
  // as any other call (no symlink, no ".."), and the last component must
  // exist and not be a symlink, so the result never names anything outside
  // the root; a path that would leads to kUnsafePath.
  Status Realpath(const std::string& path, std::string* out) override;
  // The root's file system, for any path inside the root (kUnsafePath for
  // one outside).
  Status StatFs(const std::string& path, FsInfo* info) override;
  bool follows_locators() const override { return false; }

 private:
  ConfinedEnv(int fd, std::string root, std::string canon, bool openat2);
  // The components of `path` below the root ({} for the root itself).
  Status Split(const std::string& path, std::vector<std::string>* comps) const;
  // A descriptor of the directory comps[0..n) (O_PATH, or O_RDONLY when
  // `readable`); *fd = -1 means the root's own descriptor for O_PATH use.
  Status OpenDir(const std::vector<std::string>& comps, size_t n, bool readable,
                 const std::string& path, int* fd) const;
  // The parent directory of the last component, and that component's name.
  Status Parent(const std::string& path, int* dir_fd, std::string* name) const;
  int dirfd(int fd) const { return fd < 0 ? root_fd_ : fd; }

  int root_fd_;
  std::string root_;   // as named, without trailing slashes
  std::string canon_;  // realpath of the root at open
  bool use_openat2_;
};

}  // namespace base

#endif  // VHDSM_BASE_CONFINED_ENV_H_
