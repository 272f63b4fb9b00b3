// Md5: incremental MD5 through OpenSSL's EVP interface, for Swift ETags
// (Swift's ETag of a plain object is the MD5 of its bytes, in hex).
//
// Not a security primitive here: MD5 is what Swift uses to detect corruption
// in transit. Hex() finishes the digest; the object is then spent until
// Reset().
#ifndef VHDSM_UPLOAD_MD5_H_
#define VHDSM_UPLOAD_MD5_H_

#include <cstddef>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace upload {

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  void Reset();
  void Update(const void* data, size_t n);
  // Lower-case hex of the digest of everything since the last Reset().
  std::string Hex();

  // MD5 hex of one buffer.
  static std::string Of(std::string_view data);

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace upload

#endif  // VHDSM_UPLOAD_MD5_H_
