// ParseSize: the one parser for sizes and counts given as text -- command
// lines (vhdsm, vhdsm-upload, vhdsm-util), vhdsm.conf and XML-RPC arguments.
//
// A size is one or more ASCII decimal digits, optionally followed by exactly
// one binary suffix: K, M, G or T in either case (2^10, 2^20, 2^30, 2^40).
// Nothing else is accepted: no sign, no spaces, no "0x", no fraction, no "B"
// or "iB", nothing after the suffix. Leading zeros are allowed.
//
// Errors (the text is quoted in the message, cut to 64 bytes):
//   kInvalidArgument  the text is not of that form
//   kTooLarge         the value does not fit in 64 bits (after the suffix)
// The caller applies its own range to the value.
#ifndef VHDSM_BASE_SIZE_H_
#define VHDSM_BASE_SIZE_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace base {

// A size with an optional K/M/G/T suffix, in bytes.
Status ParseSize(std::string_view text, uint64_t* out);

// Digits only (no suffix), at most `max`: counts, levels, ports, and
// vhd-util's arguments in MB (whose callers pass `max` so that the shift to
// bytes cannot wrap). Past `max` is kTooLarge.
Status ParseCount(std::string_view text, uint64_t max, uint64_t* out);

}  // namespace base

#endif  // VHDSM_BASE_SIZE_H_
