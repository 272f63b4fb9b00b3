// Helpers shared by the test suites: temporary directories, running
// programs (posix_spawn, never a shell), whole-file I/O, random data, and
// where the build's binaries are.
#ifndef VHDSM_TESTS_UTIL_TEST_UTIL_H_
#define VHDSM_TESTS_UTIL_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace testutil {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with `argv`, feeding `input` on stdin.
RunResult Run(const std::vector<std::string>& argv,
              const std::string& input = "");

// Absolute path of a build product, e.g. Built("bin/vhdsm-util"): from
// $VHDSM_BUILD, else the directory two levels above the test binary.
std::string Built(const std::string& rel);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
bool FileExists(const std::string& path);
uint64_t FileSize(const std::string& path);

// Deterministic pseudo-random bytes.
std::string RandomBytes(size_t n, uint64_t seed);

// True if `program` is found in PATH (for skipping when a peer is missing;
// `make deps` installs every peer, so CI never skips).
bool HavePeer(const std::string& program);

}  // namespace testutil

#endif  // VHDSM_TESTS_UTIL_TEST_UTIL_H_
