// vhd-util scan [-m GLOB] [-f] [-c] [-p] [-a] [-v] [-M] [FILES]: one line per
// image, "vhd=NAME capacity=BYTES size=BYTES hidden=0|1 parent=NAME|none",
// or "vhd=PATH scan-error=ERR error-message='WHAT'"; -p prints the chains as
// trees (hidden roots first, visible children before hidden ones). LVM
// volume groups (-l) are not supported here.
#include <getopt.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vhd/scan.h"
#include "vhd/util/commands.h"

namespace vhdutil {

namespace {

struct Flags {
  bool fast = false, nofail = false, pretty = false, parents = false,
       verbose = false, markers = false;
};

std::string Shown(const Flags& f, const std::string& path) {
  return f.verbose ? path : base::BaseName(path);
}

// `code`: the errno to print for a failed record (0: its status's).
void PrintRecord(const Flags& f, const vhd::ScanRecord& r, int tab,
                 const char* pmsg, int code = 0) {
  std::string pad(tab, ' ');
  if (!r.status.ok()) {
    std::printf("%svhd=%s scan-error=%d error-message='%s'\n", pad.c_str(),
                r.path.c_str(), code ? code : r.status.ToErrno(),
                r.error.c_str());
    return;
  }
  std::string parent = r.has_parent ? Shown(f, r.parent) : "none";
  if (f.markers) {
    std::printf("%svhd=%s capacity=%" PRIu64 " size=%" PRIu64
                " hidden=%u marker=%u keyhash= parent=%s%s\n",
                pad.c_str(), Shown(f, r.path).c_str(), r.capacity, r.size,
                r.hidden ? 1u : 0u, unsigned{r.marker}, parent.c_str(), pmsg);
  } else {
    std::printf("%svhd=%s capacity=%" PRIu64 " size=%" PRIu64
                " hidden=%u parent=%s%s\n",
                pad.c_str(), Shown(f, r.path).c_str(), r.capacity, r.size,
                r.hidden ? 1u : 0u, parent.c_str(), pmsg);
  }
}

std::string Canonical(base::Env* env, const std::string& p) {
  std::string c;
  return env->Realpath(p, &c).ok() ? c : p;
}

// -p: chains as trees.
void PrintTrees(const Flags& f, std::vector<vhd::ScanRecord> recs) {
  std::sort(recs.begin(), recs.end(),
            [](const vhd::ScanRecord& a, const vhd::ScanRecord& b) {
              return a.path < b.path;
            });
  std::map<std::string, size_t> by_path;
  for (size_t i = 0; i < recs.size(); ++i) by_path[recs[i].path] = i;
  std::vector<std::vector<size_t>> children(recs.size());
  std::vector<bool> has_parent_in_scan(recs.size(), false);
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i].status.ok() || !recs[i].has_parent) continue;
    auto it = by_path.find(recs[i].parent);
    if (it != by_path.end() && it->second != i) {
      children[it->second].push_back(i);
      has_parent_in_scan[i] = true;
    }
  }
  std::vector<bool> printed(recs.size(), false);
  std::function<void(size_t, int)> tree = [&](size_t i, int depth) {
    if (printed[i]) return;
    printed[i] = true;
    const char* pmsg = recs[i].has_parent && !has_parent_in_scan[i]
                           ? " (not found in scan)"
                           : "";
    PrintRecord(f, recs[i], depth * 3, pmsg);
    for (bool hidden : {false, true}) {
      for (size_t c : children[i]) {
        if (recs[c].hidden == hidden) tree(c, depth + 1);
      }
    }
  };
  for (bool hidden : {true, false}) {
    for (size_t i = 0; i < recs.size(); ++i) {
      if (!has_parent_in_scan[i] && recs[i].hidden == hidden) tree(i, 0);
    }
  }
  for (size_t i = 0; i < recs.size(); ++i) tree(i, 0);
}

// scan -a: the parent of `r` as one more target, unless a target of the
// same basename is already there. A parent that is not there is reported
// (vhd-util's line, with the name as the child records it) and does not
// change the exit status.
void AddParent(const Flags& f, const std::string& child,
               const vhd::ScanRecord& r, std::set<std::string>* names,
               std::vector<std::string>* targets) {
  std::string p =
      f.fast ? base::JoinPath(base::DirName(child), r.parent) : r.parent;
  if (names->count(base::BaseName(p))) return;
  base::FileInfo fi;
  base::Status s = env()->Stat(p, &fi);
  if (!s.ok()) {
    vhd::ScanRecord e;
    e.path = r.parent;
    e.status = s;
    e.error = "failure scanning target";
    PrintRecord(f, e, 0, "");
    return;
  }
  names->insert(base::BaseName(p));
  targets->push_back(p);
}

}  // namespace

int VhdUtilOpenErrno(const std::string& path, const base::Status& s) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -errno;
  // libvhd reads the footer where the size puts it: a directory fails the
  // read, an empty file ends the read at once (EPIPE) and one shorter than
  // a sector leaves it short (EIO).
  if (S_ISDIR(st.st_mode)) return -EISDIR;
  if (S_ISREG(st.st_mode) && st.st_size == 0) return -EPIPE;
  if (S_ISREG(st.st_mode) && st.st_size < 512) return -EIO;
  return s.ToErrno();
}

namespace {

// Parses the options into *f, *filter and *volume; false when the command
// ends here, with *ret its status (usage, or -l refused).
bool ParseScanFlags(int argc, char** argv, Flags* f, const char** filter,
                    int* ret) {
  const char* volume = nullptr;
  int c;
  bool bad = false, help = false;
  while ((c = getopt(argc, argv, "m:fcl:pavMh")) != -1) {
    switch (c) {
      case 'm':
        *filter = optarg;
        break;
      case 'f':
        f->fast = true;
        break;
      case 'c':
        f->nofail = true;
        break;
      case 'l':
        volume = optarg;
        break;
      case 'p':
        f->pretty = true;
        break;
      case 'a':
        f->parents = true;
        break;
      case 'v':
        f->verbose = true;
        break;
      case 'M':
        f->markers = true;
        break;
      case 'h':
        help = true;
        break;
      default:
        bad = true;
        break;
    }
  }
  if (help || bad || (*filter == nullptr && optind == argc)) {
    std::printf(
        "usage: [OPTIONS] FILES\noptions: [-m match filter] [-f fast] [-c "
        "continue on failure] [-l LVM volume] [-p pretty print] [-a scan "
        "parents] [-v verbose] [-h help] [-M show markers]\n");
    *ret = help && !bad ? 0 : -EINVAL;  // vhd-util: -h alone exits 0
    return false;
  }
  if (volume != nullptr) {
    // vhd-util's status when it cannot scan the volume group.
    std::fprintf(stderr, "scan: -l (LVM volume groups) is not supported\n");
    std::fprintf(stderr, "scan failed: %d. Check syslog for details\n",
                 -EINVAL);
    *ret = -EINVAL;
    return false;
  }
  if (f->pretty) f->fast = false;
  return true;
}

// The files the filter's glob matches, then the arguments.
std::vector<std::string> NamedTargets(const Flags& f, const char* filter,
                                      int argc, char** argv) {
  std::vector<std::string> named;
  if (filter != nullptr) {
    glob_t g;
    int flags = GLOB_BRACE | (f.fast ? GLOB_NOSORT : 0);
    int rc = glob(filter, flags, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) named.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  for (int i = optind; i < argc; ++i) named.push_back(argv[i]);
  return named;
}

// vhd-util stats every target before scanning any: one that is not there
// is reported then, and ends the scan unless -c (false, *ret its status).
bool StatTargets(const Flags& f, const std::vector<std::string>& named,
                 std::vector<std::string>* targets, int* ret) {
  for (const std::string& t : named) {
    base::FileInfo fi;
    base::Status s = env()->Stat(t, &fi);
    if (s.ok()) {
      targets->push_back(t);
      continue;
    }
    vhd::ScanRecord e;
    e.path = t;
    e.status = s;
    e.error = "failure scanning target";
    PrintRecord(f, e, 0, "");
    if (!f.nofail) {
      std::fprintf(stderr, "scan failed: %d. Check syslog for details\n",
                   s.ToErrno());
      *ret = s.ToErrno();
      return false;
    }
  }
  return true;
}

// Scans one target as vhd-util reports it; *code the errno to print.
vhd::ScanRecord ScanTarget(const Flags& f, const std::string& target,
                           int* code) {
  vhd::ScanOptions so;
  so.fast = f.fast;
  vhd::ScanRecord r =
      vhd::ScanFile(env(), f.pretty ? Canonical(env(), target) : target, so);
  if (r.status.ok() && f.fast && r.fixed) {
    // vhd-util's fast open reads the footer copy at 0, which a fixed
    // disk does not have.
    r.status = base::Status::InvalidArgument(r.path + ": fixed disk");
    r.error = "opening file";
  }
  *code = r.status.ToErrno();
  if (!r.status.ok() && r.error == "opening file") {
    *code = VhdUtilOpenErrno(r.path, r.status);
  }
  if (r.status.ok() && f.fast && r.has_parent) {
    r.parent = VhdUtilParentName(r.parent);
  }
  return r;
}

}  // namespace

int CmdScan(int argc, char** argv) {
  Flags f;
  const char* filter = nullptr;
  int ret = 0;
  if (!ParseScanFlags(argc, argv, &f, &filter, &ret)) return ret;
  std::vector<std::string> targets;
  if (!StatTargets(f, NamedTargets(f, filter, argc, argv), &targets, &ret)) {
    return ret;
  }
  std::vector<vhd::ScanRecord> gathered;
  std::set<std::string> names;
  for (const std::string& t : targets) names.insert(base::BaseName(t));
  // targets grows while it is walked (-a adds parents): by index.
  for (size_t i = 0; i < targets.size(); ++i) {
    int code = 0;
    vhd::ScanRecord r = ScanTarget(f, targets[i], &code);
    if (f.pretty && r.status.ok()) {
      gathered.push_back(r);
    } else {
      PrintRecord(f, r, 0, "", code);
    }
    if (!r.status.ok()) {
      if (!f.nofail) return code;
      continue;
    }
    if (f.parents && r.has_parent)
      AddParent(f, targets[i], r, &names, &targets);
  }
  if (f.pretty) PrintTrees(f, gathered);
  return 0;
}

}  // namespace vhdutil
