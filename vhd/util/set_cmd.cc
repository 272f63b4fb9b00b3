// vhd-util set -f hidden|marker -v N (the marker: vhd/keyhash.h).
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vhd/inspect.h"
#include "vhd/keyhash.h"
#include "vhd/util/commands.h"

namespace vhdutil {

int CmdSet(int argc, char** argv) {
  const char* name = nullptr;
  const char* field = nullptr;
  long value = 0;
  int err = -EINVAL, c;
  while ((c = getopt(argc, argv, "n:f:v:h")) != -1) {
    switch (c) {
      case 'n':
        name = optarg;
        break;
      case 'f':
        field = optarg;
        break;
      case 'v':
        value = std::strtol(optarg, nullptr, 10);
        err = 0;
        break;
      case 'h':
      default:
        err = -EINVAL;
        goto usage;
    }
  }
  if (name == nullptr || field == nullptr || optind != argc || err) goto usage;
  if (strnlen(field, 25) >= 25) {
    std::printf("invalid field\n");
    goto usage;
  }
  if (std::strcmp(field, "hidden") != 0 && std::strcmp(field, "marker") != 0) {
    std::printf("invalid field %s\n", field);
    goto usage;
  }
  if (value < 0 || value > 255) {
    std::printf("invalid value %ld\n", value);
    goto usage;
  }
  {
    base::Status s;
    if (std::strcmp(field, "hidden") == 0) {
      s = vhd::SetHidden(env(), name, value != 0);
    } else {
      s = vhd::WriteMarker(env(), name, static_cast<uint8_t>(value));
    }
    if (!s.ok()) {
      std::printf("error opening %s: %d\n", name, s.ToErrno());
      return s.ToErrno();
    }
    return 0;
  }
usage:
  std::printf("options: <-n name> <-f field> <-v value> [-h help]\n");
  return -EINVAL;
}

}  // namespace vhdutil
