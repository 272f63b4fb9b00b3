#include "base/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace base {

bool SpawnDetached(const std::string& helper,
                   const std::vector<std::string>& args,
                   const std::string& config) {
  std::string exe = helper;
  if (exe.empty()) {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) return false;
    exe.assign(buf, n);
  }
  std::vector<std::string> owned = args;
  std::vector<char*> argv = {exe.data()};
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string config_var = "VHDSM_CONFIG=" + config;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (config.empty() || std::strncmp(*e, "VHDSM_CONFIG=", 13) != 0) {
      envp.push_back(*e);
    }
  }
  if (!config.empty()) envp.push_back(config_var.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  bool started =
      posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), envp.data()) == 0;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return started;
}

}  // namespace base
