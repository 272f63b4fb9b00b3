#include "base/confined_env.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace base {

namespace {

constexpr uint64_t kResolve =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int OpenAt2(int dirfd, const char* path, uint64_t flags, uint64_t mode) {
  struct open_how how;
  std::memset(&how, 0, sizeof(how));
  how.flags = flags;
  how.mode = mode;
  how.resolve = kResolve;
  for (int tries = 0;; ++tries) {
    long r = ::syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    // EAGAIN: a rename raced with RESOLVE_BENEATH's check; try again.
    if (r < 0 && (errno == EINTR || (errno == EAGAIN && tries < 16))) continue;
    return static_cast<int>(r);
  }
}

// Whether this kernel (and any seccomp filter around us) lets openat2 work.
bool HaveOpenAt2() {
  static const bool have = [] {
    int fd = OpenAt2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    return errno != ENOSYS && errno != EPERM;
  }();
  return have;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int* out() { return &fd_; }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

std::string StripSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The error of a resolution that failed with `err` on `path`.
Status ResolveError(int err, const std::string& what, const std::string& path) {
  if (err == ELOOP || err == EXDEV) {
    return Status::UnsafePath(what + " " + path +
                              ": a symlink on the way (refused inside an SR)");
  }
  return Status::FromErrno(err, what + " " + path);
}

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.size = st.st_size;
  info.mtime = st.st_mtime;
  info.dev = st.st_dev;
  info.ino = st.st_ino;
  info.is_regular = S_ISREG(st.st_mode);
  info.is_dir = S_ISDIR(st.st_mode);
  info.is_symlink = S_ISLNK(st.st_mode);
  return info;
}

}  // namespace

ConfinedEnv::ConfinedEnv(int fd, std::string root, std::string canon,
                         bool openat2)
    : root_fd_(fd),
      root_(std::move(root)),
      canon_(std::move(canon)),
      use_openat2_(openat2) {}

ConfinedEnv::~ConfinedEnv() { ::close(root_fd_); }

Status ConfinedEnv::Open(const std::string& dir, const Options& options,
                         std::unique_ptr<ConfinedEnv>* env) {
  if (dir.empty()) return Status::InvalidArgument("no directory given");
  std::string root = StripSlashes(dir);
  Fd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    struct stat st;
    if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return Status::UnsafePath(root + " is a symlink, not a directory");
    }
    if (err == ENOTDIR) {
      return Status::InvalidArgument(root + " is not a directory");
    }
    return Status::FromErrno(err, "open directory " + root);
  }
  // The canonical spelling of the same directory, taken from the descriptor
  // (not from the name, which could have changed meanwhile).
  std::string canon;
  char buf[PATH_MAX + 1];
  std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  ssize_t n = ::readlink(link.c_str(), buf, PATH_MAX);
  if (n > 0 && buf[0] == '/') canon = StripSlashes(std::string(buf, n));
  bool openat2 = !options.force_walk && HaveOpenAt2();
  env->reset(new ConfinedEnv(fd.release(), root, canon, openat2));
  return Status::OK();
}

Status ConfinedEnv::Split(const std::string& path,
                          std::vector<std::string>* comps) const {
  comps->clear();
  std::string rel;
  if (path.empty()) {
    return Status::UnsafePath("an empty path is not a name inside " + root_);
  }
  if (path[0] != '/') {
    rel = path;
  } else {
    bool inside = false;
    for (const std::string* r : {&root_, &canon_}) {
      if (r->empty()) continue;
      if (*r == "/") {
        rel = path.substr(1);
        inside = true;
        break;
      }
      if (path.compare(0, r->size(), *r) == 0 &&
          (path.size() == r->size() || path[r->size()] == '/')) {
        rel = path.substr(r->size());
        inside = true;
        break;
      }
    }
    if (!inside) {
      return Status::UnsafePath(path + " is outside " + root_);
    }
  }
  size_t i = 0;
  while (i <= rel.size()) {
    size_t slash = rel.find('/', i);
    if (slash == std::string::npos) slash = rel.size();
    std::string c = rel.substr(i, slash - i);
    i = slash + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      return Status::UnsafePath(path + ": '..' is refused inside " + root_);
    }
    comps->push_back(std::move(c));
  }
  return Status::OK();
}

Status ConfinedEnv::OpenDir(const std::vector<std::string>& comps, size_t n,
                            bool readable, const std::string& path,
                            int* fd) const {
  *fd = -1;
  int flags = (readable ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC;
  if (n == 0) {
    if (!readable) return Status::OK();
    int f = ::openat(root_fd_, ".", flags);
    if (f < 0) return Status::FromErrno(errno, "open directory " + path);
    *fd = f;
    return Status::OK();
  }
  if (use_openat2_) {
    std::string rel;
    for (size_t i = 0; i < n; ++i) rel += (i ? "/" : "") + comps[i];
    int f = OpenAt2(root_fd_, rel.c_str(), flags, 0);
    if (f < 0) return ResolveError(errno, "open directory", path);
    *fd = f;
    return Status::OK();
  }
  Fd cur;
  for (size_t i = 0; i < n; ++i) {
    int base = cur.get() < 0 ? root_fd_ : cur.get();
    int f = ::openat(
        base, comps[i].c_str(),
        (i + 1 == n ? flags : O_PATH | O_DIRECTORY | O_CLOEXEC) | O_NOFOLLOW);
    if (f < 0) {
      int err = errno;
      struct stat st;
      // O_DIRECTORY | O_NOFOLLOW on a symlink may say ENOTDIR: say why.
      if (::fstatat(base, comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        err = ELOOP;
      }
      return ResolveError(err, "open directory", path);
    }
    Fd next(f);
    struct stat st;
    if (::fstat(f, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return ResolveError(ELOOP, "open directory", path);
    }
    std::swap(*cur.out(), *next.out());
  }
  *fd = cur.release();
  return Status::OK();
}

Status ConfinedEnv::Parent(const std::string& path, int* dir_fd,
                           std::string* name) const {
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  if (comps.empty()) {
    return Status::InvalidArgument(path + " is the confining directory");
  }
  *name = comps.back();
  return OpenDir(comps, comps.size() - 1, false, path, dir_fd);
}

Status ConfinedEnv::Open(const std::string& path, OpenMode mode,
                         std::unique_ptr<File>* file) {
  const int flags = OpenFlags(mode) | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
  Fd dir;
  std::string name;
  RETURN_IF_ERROR(Parent(path, dir.out(), &name));
  // O_NONBLOCK: a FIFO planted under a VDI's name must not hang us.
  Fd fd(::openat(dirfd(dir.get()), name.c_str(), flags, 0644));
  if (fd.get() < 0) {
    if (errno == ELOOP) {
      return Status::UnsafePath("open " + path +
                                ": a symlink (refused inside an SR)");
    }
    if (errno == EISDIR) {
      return Status::InvalidArgument(path + " is a directory");
    }
    return Status::FromErrno(errno, "open " + path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Status::FromErrno(errno, "stat " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(path + " is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::UnsafePath(path + " is not a regular file");
  }
  if (::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK & O_ACCMODE) != 0) {
    return Status::FromErrno(errno, "fcntl " + path);
  }
  *file = NewFdFile(fd.release(), path);
  return Status::OK();
}

Status ConfinedEnv::Stat(const std::string& path, FileInfo* info) {
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  struct stat st;
  if (comps.empty()) {
    if (::fstat(root_fd_, &st) != 0) {
      return Status::FromErrno(errno, "stat " + path);
    }
    *info = InfoOf(st);
    return Status::OK();
  }
  Fd dir;
  RETURN_IF_ERROR(OpenDir(comps, comps.size() - 1, false, path, dir.out()));
  if (::fstatat(dirfd(dir.get()), comps.back().c_str(), &st,
                AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno(errno, "stat " + path);
  }
  *info = InfoOf(st);
  return Status::OK();
}

Status ConfinedEnv::Rename(const std::string& from, const std::string& to) {
  Fd fd_from, fd_to;
  std::string n_from, n_to;
  RETURN_IF_ERROR(Parent(from, fd_from.out(), &n_from));
  RETURN_IF_ERROR(Parent(to, fd_to.out(), &n_to));
  if (::renameat(dirfd(fd_from.get()), n_from.c_str(), dirfd(fd_to.get()),
                 n_to.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + from + " to " + to);
  }
  return Status::OK();
}

Status ConfinedEnv::Link(const std::string& from, const std::string& to) {
  Fd fd_from, fd_to;
  std::string n_from, n_to;
  RETURN_IF_ERROR(Parent(from, fd_from.out(), &n_from));
  RETURN_IF_ERROR(Parent(to, fd_to.out(), &n_to));
  // No AT_SYMLINK_FOLLOW: a symlink is linked as itself, never its target.
  if (::linkat(dirfd(fd_from.get()), n_from.c_str(), dirfd(fd_to.get()),
               n_to.c_str(), 0) != 0) {
    return Status::FromErrno(errno, "link " + from + " to " + to);
  }
  return Status::OK();
}

Status ConfinedEnv::Unlink(const std::string& path) {
  Fd dir;
  std::string name;
  RETURN_IF_ERROR(Parent(path, dir.out(), &name));
  if (::unlinkat(dirfd(dir.get()), name.c_str(), 0) != 0) {
    return Status::FromErrno(errno, "unlink " + path);
  }
  return Status::OK();
}

Status ConfinedEnv::Mkdir(const std::string& path, int mode) {
  Fd dir;
  std::string name;
  RETURN_IF_ERROR(Parent(path, dir.out(), &name));
  if (::mkdirat(dirfd(dir.get()), name.c_str(), mode) != 0) {
    return Status::FromErrno(errno, "mkdir " + path);
  }
  return Status::OK();
}

Status ConfinedEnv::SyncDir(const std::string& path) {
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  Fd dir;
  RETURN_IF_ERROR(OpenDir(comps, comps.size(), true, path, dir.out()));
  if (::fsync(dir.get()) != 0) {
    return Status::FromErrno(errno, "sync dir " + path);
  }
  return Status::OK();
}

Status ConfinedEnv::ListDir(const std::string& path,
                            std::vector<std::string>* names) {
  names->clear();
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  Fd dir;
  RETURN_IF_ERROR(OpenDir(comps, comps.size(), true, path, dir.out()));
  return ListDirFd(dir.release(), path, names);
}

Status ConfinedEnv::Realpath(const std::string& path, std::string* out) {
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  std::string r = canon_.empty() ? root_ : canon_;
  if (comps.empty()) {
    *out = r;
    return Status::OK();
  }
  Fd dir;
  RETURN_IF_ERROR(OpenDir(comps, comps.size() - 1, false, path, dir.out()));
  struct stat st;
  if (::fstatat(dirfd(dir.get()), comps.back().c_str(), &st,
                AT_SYMLINK_NOFOLLOW) != 0) {
    return Status::FromErrno(errno, "resolve " + path);
  }
  if (S_ISLNK(st.st_mode)) {
    // Its target could be anywhere: no answer that stays inside.
    return ResolveError(ELOOP, "resolve", path);
  }
  for (const std::string& c : comps) r += (r == "/" ? "" : "/") + c;
  *out = r;
  return Status::OK();
}

Status ConfinedEnv::StatFs(const std::string& path, FsInfo* info) {
  std::vector<std::string> comps;
  RETURN_IF_ERROR(Split(path, &comps));
  return StatFsOfFd(root_fd_, root_, info);
}

Status ConfinedEnv::Space(uint64_t* total, uint64_t* avail) const {
  FsInfo info;
  RETURN_IF_ERROR(StatFsOfFd(root_fd_, root_, &info));
  *total = info.total;
  *avail = info.available;
  return Status::OK();
}

}  // namespace base
