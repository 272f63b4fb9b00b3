// vhdsm-util: the commands of blktap's `vhd-util` (same options, same output
// byte for byte, same exit codes: |negative errno|), plus `write` and
// `export` of our own. Each command takes argv with argv[0] = its name, as
// vhd-util passes it, so getopt's diagnostics read "query: invalid option".
#ifndef VHDSM_VHD_UTIL_COMMANDS_H_
#define VHDSM_VHD_UTIL_COMMANDS_H_

#include <string>

#include "base/env.h"
#include "base/status.h"

namespace vhdutil {

// vhd-util's main(): runs argv[1] with the rest of argv ("--debug" dropped)
// and returns the process exit status (the command's |errno|; 0 with the
// usage for an unknown command). Flushes stdout.
int Main(int argc, char** argv);

// Each returns 0 or a negative errno, as vhd-util's commands do.
int CmdCreate(int argc, char** argv);
int CmdSnapshot(int argc, char** argv);
int CmdQuery(int argc, char** argv);
int CmdRead(int argc, char** argv);
int CmdSet(int argc, char** argv);
int CmdCheck(int argc, char** argv);
int CmdCoalesce(int argc, char** argv);
int CmdResize(int argc, char** argv);
int CmdRevert(int argc, char** argv);
int CmdKey(int argc, char** argv);
int CmdModify(int argc, char** argv);
int CmdRepair(int argc, char** argv);
int CmdScan(int argc, char** argv);
int CmdWrite(int argc, char** argv);
int CmdExport(int argc, char** argv);

// Prints `read -p`'s header dump of `name` (used by read and check).
int PrintHeaders(const std::string& name, bool hex);

// A header's parent name as libvhd decodes it: backslashes become slashes
// and a leading "C:" (or "c:") is dropped ("C:\\a\\p.vhd" -> "/a/p.vhd").
std::string VhdUtilParentName(std::string name);

// vhd-util's ctime-style rendering of a VHD timestamp (local time).
std::string VhdTimeToString(uint32_t vhd_time);

// The errno vhd-util reports when `path` does not open as a VHD (status
// `s` from us): libvhd's for directories and files too short for a footer,
// else ours.
int VhdUtilOpenErrno(const std::string& path, const base::Status& s);

// Resets getopt for a new parse (glibc: optind = 0).
void ResetGetopt();

// A size argument in MB (vhd-util's unit): digits only, small enough that
// the shift to bytes cannot wrap (base::ParseCount). vhd-util's strtoull took
// "16x" as 16 and 2^44 MB wrapped to 0; both are refused here.
bool ParseMb(const char* arg, uint64_t* mb);

inline base::Env* env() { return base::Env::Default(); }

}  // namespace vhdutil

#endif  // VHDSM_VHD_UTIL_COMMANDS_H_
