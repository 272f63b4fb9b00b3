#include "vhd/coalesce.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "vhd/chain.h"
#include "vhd/image.h"
#include "vhd/resize.h"
#include "vhd/sparse_image.h"

namespace vhd {

namespace {

struct JournalState {
  Uuid child;
  Uuid parent;
  uint64_t next_block = 0;
};

std::string EncodeJournal(const JournalState& j) {
  return "vhdsm coalesce journal 1\nchild " + j.child.ToString() + "\nparent " +
         j.parent.ToString() + "\nnext_block " + std::to_string(j.next_block) +
         "\n";
}

bool DecodeJournal(const std::string& text, JournalState* j) {
  std::istringstream in(text);
  std::string line, key, value;
  if (!std::getline(in, line) || line != "vhdsm coalesce journal 1")
    return false;
  int fields = 0;
  while (in >> key >> value) {
    if (key == "child" && Uuid::Parse(value, &j->child)) {
      ++fields;
    } else if (key == "parent" && Uuid::Parse(value, &j->parent)) {
      ++fields;
    } else if (key == "next_block") {
      j->next_block = std::strtoull(value.c_str(), nullptr, 10);
      ++fields;
    }
  }
  return fields == 3;
}

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// WriteFileAtomic's temporary copies of `journal` (<journal>.tmp.<pid>.<n>)
// that a coalesce killed mid-write left behind. Only one coalesce of a parent
// runs at a time (the caller holds it), so none of them is live.
static base::Status RemoveJournalTemps(base::Env* env,
                                       const std::string& journal) {
  std::vector<std::string> names;
  RETURN_IF_ERROR(env->ListDir(base::DirName(journal), &names));
  const std::string prefix = base::BaseName(journal) + ".tmp.";
  for (const std::string& n : names) {
    if (n.compare(0, prefix.size(), prefix) == 0) {
      RETURN_IF_ERROR(env->Unlink(base::JoinPath(base::DirName(journal), n)));
    }
  }
  return base::Status::OK();
}

std::string CoalesceJournalPath(const std::string& parent) {
  return base::JoinPath(base::DirName(parent),
                        "." + base::BaseName(parent) + ".coalesce");
}

namespace {

// The child's parent, a VHD (a raw one is refused), canonically named.
base::Status FindVhdParent(base::Env* env, const std::string& child_path,
                           SparseImage* child, std::string* parent_path) {
  bool raw = false;
  RETURN_IF_ERROR(FindParent(env, child, parent_path, &raw));
  if (raw) {
    // A locator may name any file (a device, a file of someone else's):
    // writes go only into a parent that is a VHD with the recorded uuid.
    return base::Status::NotSupported(child_path + " has a raw parent (" +
                                      *parent_path +
                                      "): coalescing into a file that is not a "
                                      "VHD is refused");
  }
  std::string canon;
  if (env->Realpath(*parent_path, &canon).ok()) *parent_path = canon;
  return base::Status::OK();
}

// Opens the parent for writing. A parent smaller than the child grows first
// (journaled: the journal of an interrupted grow is reverted, then the grow
// is done again).
base::Status OpenGrownParent(base::Env* env, const std::string& child_path,
                             SparseImage* child, const std::string& parent_path,
                             const CoalesceOptions& options,
                             std::unique_ptr<Image>* parent) {
  OpenOptions po;
  po.writable = true;
  po.durable = options.durable;
  po.shadowed = true;
  std::string resize_journal = CoalesceJournalPath(parent_path) + ".resize";
  if (env->Exists(resize_journal)) {
    RETURN_IF_ERROR(RevertResize(env, parent_path, resize_journal));
  }
  RETURN_IF_ERROR(OpenImage(env, parent_path, po, parent));
  if ((*parent)->footer()->uuid != child->header().parent_uuid) {
    return base::Status::ParentMismatch(child_path + " expects parent " +
                                        child->header().parent_uuid.ToString() +
                                        ", found " + parent_path);
  }
  if ((*parent)->virtual_size() < child->virtual_size()) {
    parent->reset();
    RETURN_IF_ERROR(ResizeJournaled(env, parent_path, child->virtual_size(),
                                    resize_journal));
    RETURN_IF_ERROR(OpenImage(env, parent_path, po, parent));
  }
  return base::Status::OK();
}

// Resumes from the journal when it belongs to this pair, then (re)writes it.
base::Status StartJournal(base::Env* env, const std::string& journal,
                          JournalState* js, CoalesceResult* result) {
  std::string text;
  JournalState old;
  if (base::ReadFileToString(env, journal, &text).ok() &&
      DecodeJournal(text, &old) && old.child == js->child &&
      old.parent == js->parent) {
    js->next_block = old.next_block;
    result->resumed = true;
  }
  result->first_block = js->next_block;
  RETURN_IF_ERROR(RemoveJournalTemps(env, journal));
  return base::WriteFileAtomic(env, journal, EncodeJournal(*js));
}

// The copy of the child's allocated sectors into the parent, block by block,
// with checkpoints in the journal and progress reports.
class BlockCopier {
 public:
  BlockCopier(base::Env* env, SparseImage* child, Image* parent,
              const CoalesceOptions& options, const std::string& journal,
              JournalState* js, CoalesceResult* result)
      : env_(env),
        child_(child),
        parent_(parent),
        options_(options),
        journal_(journal),
        js_(js),
        result_(result),
        cspb_(child->sectors_per_block()),
        pspb_(parent->sectors_per_block()) {}

  base::Status Run() {
    const uint64_t blocks = child_->block_count();
    RETURN_IF_ERROR(CountBytes());
    start_ = Now();
    for (uint64_t b = 0; b < blocks; ++b) {
      prog_.blocks_done = b;
      if (b < js_->next_block || child_->bat()[b] == kBatUnused) continue;
      RETURN_IF_ERROR(CopyBlock(b));
      RETURN_IF_ERROR(AfterBlock(b));
    }
    RETURN_IF_ERROR(parent_->Flush());
    prog_.blocks_done = blocks;
    prog_.seconds = Now() - start_;
    if (options_.progress) options_.progress(prog_);
    return base::Status::OK();
  }

 private:
  static constexpr uint64_t kWritebackBytes = 16ull << 20;

  base::Status CountBytes() {
    const uint64_t blocks = child_->block_count();
    prog_.blocks_total = blocks;
    for (uint64_t b = 0; b < blocks; ++b) {
      if (child_->bat()[b] == kBatUnused) continue;
      BlockState st;
      RETURN_IF_ERROR(child_->GetBlockState(b, &st));
      prog_.bytes_total += uint64_t{BitmapCount(st.bitmap, cspb_)}
                           << kSectorShift;
    }
    return base::Status::OK();
  }

  base::Status CopyBlock(uint64_t b) {
    BlockState st;
    RETURN_IF_ERROR(child_->GetBlockState(b, &st));
    uint64_t base = b * cspb_;
    uint64_t limit =
        std::min<uint64_t>(cspb_, SectorsOf(child_->virtual_size()) - base);
    if (st.kind == BlockKind::kFull) {
      return CopyRun(base, limit, child_->DataOffset(b, 0));
    }
    // st.bitmap stays valid: only the parent is called until the next
    // GetBlockState on the child.
    const uint8_t* bm = st.bitmap;
    for (uint32_t s = 0; s < limit;) {
      uint32_t run = BitmapRun(bm, s, static_cast<uint32_t>(limit) - s);
      if (BitmapTest(bm, s)) {
        RETURN_IF_ERROR(CopyRun(base + s, run, child_->DataOffset(b, s)));
      }
      s += run;
    }
    return base::Status::OK();
  }

  // Copies child sectors [vsec, vsec + n) (held by the child at file offset
  // `src`) into the parent, split at parent block boundaries.
  base::Status CopyRun(uint64_t vsec, uint64_t n, uint64_t src) {
    while (n > 0) {
      uint64_t pb = vsec / pspb_;
      uint32_t ps = static_cast<uint32_t>(vsec % pspb_);
      uint32_t k = static_cast<uint32_t>(std::min<uint64_t>(n, pspb_ - ps));
      RETURN_IF_ERROR(parent_->WriteSectors(
          pb, ps, k, SectorSource::FromFile(child_->file(), src)));
      vsec += k;
      n -= k;
      src += uint64_t{k} << kSectorShift;
      result_->sectors += k;
      prog_.bytes_done += uint64_t{k} << kSectorShift;
      since_checkpoint_ += uint64_t{k} << kSectorShift;
      since_writeback_ += uint64_t{k} << kSectorShift;
    }
    return base::Status::OK();
  }

  base::Status AfterBlock(uint64_t b) {
    // Keep the disk busy: start writing back what this block dirtied, so the
    // checkpoint's sync waits for little (cf. export).
    if (since_writeback_ >= kWritebackBytes) {
      parent_->file()->StartWriteback(0, 0);
      since_writeback_ = 0;
    }
    if (since_checkpoint_ >= options_.checkpoint_bytes) {
      RETURN_IF_ERROR(parent_->Flush());
      js_->next_block = b + 1;
      RETURN_IF_ERROR(
          base::WriteFileAtomic(env_, journal_, EncodeJournal(*js_)));
      since_checkpoint_ = 0;
    }
    if (options_.progress) {
      prog_.blocks_done = b + 1;
      prog_.seconds = Now() - start_;
      options_.progress(prog_);
    }
    return base::Status::OK();
  }

  base::Env* env_;
  SparseImage* child_;
  Image* parent_;
  const CoalesceOptions& options_;
  const std::string& journal_;
  JournalState* js_;
  CoalesceResult* result_;
  const uint32_t cspb_;
  const uint32_t pspb_;
  CoalesceProgress prog_;
  double start_ = 0;
  uint64_t since_checkpoint_ = 0;
  uint64_t since_writeback_ = 0;
};

}  // namespace

base::Status Coalesce(base::Env* env, const std::string& child_path,
                      const CoalesceOptions& options, CoalesceResult* result) {
  *result = CoalesceResult();
  std::unique_ptr<Image> child_img;
  RETURN_IF_ERROR(OpenImage(env, child_path, OpenOptions(), &child_img));
  auto* child = dynamic_cast<SparseImage*>(child_img.get());
  if (child == nullptr || child->type() != DiskType::kDifferencing) {
    return base::Status::InvalidArgument(
        "coalescing of non-differencing disks is not supported");
  }
  RETURN_IF_ERROR(child->LoadBat());
  std::string parent_path;
  RETURN_IF_ERROR(FindVhdParent(env, child_path, child, &parent_path));
  result->parent = parent_path;
  std::unique_ptr<Image> parent;
  RETURN_IF_ERROR(
      OpenGrownParent(env, child_path, child, parent_path, options, &parent));
  if (options.grow_parent_only) return base::Status::OK();

  std::string journal = CoalesceJournalPath(parent_path);
  JournalState js;
  js.child = child->footer()->uuid;
  js.parent = parent->footer()->uuid;
  RETURN_IF_ERROR(StartJournal(env, journal, &js, result));
  BlockCopier copier(env, child, parent.get(), options, journal, &js, result);
  RETURN_IF_ERROR(copier.Run());
  RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(base::DirName(journal));
}

}  // namespace vhd
