// UTF-8 <-> UTF-16 conversion for VHD parent names (UTF-16BE in the header)
// and W2ku/W2ru locators (UTF-16LE). Strict: malformed input is rejected.
#ifndef VHDSM_VHD_UNICODE_H_
#define VHDSM_VHD_UNICODE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace vhd {

enum class Utf16Order { kBig, kLittle };

// Encodes UTF-8 as UTF-16 bytes; false if `utf8` is not valid UTF-8.
bool Utf8ToUtf16(const std::string& utf8, Utf16Order order,
                 std::vector<uint8_t>* out);
// Decodes `n` bytes of UTF-16 (stops at the first NUL code unit); false on an
// odd length or an unpaired surrogate.
bool Utf16ToUtf8(const uint8_t* data, size_t n, Utf16Order order,
                 std::string* out);

}  // namespace vhd

#endif  // VHDSM_VHD_UNICODE_H_
