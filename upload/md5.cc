#include "upload/md5.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace upload {

Md5::Md5() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();  // out of memory
  Reset();
}

Md5::~Md5() { EVP_MD_CTX_free(ctx_); }

void Md5::Reset() {
  // MD5 is always available in OpenSSL's default provider; failure here means
  // a broken installation, not a runtime condition.
  if (EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr) != 1) std::abort();
}

void Md5::Update(const void* data, size_t n) {
  EVP_DigestUpdate(ctx_, data, n);
}

std::string Md5::Hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

std::string Md5::Of(std::string_view data) {
  Md5 md5;
  md5.Update(data.data(), data.size());
  return md5.Hex();
}

}  // namespace upload
