// blktap's keyhash: the sha256 of (nonce || key) of an encrypted VHD's key,
// kept so that a key can be checked against the disk. It lives in the batmap
// header (65 bytes: cookie u8 = 1 when set, nonce[32], hash[32]) of files
// that have a batmap (creator "tap" >= 1.2), and otherwise in the extended
// attribute blktap uses (user.com.citrix.xenclient.backend.keyhash).
// The batmap header's one-byte marker (`vhd-util set -f marker`) is kept the
// same way (xattr user.com.citrix.xenclient.backend.marker).
#ifndef VHDSM_VHD_KEYHASH_H_
#define VHDSM_VHD_KEYHASH_H_

#include <array>
#include <cstdint>
#include <string>

#include "base/env.h"
#include "base/status.h"

namespace vhd {

struct Keyhash {
  uint8_t cookie = 0;  // 1: set
  std::array<uint8_t, 32> nonce{};
  std::array<uint8_t, 32> hash{};

  std::array<uint8_t, 65> Encode() const;
  static Keyhash Decode(const uint8_t* p);  // 65 bytes
};

inline constexpr char kKeyhashXattr[] =
    "user.com.citrix.xenclient.backend.keyhash";

// sha256(nonce || key), as blktap's vhd_calculate_keyhash.
std::array<uint8_t, 32> ComputeKeyhash(const std::array<uint8_t, 32>& nonce,
                                       const uint8_t* key, size_t key_bytes);

// Reads the keyhash of `path` (all zero when none is set; a file system
// without user xattrs reads as none, as blktap).
base::Status ReadKeyhash(base::Env* env, const std::string& path, Keyhash* out);

// Stores `kh` in `path`'s batmap header (synced), or its xattr. The caller
// decides whether the disk may take one (blktap: not fixed, no data).
base::Status WriteKeyhash(base::Env* env, const std::string& path,
                          const Keyhash& kh);

inline constexpr char kMarkerXattr[] =
    "user.com.citrix.xenclient.backend.marker";

// The marker of `path` (0 when none is set).
base::Status ReadMarker(base::Env* env, const std::string& path,
                        uint8_t* marker);
// Stores `marker` in `path`'s batmap header (synced), or its xattr.
base::Status WriteMarker(base::Env* env, const std::string& path,
                         uint8_t marker);

}  // namespace vhd

#endif  // VHDSM_VHD_KEYHASH_H_
