#include "host/config.h"

#include <fcntl.h>
#include <ini.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "base/log.h"
#include "base/size.h"

namespace vhdsm {

namespace {

// A configuration is a few KiB; more is not one.
constexpr off_t kMaxConfigBytes = 1 << 20;

bool ParseUnsigned(const char* v, uint64_t max, uint64_t* out) {
  if (*v == '\0') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (errno || *end != '\0' || n > max || v[0] == '-') return false;
  *out = n;
  return true;
}

constexpr char kSrRootsRule[] =
    "a comma-separated list of absolute directories";

// "/a, /b" -> {"/a", "/b"}; false for an empty list or a relative entry.
bool ParseSrRoots(const std::string& v, std::vector<std::string>* out) {
  std::vector<std::string> roots;
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = std::min(v.find(',', at), v.size());
    std::string r = v.substr(at, comma - at);
    r.erase(0, r.find_first_not_of(" \t"));
    r.erase(r.find_last_not_of(" \t") + 1);
    if (r.empty() || r[0] != '/') return false;
    roots.push_back(r);
    at = comma + 1;
  }
  *out = std::move(roots);
  return true;
}

struct Ctx {
  Config* config;
  int line = 0;
};

// Each section's keys: "" when `v` is taken, else why it is not.
using Why = std::string;
constexpr char kUnknownKey[] = "unknown key";

bool AbsolutePath(const std::string& v) { return !v.empty() && v[0] == '/'; }

Why OnDaemon(Config& c, const std::string& n, const std::string& v) {
  uint64_t u = 0;
  if (n == "socket" || n == "state_dir") {
    if (!AbsolutePath(v)) return "must be an absolute path";
    (n == "socket" ? c.socket : c.state_dir) = v;
  } else if (n == "tcp_port") {
    if (!ParseUnsigned(v.c_str(), 65535, &u)) return "not a port number";
    c.tcp_port = u == 0 ? -1 : static_cast<int>(u);
  } else if (n == "threads") {
    if (!ParseUnsigned(v.c_str(), 256, &u) || u == 0) return "1..256";
    c.threads = static_cast<unsigned>(u);
  } else if (n == "sr_roots") {
    if (!ParseSrRoots(v, &c.sr_roots)) return kSrRootsRule;
  } else if (n == "max_connections") {
    if (!ParseUnsigned(v.c_str(), 65536, &u) || u == 0) return "1..65536";
    c.max_connections = static_cast<unsigned>(u);
  } else if (n == "request_timeout") {
    if (!ParseUnsigned(v.c_str(), 3600, &u)) return "0..3600 seconds";
    c.request_timeout_seconds = static_cast<unsigned>(u);
  } else if (n == "body_memory") {
    if (!base::ParseSize(v, &u).ok() || u < (8 << 20) || u > (64ull << 30)) {
      return "between 8M (one whole request) and 64G";
    }
    c.body_memory_bytes = u;
  } else {
    return kUnknownKey;
  }
  return "";
}

Why OnGc(Config& c, const std::string& n, const std::string& v) {
  if (n == "mode") {
    if (!ParseGcMode(v, &c.gc_mode)) return "must be thread, spawn or off";
  } else if (n == "helper") {
    c.gc_helper = v;
  } else {
    return kUnknownKey;
  }
  return "";
}

Why OnXapi(Config& c, const std::string& n, const std::string& v) {
  if (n != "socket") return kUnknownKey;
  if (!AbsolutePath(v)) return "must be an absolute path";
  c.xapi_socket = v;
  return "";
}

Why OnLog(Config& c, const std::string& n, const std::string& v) {
  if (n != "level") return kUnknownKey;
  if (v != "debug" && v != "info" && v != "warning" && v != "error") {
    return "must be debug, info, warning or error";
  }
  c.log_level = v;
  return "";
}

Why OnImage(Config& c, const std::string& n, const std::string& v) {
  uint64_t u = 0;
  ImageParams& im = c.image;
  if (n == "segment_size") {
    if (!base::ParseSize(v, &u).ok() || u < (1 << 20) || u > (5ull << 30)) {
      return "between 1M and 5G";
    }
    im.segment_size = u;
  } else if (n == "concurrency") {
    if (!ParseUnsigned(v.c_str(), 32, &u) || u == 0) return "1..32";
    im.parallel_segments = static_cast<int>(u);
  } else if (n == "compression_level") {
    if (!ParseUnsigned(v.c_str(), 9, &u)) return "0..9";
    im.compression_level = static_cast<int>(u);
  } else if (n == "format") {
    if (v != "vhd" && v != "tgz") return "must be vhd or tgz";
    im.format = v;
  } else if (n == "manifest") {
    if (v != "slo" && v != "dlo") return "must be slo or dlo";
    im.manifest = v;
  } else if (n == "retry_delay_scale") {
    char* end = nullptr;
    double f = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(f >= 0.0001 && f <= 1000)) {
      return "a number between 0.0001 and 1000";
    }
    c.retry_delay_scale = f;
  } else {
    return kUnknownKey;
  }
  return "";
}

// The numbers and switches of a store; its names are OnStore's.
Why OnStoreLimits(StoreConfig& st, const std::string& n, const std::string& v) {
  uint64_t u = 0;
  if (n == "connect_timeout") {
    if (!ParseUnsigned(v.c_str(), 600, &u) || u == 0) return "1..600";
    st.connect_timeout_s = static_cast<unsigned>(u);
  } else if (n == "stall_timeout") {
    if (!ParseUnsigned(v.c_str(), 3600, &u) || u == 0) return "1..3600";
    st.stall_timeout_s = static_cast<unsigned>(u);
  } else if (n == "retries") {
    if (!ParseUnsigned(v.c_str(), 20, &u) || u == 0) return "1..20";
    st.retries = static_cast<unsigned>(u);
  } else if (n == "allow_insecure") {
    if (v != "true" && v != "false") return "must be true or false";
    st.allow_insecure = v == "true";
  } else {
    return kUnknownKey;
  }
  return "";
}

Why OnStore(StoreConfig& st, const std::string& n, const std::string& v) {
  if (n == "auth_url") {
    if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
      return "must be an http:// or https:// URL";
    }
    st.auth_url = v;
  } else if (n == "auth_version") {
    if (v != "1" && v != "1.0" && v != "2" && v != "2.0" && v != "3") {
      return "must be 1, 2 or 3";
    }
    st.auth_version = v.substr(0, 1);
  } else if (n == "user" || n == "key" || n == "tenant" || n == "region" ||
             n == "ca_bundle") {
    std::string StoreConfig::*field = n == "user"     ? &StoreConfig::user
                                      : n == "key"    ? &StoreConfig::key
                                      : n == "tenant" ? &StoreConfig::tenant
                                      : n == "region" ? &StoreConfig::region
                                                      : &StoreConfig::ca_bundle;
    st.*field = v;
  } else {
    return OnStoreLimits(st, n, v);
  }
  return "";
}

Why OnSection(Config& c, const std::string& s, const std::string& n,
              const std::string& v) {
  if (s == "daemon") return OnDaemon(c, n, v);
  if (s == "gc") return OnGc(c, n, v);
  if (s == "xapi") return OnXapi(c, n, v);
  if (s == "log") return OnLog(c, n, v);
  if (s == "image") return OnImage(c, n, v);
  if (s.rfind("store ", 0) == 0 && s.size() > 6) {
    StoreConfig& st = c.stores[s.substr(6)];
    st.name = s.substr(6);
    return OnStore(st, n, v);
  }
  return "unknown section";
}

int OnEntry(void* user, const char* section, const char* name,
            const char* value) {
  Config& c = *static_cast<Ctx*>(user)->config;
  std::string s = section, n = name;
  Why why = OnSection(c, s, n, value);
  // Keep parsing: every problem is reported.
  if (!why.empty()) c.problems.push_back("[" + s + "] " + n + ": " + why);
  return 1;
}

}  // namespace

base::Status Config::Parse(const std::string& text, Config* config) {
  config->problems.clear();
  // inih reports syntax errors by line; entries are validated in OnEntry,
  // which cannot see line numbers, so problems are numbered per line below.
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::string section;
  while (std::getline(in, line)) {
    ++lineno;
    Ctx ctx{config, lineno};
    size_t before = config->problems.size();
    std::string one = line;
    // Feed the current section header with each line so inih sees context.
    std::string chunk =
        (section.empty() ? "" : "[" + section + "]\n") + one + "\n";
    int rc = ini_parse_string(chunk.c_str(), OnEntry, &ctx);
    if (rc > 0) {
      config->problems.push_back("line " + std::to_string(lineno) +
                                 ": syntax error");
    }
    for (size_t i = before; i < config->problems.size(); ++i) {
      if (config->problems[i].rfind("line ", 0) != 0) {
        config->problems[i] =
            "line " + std::to_string(lineno) + ": " + config->problems[i];
      }
    }
    size_t b = one.find_first_not_of(" \t");
    if (b != std::string::npos && one[b] == '[') {
      size_t e = one.find(']', b);
      if (e != std::string::npos) section = one.substr(b + 1, e - b - 1);
    }
  }
  for (const auto& [name, st] : config->stores) {
    if (st.auth_url.empty()) {
      config->problems.push_back("[store " + name + "]: auth_url is required");
    }
  }
  if (!config->problems.empty()) {
    return base::Status::InvalidArgument(config->problems.front());
  }
  return base::Status::OK();
}

int Config::LogPriority() const {
  if (log_level == "debug") return LOG_DEBUG;
  if (log_level == "warning") return LOG_WARNING;
  if (log_level == "error") return LOG_ERR;
  return LOG_INFO;
}

void Config::ApplyLogLevel() const {
  setlogmask(LOG_UPTO(LogPriority()));
  base::LogOptions o;
  o.max_priority = LogPriority();
  base::ConfigureLog(o);
}

base::Status Config::Load(const std::string& path, Config* config) {
  // One descriptor for the mode and the text: what is checked is what is
  // read. O_NONBLOCK: a FIFO put in its place must not hang the open.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return base::Status::NotFound("cannot read configuration " + path);
  struct stat st;
  std::string text;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size <= kMaxConfigBytes;
  char buf[8192];
  ssize_t n = 0;
  while (ok && (n = ::read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
    ok = text.size() <= static_cast<size_t>(kMaxConfigBytes);
  }
  ::close(fd);
  if (!ok || n < 0) {
    return base::Status::InvalidArgument(
        "configuration " + path + " is not a regular file of at most 1 MiB");
  }
  config->path = path;
  base::Status s = Parse(text, config);
  bool keys = false;
  for (const auto& [name, store] : config->stores) keys |= !store.key.empty();
  if (keys && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    config->problems.insert(
        config->problems.begin(),
        std::string("holds object-store keys but its mode is ") + mode +
            " (group or others may read or change it): run `chmod 600 " + path +
            "`");
    return base::Status::InvalidArgument(config->problems.front());
  }
  return s;
}

}  // namespace vhdsm
