// Env helpers that do not depend on the platform.
#include "base/env.h"

#include <unistd.h>

#include <atomic>
#include <vector>

namespace base {

Status File::CopyTo(File* dst, uint64_t src_off, uint64_t dst_off, uint64_t n) {
  constexpr size_t kChunk = 4 << 20;
  std::vector<char> buf(n < kChunk ? n : kChunk);
  while (n > 0) {
    size_t len = n < buf.size() ? n : buf.size();
    RETURN_IF_ERROR(Read(src_off, len, buf.data()));
    RETURN_IF_ERROR(dst->Write(dst_off, buf.data(), len));
    src_off += len;
    dst_off += len;
    n -= len;
  }
  return Status::OK();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return path;
  return path.substr(slash + 1);
}

std::string JoinPath(const std::string& dir, const std::string& rel) {
  if (!rel.empty() && rel[0] == '/') return rel;
  if (dir.empty() || dir == ".") return rel;
  if (dir.back() == '/') return dir + rel;
  return dir + "/" + rel;
}

Status WriteFileAtomic(Env* env, const std::string& path,
                       const std::string& data) {
  // A name of our own: concurrent writers of `path` must not share one.
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter++);
  std::unique_ptr<File> f;
  RETURN_IF_ERROR(env->Open(tmp, Env::OpenMode::kCreateTruncate, &f));
  Status s = f->Write(0, data.data(), data.size());
  if (s.ok()) s = f->Sync();
  f.reset();
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) {
    env->Unlink(tmp);
    return s;
  }
  return env->SyncDir(DirName(path));
}

Status ReadFileToString(Env* env, const std::string& path, std::string* data,
                        size_t max_size) {
  std::unique_ptr<File> f;
  RETURN_IF_ERROR(env->Open(path, Env::OpenMode::kReadOnly, &f));
  uint64_t size = 0;
  RETURN_IF_ERROR(f->Size(&size));
  if (size > max_size) {
    return Status::TooLarge(path + " is larger than " +
                            std::to_string(max_size) + " bytes");
  }
  data->resize(size);
  return f->Read(0, size, data->data());
}

}  // namespace base
