// Uuid: the 16-byte identifiers in VHD footers and headers (libuuid).
#ifndef VHDSM_VHD_UUID_H_
#define VHDSM_VHD_UUID_H_

#include <array>
#include <cstdint>
#include <string>

namespace vhd {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  static Uuid Generate();
  // Parses the canonical 36-character form; false if malformed.
  static bool Parse(const std::string& text, Uuid* out);
  // Canonical lower-case form, e.g. "a3c8...-...".
  std::string ToString() const;
  bool IsNull() const;

  bool operator==(const Uuid& o) const { return bytes == o.bytes; }
  bool operator!=(const Uuid& o) const { return bytes != o.bytes; }
};

}  // namespace vhd

#endif  // VHDSM_VHD_UUID_H_
