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
  bool raw = false;
  RETURN_IF_ERROR(FindParent(env, child, &parent_path, &raw));
  if (raw) {
    // A locator may name any file (a device, a file of someone else's):
    // writes go only into a parent that is a VHD with the recorded uuid.
    return base::Status::NotSupported(child_path + " has a raw parent (" +
                                      parent_path +
                                      "): coalescing into a file that is not a "
                                      "VHD is refused");
  }
  {
    std::string canon;
    if (env->Realpath(parent_path, &canon).ok()) parent_path = canon;
  }
  result->parent = parent_path;

  // A parent smaller than the child grows first (journaled: the journal of an
  // interrupted grow is reverted, then the grow is done again).
  OpenOptions po;
  po.writable = true;
  po.durable = options.durable;
  po.shadowed = true;
  std::unique_ptr<Image> parent;
  std::string resize_journal = CoalesceJournalPath(parent_path) + ".resize";
  if (env->Exists(resize_journal)) {
    RETURN_IF_ERROR(RevertResize(env, parent_path, resize_journal));
  }
  RETURN_IF_ERROR(OpenImage(env, parent_path, po, &parent));
  if (parent->footer()->uuid != child->header().parent_uuid) {
    return base::Status::ParentMismatch(child_path + " expects parent " +
                                        child->header().parent_uuid.ToString() +
                                        ", found " + parent_path);
  }
  if (parent->virtual_size() < child->virtual_size()) {
    parent.reset();
    RETURN_IF_ERROR(ResizeJournaled(env, parent_path, child->virtual_size(),
                                    resize_journal));
    RETURN_IF_ERROR(OpenImage(env, parent_path, po, &parent));
  }
  if (options.grow_parent_only) return base::Status::OK();

  // Resume from the journal when it belongs to this pair.
  std::string journal = CoalesceJournalPath(parent_path);
  JournalState js;
  js.child = child->footer()->uuid;
  js.parent = parent->footer()->uuid;
  {
    std::string text;
    JournalState old;
    if (base::ReadFileToString(env, journal, &text).ok() &&
        DecodeJournal(text, &old) && old.child == js.child &&
        old.parent == js.parent) {
      js.next_block = old.next_block;
      result->resumed = true;
    }
  }
  result->first_block = js.next_block;
  RETURN_IF_ERROR(RemoveJournalTemps(env, journal));
  RETURN_IF_ERROR(base::WriteFileAtomic(env, journal, EncodeJournal(js)));

  const uint32_t cspb = child->sectors_per_block();
  const uint32_t pspb = parent->sectors_per_block();
  const uint64_t blocks = child->block_count();
  CoalesceProgress prog;
  prog.blocks_total = blocks;
  for (uint64_t b = 0; b < blocks; ++b) {
    if (child->bat()[b] == kBatUnused) continue;
    BlockState st;
    RETURN_IF_ERROR(child->GetBlockState(b, &st));
    prog.bytes_total += uint64_t{BitmapCount(st.bitmap, cspb)} << kSectorShift;
  }
  double start = Now();
  uint64_t since_checkpoint = 0;
  uint64_t since_writeback = 0;
  constexpr uint64_t kWritebackBytes = 16ull << 20;
  // Copies child sectors [vsec, vsec + n) (held by the child at file offset
  // `src`) into the parent, split at parent block boundaries.
  auto copy_run = [&](uint64_t vsec, uint64_t n, uint64_t src) -> base::Status {
    while (n > 0) {
      uint64_t pb = vsec / pspb;
      uint32_t ps = static_cast<uint32_t>(vsec % pspb);
      uint32_t k = static_cast<uint32_t>(std::min<uint64_t>(n, pspb - ps));
      RETURN_IF_ERROR(parent->WriteSectors(
          pb, ps, k, SectorSource::FromFile(child->file(), src)));
      vsec += k;
      n -= k;
      src += uint64_t{k} << kSectorShift;
      result->sectors += k;
      prog.bytes_done += uint64_t{k} << kSectorShift;
      since_checkpoint += uint64_t{k} << kSectorShift;
      since_writeback += uint64_t{k} << kSectorShift;
    }
    return base::Status::OK();
  };

  for (uint64_t b = 0; b < blocks; ++b) {
    prog.blocks_done = b;
    if (b < js.next_block || child->bat()[b] == kBatUnused) continue;
    BlockState st;
    RETURN_IF_ERROR(child->GetBlockState(b, &st));
    uint64_t base = b * cspb;
    uint64_t limit =
        std::min<uint64_t>(cspb, SectorsOf(child->virtual_size()) - base);
    if (st.kind == BlockKind::kFull) {
      RETURN_IF_ERROR(copy_run(base, limit, child->DataOffset(b, 0)));
    } else {
      // st.bitmap stays valid: only the parent is called until the next
      // GetBlockState on the child.
      const uint8_t* bm = st.bitmap;
      for (uint32_t s = 0; s < limit;) {
        uint32_t run = BitmapRun(bm, s, static_cast<uint32_t>(limit) - s);
        if (BitmapTest(bm, s)) {
          RETURN_IF_ERROR(copy_run(base + s, run, child->DataOffset(b, s)));
        }
        s += run;
      }
    }
    // Keep the disk busy: start writing back what this block dirtied, so the
    // checkpoint's sync waits for little (cf. export).
    if (since_writeback >= kWritebackBytes) {
      parent->file()->StartWriteback(0, 0);
      since_writeback = 0;
    }
    if (since_checkpoint >= options.checkpoint_bytes) {
      RETURN_IF_ERROR(parent->Flush());
      js.next_block = b + 1;
      RETURN_IF_ERROR(base::WriteFileAtomic(env, journal, EncodeJournal(js)));
      since_checkpoint = 0;
    }
    if (options.progress) {
      prog.blocks_done = b + 1;
      prog.seconds = Now() - start;
      options.progress(prog);
    }
  }
  RETURN_IF_ERROR(parent->Flush());
  prog.blocks_done = blocks;
  prog.seconds = Now() - start;
  if (options.progress) options.progress(prog);
  RETURN_IF_ERROR(env->Unlink(journal));
  return env->SyncDir(base::DirName(journal));
}

}  // namespace vhd
