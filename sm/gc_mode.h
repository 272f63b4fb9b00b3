// GcMode: how a host runs an SR's GC after the commands that leave work for
// it (sr_scan, vdi_delete, sr_attach; see PluginOptions::kick_gc), as
// [gc] mode and VHDSM_GC name it. The text is parsed once, where it enters
// (the configuration, the environment); everything past that uses the enum.
// Inline: the programs that read the configuration (vhdsm, vhdsmd) link
// host/config.cc without sm/.
#ifndef VHDSM_SM_GC_MODE_H_
#define VHDSM_SM_GC_MODE_H_

#include <string_view>

namespace vhdsm {

enum class GcMode {
  kThread,  // a background thread of this process (vhdsmd)
  kSpawn,   // a detached helper process per SR (VHDSR: exec per call)
  kOff,     // only sr_gc runs it
};

// The text ParseGcMode accepts for `mode`.
inline const char* GcModeName(GcMode mode) {
  switch (mode) {
    case GcMode::kThread:
      return "thread";
    case GcMode::kSpawn:
      return "spawn";
    case GcMode::kOff:
      return "off";
  }
  return "?";
}

// "thread", "spawn" or "off" (exactly); false, `mode` untouched, otherwise.
inline bool ParseGcMode(std::string_view text, GcMode* mode) {
  for (GcMode m : {GcMode::kThread, GcMode::kSpawn, GcMode::kOff}) {
    if (text == GcModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

}  // namespace vhdsm

#endif  // VHDSM_SM_GC_MODE_H_
