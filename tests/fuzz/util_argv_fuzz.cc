// libFuzzer target: arbitrary argument vectors for vhdsm-util, run
// in-process (vhdutil::Main) on real files in a private temp dir.
//
// The input is the argument vector, one argument per line ('\n'); the first
// is the command. At most 24 arguments of at most 80 bytes are kept. Every
// '/' in an argument becomes '_', and the commands run with the temp dir as
// the working directory, so no name can reach outside it ("." and ".." are
// directories, which every command refuses to open as a disk).
//
// Before each input the dir is emptied and refilled with the same fixtures:
// a dynamic disk with data (p.vhd), its differencing child (c.vhd), a fixed
// disk (f.vhd), a child whose parent is missing (o.vhd), files that are not
// VHDs (junk.vhd: 700 bytes, empty.vhd) and an input file (data). Files may
// not grow past 64 MiB (RLIMIT_FSIZE, SIGXFSZ ignored: writes fail with
// EFBIG), which bounds what one input can create or export.
//
// stdout and stderr go to /dev/null during the call. Nothing here may die on
// a signal, hang or write outside the dir; that is the property under test.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "vhd/util/commands.h"

namespace {

constexpr size_t kMaxArgs = 24;
constexpr size_t kMaxArgLen = 80;
constexpr rlim_t kMaxFileSize = 64u << 20;

std::string g_dir;
std::map<std::string, std::string> g_fixtures;

// Runs vhdutil::Main in g_dir with stdout and stderr silenced.
int RunIn(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char prog[] = "vhdsm-util";
  argv.push_back(prog);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  int null_fd = open("/dev/null", O_WRONLY);
  dup2(null_fd, STDOUT_FILENO);
  dup2(null_fd, STDERR_FILENO);
  close(null_fd);
  int cwd = open(".", O_RDONLY | O_DIRECTORY);
  int rc = -1;
  if (chdir(g_dir.c_str()) == 0) {
    rc = vhdutil::Main(static_cast<int>(argv.size()) - 1, argv.data());
  }
  std::fflush(stdout);
  std::fflush(stderr);
  if (cwd >= 0) {
    if (fchdir(cwd) != 0) std::abort();
    close(cwd);
  }
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  close(saved_out);
  close(saved_err);
  return rc;
}

void EmptyDir() {
  DIR* d = opendir(g_dir.c_str());
  if (d == nullptr) std::abort();
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    unlink((g_dir + "/" + n).c_str());
  }
  closedir(d);
}

void WriteFixture(const std::string& name, const std::string& bytes) {
  std::string p = g_dir + "/" + name;
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = write(fd, bytes.data() + off, bytes.size() - off);
    if (w <= 0) std::abort();
    off += static_cast<size_t>(w);
  }
  close(fd);
}

std::string Slurp(const std::string& name) {
  std::string out;
  FILE* f = std::fopen((g_dir + "/" + name).c_str(), "rb");
  if (f == nullptr) std::abort();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

void Setup() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/vhdsm-util-fuzz-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  g_dir = tmpl;
  std::atexit([] {
    EmptyDir();
    rmdir(g_dir.c_str());
  });
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit rl = {kMaxFileSize, kMaxFileSize};
  setrlimit(RLIMIT_FSIZE, &rl);

  std::string data(16384, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  WriteFixture("data", data);
  WriteFixture("junk.vhd", std::string(700, 'j'));
  WriteFixture("empty.vhd", "");
  const std::vector<std::vector<std::string>> steps = {
      {"create", "-n", "p.vhd", "-s", "8"},
      {"write", "-n", "p.vhd", "-i", "data", "-o", "0"},
      {"write", "-n", "p.vhd", "-i", "data", "-o", "4194304"},
      {"snapshot", "-n", "c.vhd", "-p", "p.vhd"},
      {"write", "-n", "c.vhd", "-i", "data", "-o", "4096"},
      {"create", "-n", "f.vhd", "-s", "2", "-r"},
      {"create", "-n", "q.vhd", "-s", "8"},
      {"snapshot", "-n", "o.vhd", "-p", "q.vhd"},
  };
  for (const auto& s : steps) {
    if (RunIn(s) != 0) std::abort();
  }
  unlink((g_dir + "/q.vhd").c_str());
  for (const char* n :
       {"data", "junk.vhd", "empty.vhd", "p.vhd", "c.vhd", "f.vhd", "o.vhd"}) {
    g_fixtures[n] = Slurp(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_dir.empty()) Setup();
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    char c = static_cast<char>(data[i]);
    if (c == '\n') {
      if (args.size() == kMaxArgs) break;
      args.emplace_back();
      continue;
    }
    if (c == '\0') c = ' ';  // argv strings cannot hold NUL
    if (c == '/') c = '_';
    if (args.back().size() < kMaxArgLen) args.back().push_back(c);
  }
  EmptyDir();
  for (const auto& [name, bytes] : g_fixtures) WriteFixture(name, bytes);
  RunIn(args);
  return 0;
}
