// Image formats: the byte stream uploaded for an image file.
//
//   vhd  the image, gzip-compressed (GzipSource)
//   tgz  a ustar archive holding the image as 0.vhd, gzip-compressed
//        (TarSource then GzipSource), as OpenStack's XenServer driver uploads
//   raw  the image as is (already compressed input, tests)
//
// The image source must know its Size() for tgz. Progress() of the returned
// stream counts uncompressed bytes (for tgz, bytes of the tar stream, i.e.
// the image plus 1.5 KiB of headers).
#ifndef VHDSM_UPLOAD_IMAGE_STREAM_H_
#define VHDSM_UPLOAD_IMAGE_STREAM_H_

#include <memory>
#include <string>

#include "upload/byte_source.h"
#include "upload/gzip_source.h"
#include "upload/tar_source.h"

namespace upload {

enum class ImageFormat { kVhd, kTgz, kRaw };

// "vhd" / "tgz" / "raw"; ParseImageFormat also accepts "gzip" for vhd.
const char* ImageFormatName(ImageFormat format);
bool ParseImageFormat(const std::string& name, ImageFormat* format);

struct ImageStreamOptions {
  ImageFormat format = ImageFormat::kVhd;
  GzipOptions gzip;
  TarOptions tar;
};

base::Status NewImageStream(std::unique_ptr<ByteSource> image,
                            const ImageStreamOptions& options,
                            std::unique_ptr<ByteSource>* out);

}  // namespace upload

#endif  // VHDSM_UPLOAD_IMAGE_STREAM_H_
