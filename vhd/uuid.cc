#include "vhd/uuid.h"

#include <uuid/uuid.h>

namespace vhd {

Uuid Uuid::Generate() {
  Uuid u;
  uuid_generate(u.bytes.data());
  return u;
}

bool Uuid::Parse(const std::string& text, Uuid* out) {
  if (text.size() != 36) return false;
  return uuid_parse(text.c_str(), out->bytes.data()) == 0;
}

std::string Uuid::ToString() const {
  char buf[37];
  uuid_unparse_lower(bytes.data(), buf);
  return buf;
}

bool Uuid::IsNull() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace vhd
