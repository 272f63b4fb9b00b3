// Config: /etc/vhdsm/vhdsm.conf, an INI file read with inih (libinih).
//
//   [daemon]   socket = /run/vhdsm/vhdsmd.sock   tcp_port = 0 (off)
//              threads = 4   state_dir = /var/lib/vhdsm
//              sr_roots = /var/run/sr-mount,/srv  (where callers other
//                than root may have SRs; see sr_location.h)
//              max_connections = 256  request_timeout = 30 (s, 0: none)
//              body_memory = 64M      (per listener; see http_server.h)
//   [gc]       mode = thread|spawn|off           helper = <path>
//   [xapi]     socket = /var/lib/xcp/xapi  (XenAPI callbacks;
//              $VHDSM_XAPI_SOCKET wins)
//   [log]      level = debug|info|warning|error (ApplyLogLevel: less
//              important messages are dropped; every host applies it)
//   [store NAME]  auth_url, auth_version (1|2|3), user, key, region,
//              tenant, ca_bundle,     (object stores for image tasks)
//              allow_insecure = false (true: an http:// auth_url is used,
//              with a warning each time), connect_timeout = 10 and
//              stall_timeout = 60 (seconds; a request that moves no byte
//              for that long fails), retries = 6 (attempts per request)
//   [image]    the defaults of new image tasks (ImageParams):
//              segment_size = 100M (1M..5G), concurrency = 2 (1..32, the
//              tasks' parallel_segments), compression_level = 6 (0..9),
//              format = vhd|tgz, manifest = slo|dlo; and
//              retry_delay_scale = 1 (0.0001..1000: multiplies the
//              uploader's backoff delays; a test and operations knob)
//
// Load() reports the first problem with its line number, and refuses a file
// that holds a store key (`key =`) while group or others have any access to
// it (the problem names the `chmod 600 FILE` to run); without keys any mode
// will do.
#ifndef VHDSM_HOST_CONFIG_H_
#define VHDSM_HOST_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "image/image_params.h"
#include "sm/gc_mode.h"
#include "sm/sr_location.h"

namespace vhdsm {

struct Config {
  std::string path;  // where it was read from, "" for defaults
  std::string socket = "/run/vhdsm/vhdsmd.sock";
  int tcp_port = -1;
  unsigned threads = 4;
  std::string state_dir = "/var/lib/vhdsm";  // task index, inline secrets
  std::vector<std::string> sr_roots = kDefaultSrRoots;
  unsigned max_connections = 256;
  unsigned request_timeout_seconds = 30;
  uint64_t body_memory_bytes = 64ull << 20;
  GcMode gc_mode = GcMode::kThread;
  std::string gc_helper;  // "" : this executable
  std::string log_level = "info";
  std::string xapi_socket = "/var/lib/xcp/xapi";
  std::map<std::string, StoreConfig> stores;
  // [image]: the defaults of new image tasks (ImageParams states them;
  // the section overrides segment_size, parallel_segments (`concurrency`),
  // compression_level, format and manifest).
  ImageParams image;
  // [image] retry_delay_scale: multiplies the uploader's backoff delays
  // (a test and operations knob; 1 keeps swiftclient's policy).
  double retry_delay_scale = 1.0;

  // Every problem found, "line N: message" (empty when valid).
  std::vector<std::string> problems;

  // Parses the file at `path`; a missing file is an error, problems in it
  // are collected in `problems` (Load fails with the first).
  static base::Status Load(const std::string& path, Config* config);
  static base::Status Parse(const std::string& text, Config* config);

  // [log] level as a syslog priority (LOG_DEBUG .. LOG_ERR).
  int LogPriority() const;
  // Applies [log] level to this process: messages less important are
  // dropped, by syslog(3) (setlogmask) and by base::Log. Every host
  // (vhdsmd, vhdsm, VHDSR) does so when it loads its configuration.
  void ApplyLogLevel() const;
};

}  // namespace vhdsm

#endif  // VHDSM_HOST_CONFIG_H_
