// Status: the one error type inside vhdsm's libraries.
//
// A Status is OK or carries a stable Code and a human-readable message. The
// numeric values of Code are part of vhdsm's contract (CLI exit codes, logs,
// plugin faults map from them) and must never be renumbered. A component may
// refine a Code with its own stable number in `detail()` (upload/'s
// UploadError, for example); 0 means none. Faults, exceptions and C strings
// exist only at the boundaries that need them (xmlrpc, the C ABI).
#ifndef VHDSM_BASE_STATUS_H_
#define VHDSM_BASE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace base {

enum class Code : int {
  kOk = 0,
  kNotFound = 1,         // a file does not exist
  kCorruption = 2,       // a structure on disk is damaged or hostile
  kNotSupported = 3,     // valid, but a feature we do not implement
  kInvalidArgument = 4,  // a bad argument from the caller
  kIOError = 5,          // the OS refused an I/O call
  kNoSpace = 6,          // ENOSPC / EDQUOT
  kParentMissing = 7,    // a differencing disk's parent cannot be found
  kParentMismatch = 8,   // the parent found is not the one recorded
  kChainTooLong = 9,     // chain deeper than the limit, or a parent loop
  kTooLarge = 10,        // a size beyond what the format allows
  kExists = 11,          // refusing to overwrite an existing file
  kReadOnly = 12,        // write to something opened or marked read-only
  kBusy = 13,            // locked by someone else
  kNameTooLong = 14,     // a path does not fit where it must be stored
  kUnsafePath = 15,      // a path would leave a confined directory (SR)
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) {
    return {Code::kNotFound, std::move(m)};
  }
  static Status Corruption(std::string m) {
    return {Code::kCorruption, std::move(m)};
  }
  static Status NotSupported(std::string m) {
    return {Code::kNotSupported, std::move(m)};
  }
  static Status InvalidArgument(std::string m) {
    return {Code::kInvalidArgument, std::move(m)};
  }
  static Status IOError(std::string m) {
    return {Code::kIOError, std::move(m)};
  }
  static Status NoSpace(std::string m) {
    return {Code::kNoSpace, std::move(m)};
  }
  static Status ParentMissing(std::string m) {
    return {Code::kParentMissing, std::move(m)};
  }
  static Status ParentMismatch(std::string m) {
    return {Code::kParentMismatch, std::move(m)};
  }
  static Status ChainTooLong(std::string m) {
    return {Code::kChainTooLong, std::move(m)};
  }
  static Status TooLarge(std::string m) {
    return {Code::kTooLarge, std::move(m)};
  }
  static Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
  static Status ReadOnly(std::string m) {
    return {Code::kReadOnly, std::move(m)};
  }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status NameTooLong(std::string m) {
    return {Code::kNameTooLong, std::move(m)};
  }
  static Status UnsafePath(std::string m) {
    return {Code::kUnsafePath, std::move(m)};
  }

  // Maps an errno value from a failed system call on `what` to a Status.
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // The component's own code refining code() (0: none; always 0 when OK).
  int detail() const { return detail_; }
  // This Status with `detail` set (an OK Status stays OK with detail 0).
  Status WithDetail(int detail) const {
    Status s = *this;
    if (!s.ok()) s.detail_ = detail;
    return s;
  }

  // "CORRUPTION: bad footer checksum" (or "OK").
  std::string ToString() const;
  // Stable upper-case name of a code, e.g. "CORRUPTION".
  static const char* CodeName(Code code);
  // A negative errno equivalent, as vhd-util's commands return.
  int ToErrno() const;

  // Prefixes the message with context, keeping the code and detail.
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  int detail_ = 0;
  std::string msg_;
};

}  // namespace base

// Returns from the calling function if `expr` yields a non-OK Status.
#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    ::base::Status _vhd_st = (expr);   \
    if (!_vhd_st.ok()) return _vhd_st; \
  } while (0)

#endif  // VHDSM_BASE_STATUS_H_
