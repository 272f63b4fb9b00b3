// vhdsm-util's command dispatch, as vhd-util's main():
// every "--debug" argument is dropped (it only raised libvhd's syslog level),
// an unknown or missing command prints the usage and exits 0, and a command's
// negative errno becomes the exit status.
#include <cstdio>
#include <cstring>
#include <vector>

#include "vhd/util/commands.h"

namespace {

struct Command {
  const char* name;
  int (*fn)(int, char**);
};

// In vhd-util's order (its usage line lists them so), then our own.
const Command kCommands[] = {
    {"create", vhdutil::CmdCreate}, {"snapshot", vhdutil::CmdSnapshot},
    {"query", vhdutil::CmdQuery},   {"read", vhdutil::CmdRead},
    {"set", vhdutil::CmdSet},       {"repair", vhdutil::CmdRepair},
    {"resize", vhdutil::CmdResize}, {"coalesce", vhdutil::CmdCoalesce},
    {"modify", vhdutil::CmdModify}, {"scan", vhdutil::CmdScan},
    {"check", vhdutil::CmdCheck},   {"revert", vhdutil::CmdRevert},
    {"key", vhdutil::CmdKey},       {"write", vhdutil::CmdWrite},
    {"export", vhdutil::CmdExport},
};

int Help() {
  std::printf("usage: vhd-util COMMAND [OPTIONS]\n");
  std::printf("COMMAND := { ");
  bool first = true;
  for (const Command& c : kCommands) {
    std::printf(first ? "%s" : " | %s", c.name);
    first = false;
  }
  std::printf(" }\n");
  return 0;
}

}  // namespace

namespace vhdutil {

int Main(int argc, char** argv) {
  if (argc < 2) return Help();
  const Command* cmd = nullptr;
  if (std::strlen(argv[1]) < 25) {
    for (const Command& c : kCommands) {
      if (std::strcmp(c.name, argv[1]) == 0) cmd = &c;
    }
  }
  if (cmd == nullptr) {
    std::fprintf(stderr, "invalid COMMAND %s\n", argv[1]);
    return Help();
  }
  std::vector<char*> args;
  args.push_back(const_cast<char*>(cmd->name));
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--debug") == 0) continue;
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  ResetGetopt();
  int ret = cmd->fn(static_cast<int>(args.size()) - 1, args.data());
  std::fflush(stdout);
  return ret >= 0 ? ret : -ret;
}

}  // namespace vhdutil
