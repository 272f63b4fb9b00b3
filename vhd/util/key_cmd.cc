// vhd-util key: print (-p), set (-s, from -k KEYFILE or -H HASH, with -N
// NONCE), check (-c -k KEYFILE) or calculate (-C -k KEYFILE) the keyhash of
// an encrypted disk (vhd/keyhash.h), with vhd-util's messages and codes.
// blktap computes the hash in libblockcrypto (sha256 of nonce || key); we
// compute the same here, so -k works without that library.
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "vhd/image.h"
#include "vhd/keyhash.h"
#include "vhd/sparse_image.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

constexpr size_t kMaxKeyBytes = 64;  // 512-bit keys

// vhd-util's ERR(): the function's name, then the message, on stderr.
#define KEY_ERR(fn, ...)               \
  do {                                 \
    std::fprintf(stderr, "%s: ", fn);  \
    std::fprintf(stderr, __VA_ARGS__); \
  } while (0)

// The key file must be named <vhd name without .vhd>,aes-xts-plain,<bits>.key
// (bits 512 or 256); returns the key size in bytes, or -1.
int KeyBytesFromName(const std::string& vhd, const std::string& keypath) {
  std::string base = vhd.substr(vhd.rfind('/') + 1);
  size_t ext = base.find(".vhd");
  if (ext != std::string::npos) base.resize(ext);
  std::string kb = keypath.substr(keypath.rfind('/') + 1);
  for (int bits : {512, 256}) {
    std::string want = base + ",aes-xts-plain," + std::to_string(bits) + ".key";
    if (kb.compare(0, want.size(), want) == 0) return bits / 8;
  }
  return -1;
}

int ReadKey(const std::string& keypath, uint8_t* key, size_t* bytes) {
  const char* fn = "vhd_util_read_key";
  int fd = ::open(keypath.c_str(), O_RDONLY);
  if (fd < 0) {
    int e = errno;
    KEY_ERR(fn, "failed to open %s: %d\n", keypath.c_str(), e);
    return -e;
  }
  int err = 0;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    err = -errno;
    KEY_ERR(fn, "failed to stat %s: %d\n", keypath.c_str(), -err);
  } else {
    ssize_t n = ::read(fd, key, *bytes);
    if (n < 0) {
      err = -errno;
      KEY_ERR(fn, "failed to read key: %d\n", -err);
    } else {
      *bytes = static_cast<size_t>(n);
      if (n != st.st_size) {
        KEY_ERR(fn, "short read of key\n");
        err = -EIO;
      } else {
        KEY_ERR(fn, "using keyfile %s, Size (bytes) %zu\n", keypath.c_str(),
                *bytes);
      }
    }
  }
  ::close(fd);
  return err;
}

// key_bytes 0: any size up to 64 bytes.
int CalculateKeyhash(vhd::Keyhash* kh, const std::string& keypath,
                     size_t key_bytes) {
  const char* fn = "vhd_util_calculate_keyhash";
  uint8_t key[kMaxKeyBytes];
  size_t got = key_bytes == 0 ? kMaxKeyBytes : key_bytes;
  int err = ReadKey(keypath, key, &got);
  if (err) {
    KEY_ERR(fn, "failed to read key: %d\n", err);
  } else if (key_bytes > 0 && key_bytes != got) {
    KEY_ERR(fn, "incorrect key size: %zu != %zu\n", key_bytes, got);
    err = -EINVAL;
  } else {
    kh->hash = vhd::ComputeKeyhash(kh->nonce, key, got);
  }
  std::memset(key, 0, sizeof(key));
  return err;
}

int SetHex(uint8_t* dst, size_t size, const char* hex) {
  const char* fn = "vhd_util_set_hex";
  size_t n = std::strlen(hex);
  if (n / 2 != size) {
    KEY_ERR(fn, "invalid size for hex string\n");
    return -EINVAL;
  }
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(hex[i]);
    if (c >= '0' && c <= '9') {
      c -= '0';
    } else if (c >= 'a' && c <= 'f') {
      c = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      c = c - 'A' + 10;
    } else {
      KEY_ERR(fn, "invalid hex digit\n");
      return -EINVAL;
    }
    // An odd last digit (n = 2 * size + 1) fills no byte.
    if (i / 2 >= size) break;
    if (i & 1) {
      dst[i / 2] |= c;
    } else {
      dst[i / 2] = static_cast<uint8_t>(c << 4);
    }
  }
  return 0;
}

// vhd == nullptr: -C, any key size.
int MakeKeyhash(const char* vhd, vhd::Keyhash* kh, const char* keypath,
                const char* hash, const char* nonce) {
  const char* fn = "vhd_util_set_keyhash";
  *kh = vhd::Keyhash();
  int err = 0;
  if (nonce && (err = SetHex(kh->nonce.data(), 32, nonce))) return err;
  if (hash) {
    if ((err = SetHex(kh->hash.data(), 32, hash))) return err;
  } else {
    if (keypath == nullptr) {
      // vhd-util would pass NULL on; refuse as its key file check does.
      KEY_ERR(fn, "Invalid key name (null)\n");
      return -EINVAL;
    }
    int bytes = 0;
    if (vhd != nullptr) {
      bytes = KeyBytesFromName(vhd, keypath);
      if (bytes < 0) {
        KEY_ERR(fn, "Invalid key name %s\n", keypath);
        return -1;
      }
    }
    err = CalculateKeyhash(kh, keypath, static_cast<size_t>(bytes));
    if (err) {
      KEY_ERR(fn, "failed to calculate keyhash: %d\n", err);
      return err;
    }
  }
  kh->cookie = 1;
  return 0;
}

int SetKey(const char* name, vhd::Image* img, const char* keypath,
           const char* hash, const char* nonce) {
  const char* fn = "vhd_util_set_key";
  if (img->type() == vhd::DiskType::kFixed) {
    KEY_ERR(fn, "can't save key hashes for fixed vhds\n");
    return -EINVAL;
  }
  if (keypath && hash) {
    KEY_ERR(fn, "can't provide both keyhash and keypath\n");
    return -EINVAL;
  }
  auto* sp = dynamic_cast<vhd::SparseImage*>(img);
  base::Status s = sp ? sp->LoadBat() : base::Status::InvalidArgument("raw");
  if (!s.ok()) {
    KEY_ERR(fn, "error reading bat: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  if (sp->allocated_blocks() != 0) {
    KEY_ERR(fn, "can't save key hashes for non-empty vhds\n");
    return -EINVAL;
  }
  vhd::Keyhash kh;
  int err = MakeKeyhash(name, &kh, keypath, hash, nonce);
  if (err) return err;
  s = vhd::WriteKeyhash(env(), name, kh);
  if (!s.ok()) {
    KEY_ERR(fn, "failed to set keyhash: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  return 0;
}

int CheckKey(const char* name, const char* keypath) {
  const char* fn = "vhd_util_check_key";
  vhd::Keyhash have;
  base::Status s = vhd::ReadKeyhash(env(), name, &have);
  if (!s.ok()) {
    KEY_ERR(fn, "failed to read keyhash: %d\n", s.ToErrno());
    return s.ToErrno();
  }
  if (!have.cookie) {
    KEY_ERR(fn, "this vhd has no keyhash\n");
    return -EINVAL;
  }
  int bytes = KeyBytesFromName(name, keypath);
  if (bytes < 0) {
    KEY_ERR(fn, "Invalid key name %s\n", keypath);
    return -1;
  }
  vhd::Keyhash kh;
  kh.nonce = have.nonce;
  int err = CalculateKeyhash(&kh, keypath, static_cast<size_t>(bytes));
  if (err) {
    KEY_ERR(fn, "failed to calculate keyhash: %d\n", err);
    return err;
  }
  if (kh.hash != have.hash) {
    KEY_ERR(fn, "vhd hash doesn't match key hash\n");
    return -EINVAL;
  }
  return 0;
}

void PrintHex(const std::array<uint8_t, 32>& v) {
  for (uint8_t b : v) std::printf("%02x", b);
}

struct KeyFlags {
  const char *name = nullptr, *nonce = nullptr, *keypath = nullptr,
             *keyhash = nullptr;
  bool set = false, check = false, print = false, calc = false;
};

// Parses the options and checks they make one request; false when usage is
// to be printed, with *err the status to return (0 for -h).
bool ParseKeyFlags(int argc, char** argv, KeyFlags* k, int* err) {
  int c;
  *err = -EINVAL;
  while ((c = getopt(argc, argv, "n:k:N:H:scCph")) != -1) {
    switch (c) {
      case 'n':
        k->name = optarg;
        break;
      case 'k':
        k->keypath = optarg;
        break;
      case 'N':
        k->nonce = optarg;
        break;
      case 'H':
        k->keyhash = optarg;
        break;
      case 's':
        k->set = true;
        break;
      case 'c':
        k->check = true;
        break;
      case 'C':
        k->calc = true;
        break;
      case 'p':
        k->print = true;
        break;
      case 'h':
        *err = 0;
        return false;
      default:
        return false;
    }
  }
  if (optind != argc) return false;
  if (k->calc) return true;
  if (k->name == nullptr) return false;
  if (k->set) {
    return !k->check && (k->keypath != nullptr) != (k->keyhash != nullptr);
  }
  if (k->check) return k->keypath != nullptr && !k->nonce && !k->keyhash;
  return k->print;
}

// -C: prints the keyhash of a key file.
int CalcKeyhash(const KeyFlags& k) {
  vhd::Keyhash kh;
  int err = MakeKeyhash(nullptr, &kh, k.keypath, nullptr, k.nonce);
  if (err) {
    KEY_ERR("vhd_util_key", "calculating keyhash failed: %d\n", err);
    return err;
  }
  PrintHex(kh.hash);
  std::printf("\n");
  return 0;
}

// -p: prints the disk's keyhash ("none" when it has none).
int PrintKeyhash(const char* name) {
  vhd::Keyhash kh;
  base::Status s = vhd::ReadKeyhash(env(), name, &kh);
  if (!s.ok()) {
    int err = s.ToErrno();
    std::fprintf(stderr, "failed to read keyhash: %d\n", err);
    return err;
  }
  if (kh.cookie != 1) {
    std::printf("none\n");
    return 0;
  }
  PrintHex(kh.nonce);
  std::printf(" ");
  PrintHex(kh.hash);
  std::printf("\n");
  return 0;
}

// -s, -c and -p on the disk NAME.
int KeyOfDisk(const KeyFlags& k) {
  std::unique_ptr<vhd::Image> img;
  vhd::OpenOptions o;
  o.writable = k.set;
  base::Status s = vhd::OpenImage(env(), k.name, o, &img);
  if (!s.ok()) {
    int code = VhdUtilOpenErrno(k.name, s);
    std::fprintf(stderr, "failed to open %s: %d\n", k.name, code);
    return code;
  }
  int err = 0;
  if (k.set) {
    err = SetKey(k.name, img.get(), k.keypath, k.keyhash, k.nonce);
    if (err) std::fprintf(stderr, "setting key failed: %d\n", err);
  } else if (k.check) {
    err = CheckKey(k.name, k.keypath);
    if (err) std::fprintf(stderr, "key check failed: %d\n", err);
  }
  img.reset();
  // As vhd-util: with -p, its status is the command's.
  if (k.print) err = PrintKeyhash(k.name);
  return err;
}

}  // namespace

int CmdKey(int argc, char** argv) {
  KeyFlags k;
  int err = -EINVAL;
  if (!ParseKeyFlags(argc, argv, &k, &err)) {
    std::fprintf(stderr,
                 "usage:\n"
                 "-C -k KEYPATH [-N NONCE]: calculate keyhash for KEYPATH\n"
                 "-s -n NAME <-k KEYPATH> | -H HASH> [-N NONCE]: set keyhash "
                 "for NAME\n"
                 "-c -n NAME <-k KEYPATH>: check keyhash for NAME\n"
                 "-p -n NAME: print keyhash for NAME\n"
                 "-h help\n");
    return err;
  }
  if (k.calc) return CalcKeyhash(k);
  return KeyOfDisk(k);
}

}  // namespace vhdutil
