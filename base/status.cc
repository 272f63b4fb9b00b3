#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace base {

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFound(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return NoSpace(std::move(msg));
    case EEXIST:
      return Exists(std::move(msg));
    case EROFS:
    case EACCES:
    case EPERM:
      return ReadOnly(std::move(msg));
    case EFBIG:
      return TooLarge(std::move(msg));
    case EINVAL:
      return InvalidArgument(std::move(msg));
    case EBUSY:
    case EWOULDBLOCK:
      return Busy(std::move(msg));
    case ENAMETOOLONG:
      return NameTooLong(std::move(msg));
    default:
      return IOError(std::move(msg));
  }
}

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kCorruption:
      return "CORRUPTION";
    case Code::kNotSupported:
      return "NOT_SUPPORTED";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kIOError:
      return "IO_ERROR";
    case Code::kNoSpace:
      return "NO_SPACE";
    case Code::kParentMissing:
      return "PARENT_MISSING";
    case Code::kParentMismatch:
      return "PARENT_MISMATCH";
    case Code::kChainTooLong:
      return "CHAIN_TOO_LONG";
    case Code::kTooLarge:
      return "TOO_LARGE";
    case Code::kExists:
      return "EXISTS";
    case Code::kReadOnly:
      return "READ_ONLY";
    case Code::kBusy:
      return "BUSY";
    case Code::kNameTooLong:
      return "NAME_TOO_LONG";
    case Code::kUnsafePath:
      return "UNSAFE_PATH";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  s += ": ";
  s += msg_;
  return s;
}

int Status::ToErrno() const {
  switch (code_) {
    case Code::kOk:
      return 0;
    case Code::kNotFound:
      return -ENOENT;
    case Code::kCorruption:
      return -EINVAL;
    case Code::kNotSupported:
      return -EOPNOTSUPP;
    case Code::kInvalidArgument:
      return -EINVAL;
    case Code::kIOError:
      return -EIO;
    case Code::kNoSpace:
      return -ENOSPC;
    case Code::kParentMissing:
      return -ENOENT;
    case Code::kParentMismatch:
      return -EINVAL;
    case Code::kChainTooLong:
      return -ENOSPC;
    case Code::kTooLarge:
      return -EFBIG;
    case Code::kExists:
      return -EEXIST;
    case Code::kReadOnly:
      return -EROFS;
    case Code::kBusy:
      return -EBUSY;
    case Code::kNameTooLong:
      return -ENAMETOOLONG;
    case Code::kUnsafePath:
      return -EXDEV;  // as openat2's RESOLVE_BENEATH escape
  }
  return -EIO;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += msg_;
  return Status(code_, std::move(m)).WithDetail(detail_);
}

}  // namespace base
