// SHA-256 (FIPS 180-4), for blktap's keyhash: sha256(nonce || key). Written
// here so that vhdsm-util links no crypto library (it starts once per
// vhd-util call, and dynamic linking costs milliseconds).
#ifndef VHDSM_VHD_SHA256_H_
#define VHDSM_VHD_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace vhd {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  std::array<uint8_t, 32> Finish();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

}  // namespace vhd

#endif  // VHDSM_VHD_SHA256_H_
