#include "vhd/keyhash.h"

#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "vhd/image.h"
#include "vhd/sha256.h"
#include "vhd/sparse_image.h"

namespace vhd {

std::array<uint8_t, 65> Keyhash::Encode() const {
  std::array<uint8_t, 65> out{};
  out[0] = cookie;
  std::memcpy(out.data() + 1, nonce.data(), 32);
  std::memcpy(out.data() + 33, hash.data(), 32);
  return out;
}

Keyhash Keyhash::Decode(const uint8_t* p) {
  Keyhash k;
  k.cookie = p[0];
  std::memcpy(k.nonce.data(), p + 1, 32);
  std::memcpy(k.hash.data(), p + 33, 32);
  return k;
}

std::array<uint8_t, 32> ComputeKeyhash(const std::array<uint8_t, 32>& nonce,
                                       const uint8_t* key, size_t key_bytes) {
  Sha256 h;
  h.Update(nonce.data(), nonce.size());
  h.Update(key, key_bytes);
  return h.Finish();
}

namespace {

// The image, and whether its keyhash is in a batmap header (else the xattr).
base::Status Locate(base::Env* env, const std::string& path,
                    std::unique_ptr<Image>* img, SparseImage** sparse) {
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), img));
  *sparse = dynamic_cast<SparseImage*>(img->get());
  if (*sparse == nullptr || !(*sparse)->expects_batmap()) {
    *sparse = nullptr;
    return base::Status::OK();
  }
  RETURN_IF_ERROR((*sparse)->LoadBat());
  if (!(*sparse)->has_batmap()) {
    return base::Status::Corruption(
        path + ": batmap unreadable: " + (*sparse)->batmap_problem());
  }
  return base::Status::OK();
}

// Rewrites the batmap header sector (the map's checksum does not cover it).
base::Status WriteBatmapHeader(base::Env* env, const std::string& path,
                               uint64_t off, const BatmapHeader& h) {
  uint8_t buf[kSectorSize];
  h.Encode(buf);
  std::unique_ptr<base::File> f;
  RETURN_IF_ERROR(env->Open(path, base::Env::OpenMode::kReadWrite, &f));
  RETURN_IF_ERROR(f->Write(off, buf, sizeof(buf)));
  return f->Sync();
}

}  // namespace

base::Status ReadKeyhash(base::Env* env, const std::string& path,
                         Keyhash* out) {
  std::unique_ptr<Image> img;
  SparseImage* sp = nullptr;
  RETURN_IF_ERROR(Locate(env, path, &img, &sp));
  if (sp != nullptr) {
    *out = Keyhash::Decode(sp->batmap_header().keyhash.data());
    return base::Status::OK();
  }
  uint8_t raw[65] = {};
  if (::getxattr(path.c_str(), kKeyhashXattr, raw, sizeof(raw)) < 0 &&
      errno != ENODATA && errno != ENOTSUP) {
    return base::Status::FromErrno(errno, "reading keyhash of " + path);
  }
  *out = Keyhash::Decode(raw);
  return base::Status::OK();
}

base::Status ReadMarker(base::Env* env, const std::string& path,
                        uint8_t* marker) {
  std::unique_ptr<Image> img;
  SparseImage* sp = nullptr;
  RETURN_IF_ERROR(Locate(env, path, &img, &sp));
  *marker = 0;
  if (sp != nullptr) {
    *marker = sp->batmap_header().marker;
    return base::Status::OK();
  }
  if (::getxattr(path.c_str(), kMarkerXattr, marker, 1) < 0 &&
      errno != ENODATA && errno != ENOTSUP) {
    return base::Status::FromErrno(errno, "reading marker of " + path);
  }
  return base::Status::OK();
}

base::Status WriteMarker(base::Env* env, const std::string& path,
                         uint8_t marker) {
  std::unique_ptr<Image> img;
  SparseImage* sp = nullptr;
  RETURN_IF_ERROR(Locate(env, path, &img, &sp));
  if (sp == nullptr) {
    img.reset();
    if (::setxattr(path.c_str(), kMarkerXattr, &marker, 1, 0) < 0) {
      return base::Status::FromErrno(errno, "setting marker of " + path);
    }
    return base::Status::OK();
  }
  BatmapHeader h = sp->batmap_header();
  uint64_t off = sp->batmap_header_offset();
  img.reset();
  h.marker = marker;
  return WriteBatmapHeader(env, path, off, h);
}

base::Status WriteKeyhash(base::Env* env, const std::string& path,
                          const Keyhash& kh) {
  std::unique_ptr<Image> img;
  SparseImage* sp = nullptr;
  RETURN_IF_ERROR(Locate(env, path, &img, &sp));
  std::array<uint8_t, 65> raw = kh.Encode();
  if (sp == nullptr) {
    img.reset();
    if (::setxattr(path.c_str(), kKeyhashXattr, raw.data(), raw.size(), 0) <
        0) {
      return base::Status::FromErrno(errno, "setting keyhash of " + path);
    }
    return base::Status::OK();
  }
  BatmapHeader h = sp->batmap_header();
  uint64_t off = sp->batmap_header_offset();
  img.reset();
  std::memcpy(h.keyhash.data(), raw.data(), raw.size());
  return WriteBatmapHeader(env, path, off, h);
}

}  // namespace vhd
