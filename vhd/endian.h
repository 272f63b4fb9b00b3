// Big- and little-endian loads and stores on byte buffers. VHD metadata is
// big-endian; W2ku/W2ru locator payloads are UTF-16LE.
#ifndef VHDSM_VHD_ENDIAN_H_
#define VHDSM_VHD_ENDIAN_H_

#include <cstdint>

namespace vhd {

inline uint16_t LoadBE16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t LoadBE32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         uint32_t{p[3]};
}
inline uint64_t LoadBE64(const uint8_t* p) {
  return uint64_t{LoadBE32(p)} << 32 | LoadBE32(p + 4);
}
inline void StoreBE16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}
inline void StoreBE32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}
inline void StoreBE64(uint8_t* p, uint64_t v) {
  StoreBE32(p, v >> 32);
  StoreBE32(p + 4, v & 0xffffffffu);
}
// Little-endian: blktap's journal keeps one field in x86 host order.
inline uint64_t LoadLE64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline void StoreLE64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (v >> (8 * i)) & 0xff;
}

}  // namespace vhd

#endif  // VHDSM_VHD_ENDIAN_H_
