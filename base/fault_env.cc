#include "base/fault_env.h"

namespace base {
namespace {

class FaultFile : public FileWrapper {
 public:
  FaultFile(std::unique_ptr<File> base, FaultInjectionEnv* env)
      : FileWrapper(std::move(base)), env_(env) {}

  Status Read(uint64_t o, size_t n, void* b) override {
    RETURN_IF_ERROR(env_->BeforeRead(path()));
    return FileWrapper::Read(o, n, b);
  }
  Status ReadSome(uint64_t o, size_t n, void* b, size_t* got) override {
    RETURN_IF_ERROR(env_->BeforeRead(path()));
    return FileWrapper::ReadSome(o, n, b, got);
  }
  Status Write(uint64_t o, const void* b, size_t n) override {
    size_t torn = 0;
    Status s = env_->BeforeMutation("write " + path(), &torn);
    if (!s.ok()) {
      if (torn > 0) base()->Write(o, b, torn < n ? torn : n);
      return s;
    }
    return FileWrapper::Write(o, b, n);
  }
  Status Truncate(uint64_t size) override {
    RETURN_IF_ERROR(env_->BeforeMutation("truncate " + path()));
    return FileWrapper::Truncate(size);
  }
  Status Sync() override {
    RETURN_IF_ERROR(env_->BeforeMutation("sync " + path()));
    return FileWrapper::Sync();
  }
  Status WriteBack(uint64_t o, uint64_t n) override {
    RETURN_IF_ERROR(env_->BeforeMutation("writeback " + path()));
    return FileWrapper::WriteBack(o, n);
  }
  Status Size(uint64_t* s) override {
    RETURN_IF_ERROR(env_->BeforeRead(path()));
    return FileWrapper::Size(s);
  }
  Status Reserve(uint64_t o, uint64_t n) override {
    if (env_->no_space()) {
      return Status::NoSpace("reserve " + std::to_string(n) + " bytes in " +
                             path() + ": no space left (simulated)");
    }
    return FileWrapper::Reserve(o, n);
  }
  Status CopyTo(File* dst, uint64_t src_off, uint64_t dst_off,
                uint64_t n) override {
    // Through Read/Write so that the destination's Write is counted.
    return File::CopyTo(dst, src_off, dst_off, n);
  }

 private:
  FaultInjectionEnv* env_;
};

}  // namespace

Status FaultInjectionEnv::BeforeMutation(const std::string& what,
                                         size_t* torn) {
  int64_t k = count_++;
  history_.push_back(what);
  if (crashed_) return Status::IOError("simulated crash (after): " + what);
  if (k == crash_at_) {
    crashed_ = true;
    if (torn != nullptr) *torn = torn_bytes_;
    return Status::IOError("simulated crash at mutation " + std::to_string(k) +
                           ": " + what);
  }
  if (k == fail_at_) return fail_status_.Annotate(what);
  return Status::OK();
}

Status FaultInjectionEnv::BeforeRead(const std::string& what) {
  if (crashed_) return Status::IOError("simulated crash (after): " + what);
  return Status::OK();
}

Status FaultInjectionEnv::BeforeQuery(const std::string& what) {
  RETURN_IF_ERROR(BeforeRead(what));
  if (!query_status_.ok()) return query_status_.Annotate(what);
  return Status::OK();
}

Status FaultInjectionEnv::Open(const std::string& path, OpenMode mode,
                               std::unique_ptr<File>* file) {
  if (mode == OpenMode::kCreateExclusive || mode == OpenMode::kCreateTruncate) {
    RETURN_IF_ERROR(BeforeMutation("create " + path));
  } else {
    RETURN_IF_ERROR(BeforeRead("open " + path));
  }
  std::unique_ptr<File> base;
  RETURN_IF_ERROR(base_->Open(path, mode, &base));
  file->reset(new FaultFile(std::move(base), this));
  return Status::OK();
}

Status FaultInjectionEnv::Stat(const std::string& path, FileInfo* info) {
  RETURN_IF_ERROR(BeforeRead("stat " + path));
  return base_->Stat(path, info);
}

Status FaultInjectionEnv::Rename(const std::string& from,
                                 const std::string& to) {
  RETURN_IF_ERROR(BeforeMutation("rename " + from));
  return base_->Rename(from, to);
}

Status FaultInjectionEnv::Link(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(BeforeMutation("link " + from));
  return base_->Link(from, to);
}

Status FaultInjectionEnv::Unlink(const std::string& path) {
  RETURN_IF_ERROR(BeforeMutation("unlink " + path));
  return base_->Unlink(path);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  RETURN_IF_ERROR(BeforeMutation("syncdir " + dir));
  return base_->SyncDir(dir);
}

Status FaultInjectionEnv::ListDir(const std::string& dir,
                                  std::vector<std::string>* names) {
  RETURN_IF_ERROR(BeforeRead("list " + dir));
  return base_->ListDir(dir, names);
}

Status FaultInjectionEnv::Mkdir(const std::string& dir, int mode) {
  RETURN_IF_ERROR(BeforeMutation("mkdir " + dir, nullptr));
  return base_->Mkdir(dir, mode);
}

Status FaultInjectionEnv::Realpath(const std::string& path, std::string* out) {
  RETURN_IF_ERROR(BeforeQuery("resolve " + path));
  return base_->Realpath(path, out);
}

Status FaultInjectionEnv::StatFs(const std::string& path, FsInfo* info) {
  RETURN_IF_ERROR(BeforeQuery("statfs " + path));
  return base_->StatFs(path, info);
}

}  // namespace base
