// vhd-util scan [-m GLOB] [-f] [-c] [-p] [-a] [-v] [-M] [FILES]: one line per
// image, "vhd=NAME capacity=BYTES size=BYTES hidden=0|1 parent=NAME|none",
// or "vhd=PATH scan-error=ERR error-message='WHAT'"; -p prints the chains as
// trees (hidden roots first, visible children before hidden ones). LVM
// volume groups (-l) are not supported here.
#include <getopt.h>
#include <glob.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
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
  return f.verbose ? path : vhd::BaseName(path);
}

void PrintRecord(const Flags& f, const vhd::ScanRecord& r, int tab,
                 const char* pmsg) {
  std::string pad(tab, ' ');
  if (!r.status.ok()) {
    std::printf("%svhd=%s scan-error=%d error-message='%s'\n", pad.c_str(),
                r.path.c_str(), r.status.ToErrno(), r.error.c_str());
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

std::string Canonical(const std::string& p) {
  std::error_code ec;
  std::string c = std::filesystem::canonical(p, ec).string();
  return ec ? p : c;
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

}  // namespace

int CmdScan(int argc, char** argv) {
  Flags f;
  const char* filter = nullptr;
  const char* volume = nullptr;
  int c;
  bool bad = false;
  while ((c = getopt(argc, argv, "m:fcl:pavMh")) != -1) {
    switch (c) {
      case 'm':
        filter = optarg;
        break;
      case 'f':
        f.fast = true;
        break;
      case 'c':
        f.nofail = true;
        break;
      case 'l':
        volume = optarg;
        break;
      case 'p':
        f.pretty = true;
        break;
      case 'a':
        f.parents = true;
        break;
      case 'v':
        f.verbose = true;
        break;
      case 'M':
        f.markers = true;
        break;
      default:
        bad = true;
        break;
    }
  }
  if (bad || (filter == nullptr && optind == argc)) {
    std::printf(
        "usage: [OPTIONS] FILES\noptions: [-m match filter] [-f fast] [-c "
        "continue on failure] [-l LVM volume] [-p pretty print] [-a scan "
        "parents] [-v verbose] [-h help] [-M show markers]\n");
    return -EINVAL;
  }
  if (volume != nullptr) {
    std::fprintf(stderr, "scan: -l (LVM volume groups) is not supported\n");
    return -EOPNOTSUPP;
  }
  if (f.pretty) f.fast = false;

  std::vector<std::string> targets;
  if (filter != nullptr) {
    glob_t g;
    int flags = GLOB_BRACE | (f.fast ? GLOB_NOSORT : 0);
    int rc = glob(filter, flags, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) targets.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  for (int i = optind; i < argc; ++i) targets.push_back(argv[i]);

  vhd::ScanOptions so;
  so.fast = f.fast;
  std::vector<vhd::ScanRecord> gathered;
  std::set<std::string> names;
  for (const std::string& t : targets) names.insert(vhd::BaseName(t));
  int err = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    vhd::ScanRecord r =
        vhd::ScanFile(env(), f.pretty ? Canonical(targets[i]) : targets[i], so);
    if (f.pretty && r.status.ok()) {
      gathered.push_back(r);
    } else {
      PrintRecord(f, r, 0, "");
    }
    if (!r.status.ok()) {
      if (!f.nofail) return r.status.ToErrno();
      continue;
    }
    if (f.parents && r.has_parent) {
      std::string p =
          f.fast ? vhd::JoinPath(vhd::DirName(targets[i]), r.parent) : r.parent;
      vhd::FileInfo fi;
      if (names.insert(vhd::BaseName(p)).second && env()->Stat(p, &fi).ok()) {
        targets.push_back(p);
      }
    }
  }
  if (f.pretty) PrintTrees(f, gathered);
  return err;
}

}  // namespace vhdutil
