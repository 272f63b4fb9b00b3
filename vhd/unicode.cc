#include "vhd/unicode.h"

namespace vhd {
namespace {

void PutUnit(uint16_t u, Utf16Order order, std::vector<uint8_t>* out) {
  if (order == Utf16Order::kBig) {
    out->push_back(u >> 8);
    out->push_back(u & 0xff);
  } else {
    out->push_back(u & 0xff);
    out->push_back(u >> 8);
  }
}

void PutUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | cp >> 18));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace

bool Utf8ToUtf16(const std::string& utf8, Utf16Order order,
                 std::vector<uint8_t>* out) {
  out->clear();
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  size_t n = utf8.size();
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t len;
    uint8_t c = s[i];
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    // Reject overlong forms, surrogates and out-of-range code points.
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      PutUnit(static_cast<uint16_t>(0xd800 | cp >> 10), order, out);
      PutUnit(static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)), order, out);
    } else {
      PutUnit(static_cast<uint16_t>(cp), order, out);
    }
    i += len;
  }
  return true;
}

bool Utf16ToUtf8(const uint8_t* data, size_t n, Utf16Order order,
                 std::string* out) {
  out->clear();
  if (n % 2 != 0) return false;
  auto unit = [&](size_t i) -> uint16_t {
    return order == Utf16Order::kBig
               ? static_cast<uint16_t>(data[i] << 8 | data[i + 1])
               : static_cast<uint16_t>(data[i + 1] << 8 | data[i]);
  };
  for (size_t i = 0; i < n; i += 2) {
    uint16_t u = unit(i);
    if (u == 0) break;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 2 >= n) return false;
      uint16_t lo = unit(i + 2);
      if (lo < 0xdc00 || lo > 0xdfff) return false;
      PutUtf8(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00), out);
      i += 2;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return false;
    } else {
      PutUtf8(u, out);
    }
  }
  return true;
}

}  // namespace vhd
