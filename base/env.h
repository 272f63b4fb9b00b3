// Env: the one seam through which vhd/ touches the file system.
//
// Every read, write, truncate, sync, rename, link and unlink that the VHD code
// performs goes through an Env and the File objects it returns, in the spirit
// of LevelDB's Env. Production code uses Env::Default() (POSIX); tests wrap it
// (see fault_env.h) to inject errors and simulated crashes at any call.
//
// Contract of File::Read: it reads exactly n bytes or fails; a read that would
// pass end-of-file fails with kCorruption ("short read"), so callers never see
// partial buffers. All offsets are absolute byte offsets.
#ifndef VHDSM_BASE_ENV_H_
#define VHDSM_BASE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace base {

class File {
 public:
  virtual ~File() = default;

  virtual Status Read(uint64_t offset, size_t n, void* buf) = 0;
  // Reads up to n bytes; *got receives the count (fewer only at end-of-file).
  virtual Status ReadSome(uint64_t offset, size_t n, void* buf,
                          size_t* got) = 0;
  virtual Status Write(uint64_t offset, const void* buf, size_t n) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Sync() = 0;
  virtual Status Size(uint64_t* size) = 0;
  // Copies n bytes from this file at src_off into dst at dst_off, in the
  // kernel where it can (copy_file_range); counts as a write to dst.
  virtual Status CopyTo(File* dst, uint64_t src_off, uint64_t dst_off,
                        uint64_t n);
  // Asks the OS to start writing [offset, offset + n) back to disk without
  // waiting, so that a later Sync has less to wait for. A hint: may do nothing.
  virtual void StartWriteback(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
  }
  // Writes [offset, offset + n) (n = 0: to EOF) to the device and waits for
  // it, without flushing the device's cache or committing metadata. Data so
  // written is on the device before any later change of the filesystem (a
  // link) is issued, so the journal commit that makes that change durable
  // makes the data durable first: a power cut cannot keep the change without
  // the data. Costs the device's write time only, not a cache flush.
  virtual Status WriteBack(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
    return Sync();
  }
  // Gives [offset, offset + n) storage without changing the file's size, so
  // that writes there cannot fail for lack of space: kNoSpace when the
  // filesystem has not enough (nothing is then held). OK without doing
  // anything where the filesystem cannot preallocate. Space held past EOF
  // and never written is given back by Truncate(current size).
  virtual Status Reserve(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
    return Status::OK();
  }
  // The path this file was opened with (for messages).
  virtual const std::string& path() const = 0;
  // POSIX descriptor, or -1 for files that are not backed by one.
  virtual int fd() const { return -1; }
};

struct FileInfo {
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds since the Unix epoch
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool is_regular = false;
  bool is_dir = false;
  bool is_symlink = false;  // the path itself is a symlink (lstat)
};

// The space of a file system, in bytes (statvfs(3) scaled by f_frsize).
struct FsInfo {
  uint64_t total = 0;      // the file system's size
  uint64_t free = 0;       // free, counting blocks reserved for root
  uint64_t available = 0;  // free to an unprivileged writer
};

class Env {
 public:
  enum class OpenMode {
    kReadOnly,
    kReadWrite,
    kCreateExclusive,  // create, fail with kExists if it exists; read-write
    kCreateTruncate,   // create or truncate; read-write
  };

  virtual ~Env() = default;

  // The process-wide POSIX Env. Never deleted.
  static Env* Default();

  virtual Status Open(const std::string& path, OpenMode mode,
                      std::unique_ptr<File>* file) = 0;
  virtual Status Stat(const std::string& path, FileInfo* info) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status Unlink(const std::string& path) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status ListDir(const std::string& dir,
                         std::vector<std::string>* names) = 0;
  // Creates the directory `dir` with `mode`: kExists if something is there.
  virtual Status Mkdir(const std::string& dir, int mode) {
    (void)mode;
    return Status::NotSupported("mkdir " + dir);
  }
  // The canonical absolute spelling of `path`, which must exist, as
  // realpath(3): symlinks, "." and ".." resolved. Fails as Stat would
  // (kNotFound...). Envs without a real file system say kNotSupported.
  virtual Status Realpath(const std::string& path, std::string* out) {
    (void)out;
    return Status::NotSupported("resolve " + path);
  }
  // The space of the file system that holds `path`.
  virtual Status StatFs(const std::string& path, FsInfo* info) {
    (void)info;
    return Status::NotSupported("statfs " + path);
  }
  // Whether a differencing disk's parent may be looked for through its
  // locators, anywhere they point (vhd-util's semantics, the POSIX Env), or
  // only by its header name next to it (an Env confined to an SR): see
  // vhd::FindParent.
  virtual bool follows_locators() const { return true; }

  bool Exists(const std::string& path) {
    FileInfo fi;
    return Stat(path, &fi).ok();
  }
};

// A File that forwards every call to another; base for test wrappers.
class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> base) : base_(std::move(base)) {}
  Status Read(uint64_t o, size_t n, void* b) override {
    return base_->Read(o, n, b);
  }
  Status ReadSome(uint64_t o, size_t n, void* b, size_t* got) override {
    return base_->ReadSome(o, n, b, got);
  }
  Status Write(uint64_t o, const void* b, size_t n) override {
    return base_->Write(o, b, n);
  }
  Status Truncate(uint64_t s) override { return base_->Truncate(s); }
  Status Sync() override { return base_->Sync(); }
  Status WriteBack(uint64_t o, uint64_t n) override {
    return base_->WriteBack(o, n);
  }
  Status Size(uint64_t* s) override { return base_->Size(s); }
  Status Reserve(uint64_t o, uint64_t n) override {
    return base_->Reserve(o, n);
  }
  const std::string& path() const override { return base_->path(); }
  File* base() { return base_.get(); }

 private:
  std::unique_ptr<File> base_;
};

// A File over an open descriptor `fd` (then owned by the File), as the
// POSIX Env's files are.
std::unique_ptr<File> NewFdFile(int fd, const std::string& path);
// The open(2) access and creation flags of `mode`, with O_CLOEXEC: the one
// meaning of an OpenMode for every Env that opens real files.
int OpenFlags(Env::OpenMode mode);
// The names in the directory open at `dir_fd` (then owned and closed), but
// "." and "..": the one directory reader of every Env. `path` names it in
// errors.
Status ListDirFd(int dir_fd, const std::string& path,
                 std::vector<std::string>* names);
// The space of the file system that holds the descriptor `fd` (O_PATH will
// do); `what` names it in errors.
Status StatFsOfFd(int fd, const std::string& what, FsInfo* info);

// Directory part of a path ("." when there is none) and the last component.
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);
// Joins a directory and a relative path; returns rel if it is absolute.
std::string JoinPath(const std::string& dir, const std::string& rel);

// Writes `data` to `path` atomically: temp file, fsync, rename, fsync dir.
Status WriteFileAtomic(Env* env, const std::string& path,
                       const std::string& data);
// Reads a whole (small) file.
Status ReadFileToString(Env* env, const std::string& path, std::string* data,
                        size_t max_size = 64 << 20);

}  // namespace base

#endif  // VHDSM_BASE_ENV_H_
