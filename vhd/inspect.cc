#include "vhd/inspect.h"

#include <memory>

#include "vhd/chain.h"
#include "vhd/footer_io.h"
#include "vhd/image.h"
#include "vhd/sparse_image.h"

namespace vhd {

base::Status InspectVhd(base::Env* env, const std::string& path, bool with_bat,
                        VhdInfo* info) {
  *info = VhdInfo();
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  const Footer& f = *img->footer();
  info->type = f.disk_type();
  info->virtual_size = f.curr_size;
  info->hidden = f.hidden != 0;
  info->uuid = f.uuid;
  RETURN_IF_ERROR(img->file()->Size(&info->file_size));
  auto* sparse = dynamic_cast<SparseImage*>(img.get());
  if (sparse == nullptr) {
    info->physical_size = info->file_size;
    return base::Status::OK();
  }
  const DynamicHeader& h = sparse->header();
  info->block_size = h.block_size;
  info->max_bat_entries = h.max_table_entries;
  info->footer_from_backup = sparse->footer_info().from_backup;
  if (f.disk_type() == DiskType::kDifferencing) {
    info->parent_uuid = h.parent_uuid;
    h.DecodeParentName(&info->parent_name);
  }
  if (with_bat) {
    RETURN_IF_ERROR(sparse->LoadBat());
    info->physical_size = sparse->end_of_data() + kFooterSize;
    uint64_t blocks = img->block_count();
    for (uint64_t i = 0; i < blocks; ++i) {
      info->allocated_blocks += sparse->bat()[i] != kBatUnused;
    }
  }
  return base::Status::OK();
}

base::Status ChainDepth(base::Env* env, const std::string& path, int* depth) {
  ChainOptions o;
  o.env = env;
  std::unique_ptr<Chain> chain;
  RETURN_IF_ERROR(Chain::Open(path, o, &chain));
  *depth = static_cast<int>(chain->depth());
  return base::Status::OK();
}

base::Status ResolveParent(base::Env* env, const std::string& path,
                           std::string* parent) {
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, OpenOptions(), &img));
  bool raw = false;
  std::string p;
  RETURN_IF_ERROR(FindParent(env, img.get(), &p, &raw));
  std::string canon;
  *parent = env->Realpath(p, &canon).ok() ? canon : p;
  return base::Status::OK();
}

base::Status SetHidden(base::Env* env, const std::string& path, bool hidden) {
  OpenOptions o;
  o.writable = true;
  std::unique_ptr<Image> img;
  RETURN_IF_ERROR(OpenImage(env, path, o, &img));
  Footer f = *img->footer();
  f.hidden = hidden ? 1 : 0;
  if (auto* sparse = dynamic_cast<SparseImage*>(img.get())) {
    RETURN_IF_ERROR(sparse->WriteFooters(f));
  } else {
    // A fixed disk's footer is where it was found (EOF-511 for a short one).
    FooterInfo info;
    RETURN_IF_ERROR(ReadFooter(img->file(), &info));
    f.Seal();
    RETURN_IF_ERROR(WriteFooterAt(img->file(), f, info.offset));
  }
  return img->Flush();
}

}  // namespace vhd
