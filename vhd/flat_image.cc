// The table of operations for images whose data is stored flat, at virtual
// offset == file offset: fixed VHDs (data + footer) and raw files (a raw
// parent, as `vhd-util snapshot -m` allows). Every block is fully present.
#include <memory>

#include "vhd/footer_io.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

class FlatImage : public Image {
 public:
  FlatImage(std::unique_ptr<base::File> file, DiskType type, uint64_t size,
            const OpenOptions& options, const FooterInfo* info)
      : file_(std::move(file)), type_(type), size_(size), options_(options) {
    if (info != nullptr) {
      info_ = *info;
      has_footer_ = true;
    }
    full_.assign((kDefaultBlockSize >> kSectorShift) / 8, 0xff);
  }

  const std::string& path() const override { return file_->path(); }
  DiskType type() const override { return type_; }
  uint64_t virtual_size() const override { return size_; }
  uint32_t block_size() const override { return kDefaultBlockSize; }
  bool writable() const override { return options_.writable; }
  base::File* file() override { return file_.get(); }
  const Footer* footer() const override {
    return has_footer_ ? &info_.footer : nullptr;
  }

  base::Status GetBlockState(uint64_t, BlockState* state) override {
    state->kind = BlockKind::kFull;
    state->bitmap = full_.data();
    return base::Status::OK();
  }
  uint64_t DataOffset(uint64_t block, uint32_t sector) const override {
    return block * kDefaultBlockSize + (uint64_t{sector} << kSectorShift);
  }
  using Image::WriteSectors;
  base::Status WriteSectors(uint64_t block, uint32_t sector, uint32_t n,
                            const SectorSource& src) override {
    if (!options_.writable) {
      return base::Status::ReadOnly(path() + " is not writable");
    }
    uint64_t off = DataOffset(block, sector);
    uint64_t len = uint64_t{n} << kSectorShift;
    if (off + len > RoundUp(size_, kSectorSize)) {
      return base::Status::InvalidArgument("write outside the disk");
    }
    return src.WriteTo(file_.get(), off, len);
  }
  base::Status CommitMetadata() override { return base::Status::OK(); }
  base::Status Flush() override {
    return options_.writable ? file_->Sync() : base::Status::OK();
  }

 private:
  std::unique_ptr<base::File> file_;
  DiskType type_;
  uint64_t size_;
  OpenOptions options_;
  FooterInfo info_;
  bool has_footer_ = false;
  std::vector<uint8_t> full_;
};

base::Status OpenFile(base::Env* env, const std::string& path,
                      const OpenOptions& options,
                      std::unique_ptr<base::File>* file) {
  return env->Open(path,
                   options.writable ? base::Env::OpenMode::kReadWrite
                                    : base::Env::OpenMode::kReadOnly,
                   file);
}

}  // namespace

base::Status OpenRawImage(base::Env* env, const std::string& path,
                          const OpenOptions& options,
                          std::unique_ptr<Image>* image) {
  std::unique_ptr<base::File> file;
  RETURN_IF_ERROR(OpenFile(env, path, options, &file));
  uint64_t size = 0;
  RETURN_IF_ERROR(file->Size(&size));
  image->reset(
      new FlatImage(std::move(file), DiskType::kNone, size, options, nullptr));
  return base::Status::OK();
}

base::Status OpenImage(base::Env* env, const std::string& path,
                       const OpenOptions& options,
                       std::unique_ptr<Image>* image) {
  std::unique_ptr<base::File> file;
  RETURN_IF_ERROR(OpenFile(env, path, options, &file));
  FooterInfo info;
  RETURN_IF_ERROR(ReadFooter(file.get(), &info));
  const Footer& f = info.footer;
  switch (f.disk_type()) {
    case DiskType::kFixed: {
      if (f.curr_size > info.offset) {
        return base::Status::Corruption(
            path + ": fixed disk of " + std::to_string(f.curr_size) +
            " bytes does not fit before its footer at " +
            std::to_string(info.offset));
      }
      image->reset(new FlatImage(std::move(file), DiskType::kFixed, f.curr_size,
                                 options, &info));
      return base::Status::OK();
    }
    case DiskType::kDynamic:
    case DiskType::kDifferencing: {
      std::unique_ptr<SparseImage> sparse;
      RETURN_IF_ERROR(
          SparseImage::Open(std::move(file), info, options, &sparse));
      *image = std::move(sparse);
      return base::Status::OK();
    }
    default:
      return base::Status::Corruption(path + ": unsupported disk type " +
                                      std::to_string(f.type));
  }
}

}  // namespace vhd
