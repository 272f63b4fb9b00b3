// vhd-util query: one line per requested field, always in the order
// v, s, p, f, m, d, a, S (xapi's storage scripts parse lines by position).
#include <getopt.h>

#include <cinttypes>
#include <cstdio>
#include <memory>

#include "vhd/image.h"
#include "vhd/inspect.h"
#include "vhd/keyhash.h"
#include "vhd/sparse_image.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

// The first decodable locator, unresolved ("./parent.vhd").
base::Status UnresolvedParent(vhd::SparseImage* img, std::string* out) {
  for (int i = 0; i < vhd::kParentLocatorCount; ++i) {
    if (img->LocatorPath(i, out).ok()) return base::Status::OK();
  }
  return base::Status::InvalidArgument("no parent locator");
}

struct QueryFlags {
  const char* name = nullptr;
  bool size = false, physize = false, parent = false, fields = false,
       depth = false, fastresize = false, marker = false, allocated = false,
       unresolved = false;
};

// Parses the options; false when usage is to be printed, with *err the
// status to return (0 for -h).
bool ParseQueryFlags(int argc, char** argv, QueryFlags* q, int* err) {
  int c;
  while ((c = getopt(argc, argv, "n:vspfdSmaubh")) != -1) {
    switch (c) {
      case 'n':
        q->name = optarg;
        break;
      case 'v':
        q->size = true;
        break;
      case 's':
        q->physize = true;
        break;
      case 'p':
        q->parent = true;
        break;
      case 'f':
        q->fields = true;
        break;
      case 'd':
        q->depth = true;
        break;
      case 'S':
        q->fastresize = true;
        break;
      case 'm':
        q->marker = true;
        break;
      case 'a':
        q->allocated = true;
        break;
      case 'u':
        q->unresolved = true;
        break;
      case 'b':
        break;  // the copy at 0 is used anyway when EOF is bad
      case 'h':
        *err = 0;
        return false;
      default:
        *err = -EINVAL;
        return false;
    }
  }
  if (q->name == nullptr || optind != argc) {
    *err = -EINVAL;
    return false;
  }
  return true;
}

// The disk as query sees it: the image and, for -s and -a, two figures of
// the BAT.
struct QueriedDisk {
  std::unique_ptr<vhd::Image> img;
  vhd::SparseImage* sparse = nullptr;
  uint64_t used = 0, eod = 0;
};

// Opens the disk; false (its message printed, *code the status to return)
// when it fails.
bool OpenQueried(const QueryFlags& q, QueriedDisk* d, int* code) {
  base::Status s = vhd::OpenImage(env(), q.name, vhd::OpenOptions(), &d->img);
  *code = s.ok() ? 0 : VhdUtilOpenErrno(q.name, s);
  d->sparse = dynamic_cast<vhd::SparseImage*>(d->img.get());
  // -s and -a need two figures of the BAT, not the BAT: summarized a
  // chunk at a time (sm runs query -vsafp for every disk of every scan).
  if (s.ok() && d->sparse != nullptr && (q.physize || q.allocated)) {
    s = d->sparse->SummarizeBat(&d->used, &d->eod);
    *code = s.ToErrno();
  }
  if (!s.ok()) {
    std::printf("error opening %s: %d\n", q.name, *code);
    return false;
  }
  return true;
}

// Each Print* prints its line(s) and returns its status (0 or -errno).
int PrintPhysize(const QueriedDisk& d) {
  uint64_t phys = 0;
  base::Status s;
  if (d.sparse != nullptr) {
    phys = d.eod + vhd::kFooterSize;
  } else {
    s = d.img->file()->Size(&phys);
  }
  if (!s.ok()) {
    int err = s.ToErrno();
    std::printf("failed to get physical size: %d\n", err);
    return err;
  }
  std::printf("%" PRIu64 "\n", phys);
  return 0;
}

int PrintParent(const QueryFlags& q, const QueriedDisk& d) {
  if (d.img->footer()->disk_type() != vhd::DiskType::kDifferencing) {
    std::printf("%s has no parent\n", q.name);
    return 0;
  }
  std::string p;
  base::Status s = q.unresolved ? UnresolvedParent(d.sparse, &p)
                                : vhd::ResolveParent(env(), q.name, &p);
  if (!s.ok()) {
    std::printf("query failed\n");
    return s.ToErrno();
  }
  std::printf("%s\n", p.c_str());
  return 0;
}

void PrintMarker(const QueryFlags& q) {
  // The batmap header's byte, else the xattr (vhd/keyhash.h); one that
  // cannot be read shows as 0, as before.
  uint8_t m = 0;
  if (!vhd::ReadMarker(env(), q.name, &m).ok()) m = 0;
  std::printf("marker: %d\n", static_cast<signed char>(m));
}

int PrintDepth(const QueryFlags& q) {
  int depth = 0;
  base::Status s = vhd::ChainDepth(env(), q.name, &depth);
  if (!s.ok()) {
    int ret = s.ToErrno();
    std::printf("error checking chain depth: %d\n", ret);
    return ret;
  }
  std::printf("chain depth: %d\n", depth);
  return 0;
}

int PrintAllocated(const QueriedDisk& d) {
  if (d.sparse == nullptr) {
    std::printf("error reading bat: %d\n", -EINVAL);
    return -EINVAL;
  }
  std::printf("%" PRIu64 "\n", d.used);
  return 0;
}

void PrintFastResize(const QueriedDisk& d) {
  uint64_t max = 0;
  if (d.sparse != nullptr) {
    max = uint64_t{d.sparse->header().max_table_entries} *
              d.sparse->header().block_size >>
          20;
  }
  std::printf("%" PRIu64 "\n", max);
}

// The fields asked for, in xapi's order; the first failure's status.
int PrintQuery(const QueryFlags& q, const QueriedDisk& d) {
  const vhd::Footer& f = *d.img->footer();
  int err = 0;
  auto keep_first = [&err](int ret) { err = err ? err : ret; };
  if (q.size) std::printf("%" PRIu64 "\n", f.curr_size >> 20);
  if (q.physize) keep_first(PrintPhysize(d));
  if (q.parent) keep_first(PrintParent(q, d));
  if (q.fields) std::printf("hidden: %d\n", f.hidden);
  if (q.marker) PrintMarker(q);
  if (q.depth) keep_first(PrintDepth(q));
  if (q.allocated) keep_first(PrintAllocated(d));
  if (q.fastresize) PrintFastResize(d);
  return err;
}

}  // namespace

int CmdQuery(int argc, char** argv) {
  QueryFlags q;
  int err = 0;
  if (!ParseQueryFlags(argc, argv, &q, &err)) {
    std::printf(
        "options: <-n name> [-v print virtual size (in MB)] "
        "[-s print physical utilization (bytes)] [-p print parent] "
        "[-f print fields] [-m print marker] [-d print chain depth] "
        "[-S print max virtual size (MB) for fast resize] "
        "[-a print allocated block count] [-u don't resolve parent path] "
        "[-b don't trust the footer, use the back-up one instead] "
        "[-h help]\n");
    return err;
  }
  QueriedDisk d;
  int code = 0;
  if (!OpenQueried(q, &d, &code)) return code;
  return PrintQuery(q, d);
}

}  // namespace vhdutil
