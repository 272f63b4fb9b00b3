#include "sm/fault_codes.h"

#include <utility>

namespace vhdsm {
namespace fault {

namespace {

struct Entry {
  const xmlrpc::FaultKind* kind;
  base::Code code;  // the Code an Error of this kind carries
};

const Entry kEntries[] = {
    {&kSrInUse, base::Code::kBusy},
    {&kVdiInUse, base::Code::kBusy},
    {&kUnimplemented, base::Code::kNotSupported},
    {&kSrNotEmpty, base::Code::kExists},
    {&kSrScan, base::Code::kIOError},
    {&kSrExists, base::Code::kExists},
    {&kVdiExists, base::Code::kExists},
    {&kNoSpace, base::Code::kNoSpace},
    {&kVdiUnavailable, base::Code::kIOError},
    {&kSrUnavailable, base::Code::kNotFound},
    {&kVdiLoad, base::Code::kIOError},
    {&kVdiCreate, base::Code::kIOError},
    {&kVdiSize, base::Code::kInvalidArgument},
    {&kVdiDelete, base::Code::kIOError},
    {&kVdiClone, base::Code::kIOError},
    {&kVdiSnapshot, base::Code::kIOError},
    {&kChainTooLong, base::Code::kChainTooLong},
    {&kVdiResize, base::Code::kIOError},
    {&kConfigMissing, base::Code::kInvalidArgument},
    {&kBadRequest, base::Code::kInvalidArgument},
    {&kVdiMissing, base::Code::kNotFound},
    {&kApiFailure, base::Code::kIOError},
    {&kEio, base::Code::kIOError},
    {&kGeneral, base::Code::kIOError},
};

const Entry* EntryOf(int code) {
  for (const Entry& e : kEntries) {
    if (e.kind->code == code) return &e;
  }
  return nullptr;
}

// The kind `status` raises in a command of `command_kind`, and its opterr:
// a specific kind says the message alone, the command's kind the whole
// Status (its code name tells what went wrong).
std::pair<const xmlrpc::FaultKind*, std::string> Choose(
    const base::Status& status, const xmlrpc::FaultKind& command_kind) {
  const xmlrpc::FaultKind* kind = nullptr;
  switch (status.code()) {
    case base::Code::kNoSpace:
      kind = &kNoSpace;
      break;
    case base::Code::kChainTooLong:
      kind = &kChainTooLong;
      break;
    case base::Code::kNotFound:
      kind = &kVdiMissing;
      break;
    case base::Code::kInvalidArgument:
      kind = &kBadRequest;
      break;
    case base::Code::kTooLarge:
      kind = &kVdiSize;
      break;
    case base::Code::kExists:
      kind = &kVdiExists;
      break;
    case base::Code::kNotSupported:
      kind = &kUnimplemented;
      break;
    case base::Code::kBusy:
      kind = &kVdiInUse;
      break;
    default:
      return {&command_kind, status.ToString()};
  }
  return {kind, status.message()};
}

}  // namespace

const xmlrpc::FaultKind* KindOf(int code) {
  const Entry* e = EntryOf(code);
  return e ? e->kind : nullptr;
}

xmlrpc::Fault FromStatus(const base::Status& status,
                         const xmlrpc::FaultKind& command_kind) {
  auto [kind, detail] = Choose(status, command_kind);
  return xmlrpc::MakeFault(*kind, detail);
}

base::Status Error(const xmlrpc::FaultKind& kind, std::string detail) {
  const Entry* e = EntryOf(kind.code);
  base::Code code = e ? e->code : base::Code::kIOError;
  return base::Status(code, std::move(detail)).WithDetail(kind.code);
}

base::Status Raise(const base::Status& status,
                   const xmlrpc::FaultKind& command_kind) {
  if (status.ok()) return status;
  auto [kind, detail] = Choose(status, command_kind);
  return base::Status(status.code(), std::move(detail)).WithDetail(kind->code);
}

xmlrpc::Fault ToFault(const base::Status& status) {
  if (const xmlrpc::FaultKind* kind = KindOf(status.detail())) {
    return xmlrpc::MakeFault(*kind, status.message());
  }
  return FromStatus(status, kGeneral);
}

}  // namespace fault
}  // namespace vhdsm
