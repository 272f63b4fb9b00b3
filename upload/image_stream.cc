#include "upload/image_stream.h"

namespace upload {

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kVhd:
      return "vhd";
    case ImageFormat::kTgz:
      return "tgz";
    case ImageFormat::kRaw:
      return "raw";
  }
  return "?";
}

bool ParseImageFormat(const std::string& name, ImageFormat* format) {
  if (name == "vhd" || name == "gzip") {
    *format = ImageFormat::kVhd;
  } else if (name == "tgz") {
    *format = ImageFormat::kTgz;
  } else if (name == "raw") {
    *format = ImageFormat::kRaw;
  } else {
    return false;
  }
  return true;
}

base::Status NewImageStream(std::unique_ptr<ByteSource> image,
                            const ImageStreamOptions& options,
                            std::unique_ptr<ByteSource>* out) {
  if (options.format == ImageFormat::kRaw) {
    *out = std::move(image);
    return base::Status::OK();
  }
  std::unique_ptr<ByteSource> plain = std::move(image);
  if (options.format == ImageFormat::kTgz) {
    if (plain->Size() < 0) {
      return base::Status::InvalidArgument(
          "tgz needs an image of known size (the tar header holds it)");
    }
    std::unique_ptr<TarSource> tar;
    uint64_t size = static_cast<uint64_t>(plain->Size());
    RETURN_IF_ERROR(TarSource::Open(std::move(plain), size, options.tar, &tar));
    plain = std::move(tar);
  }
  std::unique_ptr<GzipSource> gz;
  RETURN_IF_ERROR(GzipSource::Open(std::move(plain), options.gzip, &gz));
  *out = std::move(gz);
  return base::Status::OK();
}

}  // namespace upload
