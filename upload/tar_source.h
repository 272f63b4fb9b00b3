// TarSource: a tar archive (POSIX ustar) holding one regular file, streamed
// from a ByteSource of known size: the "tgz" image format once gzip'd, as
// OpenStack's XenServer driver uploads it (a member named 0.vhd; its
// importer runs `tar -xz` and expects 0.vhd).
//
// Layout: one 512-byte ustar header, the file's bytes, zero padding to a
// multiple of 512, and two zero blocks (end of archive). A file of 8 GiB or
// more does not fit ustar's 11-digit octal size field; it is preceded by a
// POSIX.1-2001 pax extended header ('x') carrying `size=`, which GNU tar,
// bsdtar and Python's tarfile read. The header's mtime is the caller's (use a
// stable value, e.g. the image's mtime, so that a resumed upload produces
// identical bytes); owner root:root, mode 0644.
//
// Read() fails with kCorruption if the input ends before `size` bytes; bytes
// past `size` are never read. Progress() is the input's.
#ifndef VHDSM_UPLOAD_TAR_SOURCE_H_
#define VHDSM_UPLOAD_TAR_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "upload/byte_source.h"

namespace upload {

struct TarOptions {
  std::string member_name = "0.vhd";  // at most 100 bytes
  int64_t mtime = 0;                  // seconds since the epoch
};

class TarSource : public ByteSource {
 public:
  // `size` is the number of bytes of `input` that form the member.
  static base::Status Open(std::unique_ptr<ByteSource> input, uint64_t size,
                           const TarOptions& options,
                           std::unique_ptr<TarSource>* out);

  base::Status Read(uint8_t* buf, size_t n, size_t* got) override;
  int64_t Size() const override;
  SourceProgress Progress() const override { return input_->Progress(); }

  // The header block(s) that precede the data (512 or 1536 bytes).
  const std::string& header() const { return header_; }

 private:
  TarSource(std::unique_ptr<ByteSource> input, uint64_t size,
            std::string header);
  std::unique_ptr<ByteSource> input_;
  uint64_t size_;
  std::string header_;
  uint64_t pos_ = 0;  // position in the whole archive
};

}  // namespace upload

#endif  // VHDSM_UPLOAD_TAR_SOURCE_H_
