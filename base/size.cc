#include "base/size.h"

#include <string>

namespace base {

namespace {

// The text as it may appear in a message: bounded, control bytes escaped,
// since it comes from an argument, a config file or the wire.
std::string Quote(std::string_view text) {
  std::string q = "'";
  size_t n = 0;
  for (unsigned char ch : text) {
    if (++n > 64) {
      q += "...";
      break;
    }
    if (ch < 0x20 || ch >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      q += "\\x";
      q += kHex[ch >> 4];
      q += kHex[ch & 15];
    } else {
      q += static_cast<char>(ch);
    }
  }
  return q + "'";
}

// Digits of `text`, at most `max`; `what` names the syntax in messages.
Status ParseDigits(std::string_view text, std::string_view whole, uint64_t max,
                   const char* what, uint64_t* out) {
  if (text.empty()) {
    return Status::InvalidArgument(Quote(whole) + " is not " + what);
  }
  uint64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') {
      return Status::InvalidArgument(Quote(whole) + " is not " + what);
    }
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (v > (max - d) / 10) {
      // Keep scanning: junk later in the text is a syntax error first.
      for (char rest : text) {
        if (rest < '0' || rest > '9') {
          return Status::InvalidArgument(Quote(whole) + " is not " + what);
        }
      }
      return Status::TooLarge(Quote(whole) + " is larger than " +
                              std::to_string(max));
    }
    v = v * 10 + d;
  }
  *out = v;
  return Status::OK();
}

}  // namespace

Status ParseSize(std::string_view text, uint64_t* out) {
  static const char kWhat[] =
      "a size (decimal digits, optionally followed by K, M, G or T)";
  int shift = 0;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  uint64_t n = 0;
  Status s = ParseDigits(digits, text, UINT64_MAX >> shift, kWhat, &n);
  if (s.code() == Code::kTooLarge) {
    return Status::TooLarge("size " + Quote(text) + " does not fit in 64 bits");
  }
  if (!s.ok()) return Status::InvalidArgument("size " + s.message());
  *out = n << shift;
  return Status::OK();
}

Status ParseCount(std::string_view text, uint64_t max, uint64_t* out) {
  return ParseDigits(text, text, max, "a decimal number", out);
}

}  // namespace base
