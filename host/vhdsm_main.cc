// vhdsm: the operator's command line, in-process (through libvhdsm.so) or,
// with --socket, through a running vhdsmd.
//
//   vhdsm [--socket PATH] [--config PATH] [--json] COMMAND ...
//     sr scan DIR                     the VDI chains as trees
//     sr gc DIR                       garbage-collect and coalesce now
//     vdi create DIR SIZE [--name N]  SIZE in bytes, or with K/M/G/T
//     vdi snapshot DIR UUID [--single]
//     vdi clone DIR UUID
//     vdi delete DIR UUID
//     vdi resize DIR UUID SIZE
//     vdi coalesce DIR UUID
//     image create DIR UUID --container C --object O
//           (--store NAME | --auth-url URL --user U --key-file F)
//           [--auth-version 1|2|3] [--tenant T] [--region R] [--api-key]
//           [--format vhd|tgz] [--manifest slo|dlo] [--segment-size S]
//           [--level N] [--no-follow]
//                                     start an image task and follow it with
//                                     a progress bar (phase, percent, bytes,
//                                     rate, ETA); exit 0 when it is done.
//                                     The key: --key-file or $VHDSM_KEY.
//     task status ID | task list | task cancel ID | task resume ID
//     config check [PATH]             validate a configuration file
//
// Exit status: 0 on success; 1 with the fault's code and message on stderr.
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/harden.h"
#include "base/sanitize.h"
#include "base/size.h"
#include "host/config.h"
#include "vhdsm/plugin.h"
#include "xmlrpc/http_client.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace {

using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

struct Options {
  std::string socket;
  std::string config;
  bool json = false;
};

int Usage() {
  std::fprintf(
      stderr,
      "usage: vhdsm [--socket PATH] [--config PATH] [--json] COMMAND\n"
      "  sr scan DIR | sr gc DIR\n"
      "  vdi create DIR SIZE [--name NAME] | vdi snapshot DIR UUID "
      "[--single]\n"
      "  vdi clone DIR UUID | vdi delete DIR UUID | vdi resize DIR UUID SIZE\n"
      "  vdi coalesce DIR UUID | config check [PATH]\n"
      "  image create DIR UUID --container C --object O (--store NAME |\n"
      "      --auth-url URL --user U --key-file F [--allow-insecure])\n"
      "      [--format vhd|tgz]"
      "      [--manifest slo|dlo] [--segment-size S] [--level N] "
      "[--no-follow]\n"
      "  task status ID | task list | task cancel ID | task resume ID\n");
  return 2;
}

// A size argument; on a bad one, says why (usage errors exit 2).
bool ParseSize(const std::string& s, uint64_t* out) {
  base::Status st = base::ParseSize(s, out);
  if (!st.ok()) std::fprintf(stderr, "vhdsm: %s\n", st.message().c_str());
  return st.ok();
}

std::string Human(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// Sends one SMAPIv1-style call (one struct param); returns the result or
// prints the fault and returns false.
bool Call(const Options& o, const std::string& method, Struct params,
          Value* result) {
  params.Set("command", method);
  if (!params.Find("args")) params.Set("args", Array());
  xmlrpc::Response r = xmlrpc::Fault{0, ""};
  if (!o.socket.empty()) {
    xmlrpc::ClientOptions co;
    co.unix_socket_path = o.socket;
    xmlrpc::Client client(co);
    r = client.Call(method, {Value(params)});
  } else {
    xmlrpc::Result<std::string> req =
        xmlrpc::WriteMethodCall(xmlrpc::MethodCall{method, {Value(params)}});
    if (!req.ok()) {
      std::fprintf(stderr, "vhdsm: %s\n",
                   base::SanitizeText(req.fault().message).c_str());
      return false;
    }
    setenv("VHDSM_GC", "off", 0);
    char* err = nullptr;
    vhdsm_plugin* p =
        vhdsm_open(o.config.empty() ? nullptr : o.config.c_str(), &err);
    if (p == nullptr) {
      std::fprintf(stderr, "vhdsm: %s\n", err ? err : "cannot open the plugin");
      vhdsm_free(err);
      return false;
    }
    char* resp = nullptr;
    size_t len = 0;
    int rc =
        vhdsm_handle(p, req.value().data(), req.value().size(), &resp, &len);
    std::string text = rc == 0 ? std::string(resp, len) : "";
    vhdsm_free(resp);
    vhdsm_close(p);
    xmlrpc::Result<xmlrpc::Response> parsed = xmlrpc::ParseMethodResponse(text);
    r = parsed.ok() ? parsed.value() : xmlrpc::Response(parsed.fault());
  }
  if (!r.ok()) {
    if (o.json) {
      nlohmann::json j = {
          {"error",
           {{"code", r.fault().code}, {"message", r.fault().message}}}};
      std::printf("%s\n", j.dump().c_str());
    }
    // Faults quote names and servers: nothing that drives a terminal.
    std::fprintf(stderr, "vhdsm: fault %d: %s\n", r.fault().code,
                 base::SanitizeText(r.fault().message).c_str());
    return false;
  }
  *result = r.value();
  return true;
}

Struct SrParams(const std::string& dir) {
  Struct dc;
  dc.Append("location", dir);
  Struct s;
  s.Append("device_config", dc);
  return s;
}

nlohmann::json ToJson(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNil:
      return nullptr;
    case Value::Type::kBoolean:
      return v.as_bool();
    case Value::Type::kInt:
      return v.as_int();
    case Value::Type::kDouble:
      return v.as_double();
    case Value::Type::kString:
      return v.as_string();
    case Value::Type::kArray: {
      nlohmann::json a = nlohmann::json::array();
      for (const Value& e : v.as_array()) a.push_back(ToJson(e));
      return a;
    }
    case Value::Type::kStruct: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& m : v.as_struct()) o[m.name] = ToJson(m.value);
      return o;
    }
    default:
      return v.DebugString();
  }
}

std::string Str(const Struct& s, const char* k) {
  const Value* v = s.Find(k);
  return v && v->type() == Value::Type::kString ? v->as_string() : "";
}

// A count in a reply: the daemon's (or a peer posing as it) text is not
// trusted to be one; 0 when it is not.
uint64_t Num(const Struct& s, const char* k) {
  uint64_t v = 0;
  return base::ParseCount(Str(s, k), UINT64_MAX, &v).ok() ? v : 0;
}

int SrScan(const Options& o, const std::string& dir) {
  Value list;
  if (!Call(o, "sr_list", SrParams(dir), &list)) return 1;
  if (o.json) {
    std::printf("%s\n", ToJson(list).dump(2).c_str());
    return 0;
  }
  std::map<std::string, const Struct*> by;
  std::map<std::string, std::vector<std::string>> children;
  for (const Value& e : list.as_array())
    by[Str(e.as_struct(), "uuid")] = &e.as_struct();
  std::vector<std::string> roots;
  for (const auto& [uuid, s] : by) {
    std::string p = Str(*s, "parent");
    // A broken VDI is listed on its own: its parent link is not trusted (it
    // may even be a loop).
    if (p.empty() || !by.count(p) || !Str(*s, "broken").empty())
      roots.push_back(uuid);
    else
      children[p].push_back(uuid);
  }
  uint64_t total_phys = 0;
  std::function<void(const std::string&, const std::string&, bool, bool)>
      print = [&](const std::string& uuid, const std::string& prefix, bool last,
                  bool root) {
        const Struct& s = *by[uuid];
        uint64_t virt = Num(s, "virtual_size");
        uint64_t phys = Num(s, "physical_utilisation");
        total_phys += phys;
        bool hidden = Str(s, "hidden") == "true";
        std::string name = Str(s, "name_label");
        if (name.empty()) name = hidden ? "base copy" : "(unnamed)";
        std::printf("%s%s%-16s %s  virtual %-10s physical %-10s%s%s\n",
                    prefix.c_str(), root ? "" : (last ? "└─ " : "├─ "),
                    name.c_str(), uuid.c_str(), Human(virt).c_str(),
                    Human(phys).c_str(), hidden ? "  hidden" : "",
                    Str(s, "attached") == "true" ? "  attached" : "");
        if (!Str(s, "broken").empty()) {
          std::printf("%s   BROKEN (never merged or imaged): %s\n",
                      prefix.c_str(), Str(s, "broken").c_str());
        }
        std::string next = prefix + (root ? "" : (last ? "   " : "│  "));
        const auto& kids = children[uuid];
        for (size_t i = 0; i < kids.size(); ++i) {
          print(kids[i], next, i + 1 == kids.size(), false);
        }
      };
  for (const std::string& r : roots) {
    uint64_t before = total_phys;
    print(r, "", true, true);
    std::printf("  chain physical size: %s\n\n",
                Human(total_phys - before).c_str());
  }
  std::printf("%zu VDIs, %s in all\n", by.size(), Human(total_phys).c_str());
  return 0;
}

int PrintResult(const Options& o, const Value& v, const char* what) {
  if (o.json) {
    std::printf("%s\n", ToJson(v).dump().c_str());
  } else if (v.type() == Value::Type::kStruct) {
    std::printf("%s %s\n", what, Str(v.as_struct(), "uuid").c_str());
  }
  return 0;
}

int ConfigCheck(const std::string& path) {
  vhdsm::Config c;
  base::Status s = vhdsm::Config::Load(path, &c);
  if (s.ok()) {
    std::string roots;
    for (const std::string& r : c.sr_roots)
      roots += (roots.empty() ? "" : ",") + r;
    std::printf("%s: OK (%zu object stores; sr_roots %s)\n", path.c_str(),
                c.stores.size(), roots.c_str());
    return 0;
  }
  if (c.problems.empty()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.message().c_str());
  }
  for (const std::string& p : c.problems) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), p.c_str());
  }
  return 1;
}

// Prints a task's status; `bar`: as a one-line progress bar (a terminal).
void ShowTask(const Struct& t, bool bar) {
  auto num = [&](const char* k) {
    std::string v = Str(t, k);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    bool ok = !v.empty() && *end == '\0' && std::isfinite(d) && d >= 0;
    return ok ? d : -1.0;
  };
  std::string state = Str(t, "state");
  double progress = num("progress");
  double done = num("phase_bytes_done"), total = num("phase_bytes_total");
  double rate = num("rate_bytes_per_s"), eta = num("eta_s");
  double frac = state == "uploading" && total > 0 ? done / total : 0;
  // Overall percent: the phase's start plus its share of the last 50.
  double pct = state == "uploading" ? 50 + 50 * frac : progress;
  std::string bytes = total > 0 ? Human(static_cast<uint64_t>(done)) + "/" +
                                      Human(static_cast<uint64_t>(total))
                                : std::string("-");
  std::string tail =
      rate > 0 ? Human(static_cast<uint64_t>(rate)) + "/s" : std::string();
  if (eta >= 0 && state == "uploading") {
    tail += " ETA " + std::to_string(static_cast<int>(eta)) + "s";
  }
  char line[256];
  if (bar) {
    int width = 30;
    int fill = static_cast<int>(pct / 100 * width);
    std::string b(fill, '#');
    b += std::string(width - fill, '.');
    std::snprintf(line, sizeof(line), "\r[%s] %5.1f%% %-9s %s %s   ", b.c_str(),
                  pct, state.c_str(), bytes.c_str(), tail.c_str());
  } else {
    // The count of segments is known once the compressed size is (-1 until).
    std::string of = Str(t, "segments_total");
    if (of.empty() || of[0] == '-') of = "?";
    std::snprintf(line, sizeof(line), "%5.1f%% %s %s %s segments %s/%s\n", pct,
                  state.c_str(), bytes.c_str(), tail.c_str(),
                  Str(t, "segments_done").c_str(), of.c_str());
  }
  std::fputs(line, stdout);
  std::fflush(stdout);
}

bool GetTask(const Options& o, const std::string& id, Value* r) {
  Struct p;
  p.Set("task_id", id);
  return Call(o, "task_status", p, r);
}

// Follows a task until it ends; 0 when it is done.
int Follow(const Options& o, const std::string& id) {
  bool tty = ::isatty(STDOUT_FILENO) && !o.json;
  std::string last;
  for (;;) {
    Value r;
    if (!GetTask(o, id, &r)) return 1;
    const Struct& t = r.as_struct();
    std::string state = Str(t, "state");
    std::string key = state + Str(t, "phase_bytes_done");
    if (!o.json && (tty || key != last)) ShowTask(t, tty);
    last = key;
    if (state == "done" || state == "failed" || state == "cancelled") {
      if (tty) std::printf("\n");
      if (o.json) std::printf("%s\n", ToJson(r).dump().c_str());
      if (state != "done") {
        std::fprintf(stderr, "vhdsm: task %s %s: %s %s\n", id.c_str(),
                     state.c_str(),
                     base::SanitizeText(Str(t, "error_code")).c_str(),
                     base::SanitizeText(Str(t, "error_message")).c_str());
        return 1;
      }
      if (!o.json) {
        std::printf("image %s/%s: %s bytes, md5 %s\n",
                    Str(t, "container").c_str(), Str(t, "object").c_str(),
                    Str(t, "object_bytes").c_str(),
                    Str(t, "object_md5").c_str());
      }
      return 0;
    }
    ::usleep(tty ? 200000 : 500000);
  }
}

// The store's key for image create: from --key-file or $VHDSM_KEY, never
// the command line (ps shows it); "" when neither is given. False, with a
// message, when the key file cannot be read or the process not protected.
bool ReadKey(const std::map<std::string, std::string>& opts, std::string* key) {
  auto kf = opts.find("key-file");
  const char* env = std::getenv("VHDSM_KEY");
  if (kf == opts.end() && env == nullptr) return true;
  if (base::Status s = base::ProtectCredentials(); !s.ok()) {
    std::fprintf(stderr, "vhdsm: %s\n", s.message().c_str());
    return false;
  }
  if (kf == opts.end()) {
    *key = env;
    return true;
  }
  FILE* f = std::fopen(kf->second.c_str(), "r");
  if (f == nullptr) {
    std::fprintf(stderr, "vhdsm: cannot read %s\n", kf->second.c_str());
    return false;
  }
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  key->assign(buf, n);
  while (!key->empty() && (key->back() == '\n' || key->back() == '\r')) {
    key->pop_back();
  }
  return true;
}

int ImageCreate(const Options& o, const std::string& dir,
                const std::string& vdi,
                const std::map<std::string, std::string>& opts, bool follow) {
  Struct im;
  auto put = [&](const char* opt, const char* member) {
    auto it = opts.find(opt);
    if (it != opts.end()) im.Set(member, it->second);
  };
  put("container", "container");
  put("object", "object");
  put("store", "store");
  put("auth-url", "auth_url");
  put("user", "user");
  put("auth-version", "auth_version");
  put("tenant", "tenant");
  put("region", "region");
  put("format", "format");
  put("manifest", "manifest");
  put("segment-size", "segment_size");
  put("level", "compression_level");
  put("api-key", "api_key");
  put("allow-insecure", "allow_insecure");
  std::string key;
  if (!ReadKey(opts, &key)) return 1;
  if (!key.empty()) im.Set("key", key);
  Struct p = SrParams(dir);
  p.Set("vdi_uuid", vdi);
  p.Set("vdi_location", vdi);
  p.Set("image", im);
  Value r;
  if (!Call(o, "image_create", p, &r)) return 1;
  std::string id = r.as_string();
  if (!follow) {
    if (o.json) {
      std::printf("%s\n", nlohmann::json{{"task_id", id}}.dump().c_str());
    } else {
      std::printf("task %s\n", id.c_str());
    }
    return 0;
  }
  if (!o.json) std::printf("task %s\n", id.c_str());
  return Follow(o, id);
}

int TaskCommand(const Options& o, const std::string& verb,
                const std::string& id) {
  Value r;
  if (verb == "list") {
    if (!Call(o, "task_list", Struct(), &r)) return 1;
    if (o.json) {
      std::printf("%s\n", ToJson(r).dump().c_str());
      return 0;
    }
    for (const Value& v : r.as_array()) {
      Value t;
      if (GetTask(o, v.as_string(), &t)) {
        std::printf("%s %-10s %s\n", v.as_string().c_str(),
                    Str(t.as_struct(), "state").c_str(),
                    Str(t.as_struct(), "object").c_str());
      }
    }
    return 0;
  }
  if (id.empty()) return Usage();
  Struct p;
  p.Set("task_id", id);
  if (verb == "status") {
    if (!GetTask(o, id, &r)) return 1;
    if (o.json) {
      std::printf("%s\n", ToJson(r).dump(2).c_str());
    } else {
      for (const auto& m : r.as_struct()) {
        std::printf("%-20s %s\n", m.name.c_str(),
                    m.value.type() == Value::Type::kString
                        ? m.value.as_string().c_str()
                        : m.value.DebugString().c_str());
      }
    }
    return 0;
  }
  if (verb == "cancel") {
    if (!Call(o, "task_cancel", p, &r)) return 1;
    return PrintResult(o, r, "");
  }
  if (verb == "resume") {
    if (!Call(o, "task_resume", p, &r)) return 1;
    return o.socket.empty() ? 0 : Follow(o, id);
  }
  return Usage();
}

// The command line, parsed.
struct CommandLine {
  Options o;
  std::vector<std::string> words;            // noun, verb, operands
  std::string name;                          // vdi create --name
  bool single = false;                       // vdi snapshot/clone --single
  bool follow = true;                        // image create, unless --no-follow
  std::map<std::string, std::string> image;  // image create's options
  std::string task;  // --task ID: the detached worker of an image task
};

// image create's options that take a value (--container C ...).
bool IsImageOption(const std::string& name) {
  static const char* const kImageOpts[] = {
      "container", "object",       "store",  "auth-url", "user",
      "key-file",  "auth-version", "tenant", "region",   "format",
      "manifest",  "segment-size", "level"};
  for (const char* k : kImageOpts) {
    if (name == k) return true;
  }
  return false;
}

// Fills `c`; nullopt to go on, else the exit status (--help). Stops at
// --run-task ID (or its old spelling --task): what follows is the worker's.
std::optional<int> ParseCommandLine(int argc, char** argv, CommandLine* c) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    bool has_value = i + 1 < argc;
    if (s.rfind("--", 0) == 0 && IsImageOption(s.substr(2)) && has_value) {
      c->image[s.substr(2)] = argv[++i];
    } else if (s == "--socket" && has_value) {
      c->o.socket = argv[++i];
    } else if (s == "--config" && has_value) {
      c->o.config = argv[++i];
    } else if (s == "--json") {
      c->o.json = true;
    } else if (s == "--name" && has_value) {
      c->name = argv[++i];
    } else if (s == "--single") {
      c->single = true;
    } else if (s == "--api-key") {
      c->image["api-key"] = "true";
    } else if (s == "--allow-insecure") {
      c->image["allow-insecure"] = "true";
    } else if (s == "--no-follow") {
      c->follow = false;
    } else if ((s == "--run-task" || s == "--task") && has_value) {
      c->task = argv[++i];
      return std::nullopt;
    } else if (s == "--help" || s == "-h") {
      Usage();
      return 0;
    } else {
      c->words.push_back(s);
    }
  }
  return std::nullopt;
}

// The detached worker of an image task started in-process: resumes it here.
int RunTaskWorker(const Options& o, const std::string& id) {
  // The worker runs the task through the library, in this process: no
  // request on any wire, not even an in-process one.
  setenv("VHDSM_GC", "off", 1);
  char* err = nullptr;
  vhdsm_plugin* p =
      vhdsm_open(o.config.empty() ? nullptr : o.config.c_str(), &err);
  int rc = p != nullptr && vhdsm_run_task(p, id.c_str(), &err) == 0 ? 0 : 1;
  if (rc != 0) {
    std::fprintf(stderr, "vhdsm: image task %s: %s\n", id.c_str(),
                 base::SanitizeText(err ? err : "cannot run").c_str());
  }
  vhdsm_free(err);
  if (p != nullptr) vhdsm_close(p);
  return rc;
}

// vdi VERB DIR ...
int VdiCommand(const CommandLine& c) {
  const Options& o = c.o;
  const std::vector<std::string>& a = c.words;
  const std::string& verb = a[1];
  const std::string& dir = a[2];
  Value r;
  if (verb == "create" && a.size() == 4) {
    uint64_t size = 0;
    if (!ParseSize(a[3], &size)) return Usage();
    Struct p = SrParams(dir);
    p.Set("args", Array{std::to_string(size), c.name, "", "", "false",
                        "19700101T00:00:00Z", "", "false"});
    if (!Call(o, "vdi_create", p, &r)) return 1;
    return PrintResult(o, r, "created");
  }
  if (a.size() < 4) return Usage();
  Struct p = SrParams(dir);
  p.Set("vdi_uuid", a[3]);
  p.Set("vdi_location", a[3]);
  if (verb == "snapshot" || verb == "clone") {
    if (c.single) p.Set("driver_params", Struct{{"type", "single"}});
    if (!Call(o, verb == "snapshot" ? "vdi_snapshot" : "vdi_clone", p, &r))
      return 1;
    return PrintResult(o, r, verb == "snapshot" ? "snapshot" : "clone");
  }
  if (verb == "resize" && a.size() == 5) {
    uint64_t size = 0;
    if (!ParseSize(a[4], &size)) return Usage();
    p.Set("args", Array{std::to_string(size)});
    if (!Call(o, "vdi_resize", p, &r)) return 1;
    return PrintResult(o, r, "resized");
  }
  if (verb == "delete") {
    if (!Call(o, "vdi_delete", p, &r)) return 1;
    return PrintResult(o, r, "deleted");
  }
  if (verb == "coalesce") {
    if (!Call(o, "vdi_coalesce", p, &r)) return 1;
    return PrintResult(o, r, "coalesced");
  }
  return Usage();
}

int Main(int argc, char** argv) {
  CommandLine c;
  if (std::optional<int> rc = ParseCommandLine(argc, argv, &c)) return *rc;
  if (!c.task.empty()) return RunTaskWorker(c.o, c.task);
  const std::vector<std::string>& a = c.words;
  if (a.size() < 2) return Usage();
  const std::string& noun = a[0];
  const std::string& verb = a[1];
  if (noun == "config" && verb == "check") {
    return ConfigCheck(a.size() > 2 ? a[2] : "/etc/vhdsm/vhdsm.conf");
  }
  if (noun == "task") return TaskCommand(c.o, verb, a.size() > 2 ? a[2] : "");
  if (a.size() < 3) return Usage();
  const std::string& dir = a[2];
  if (noun == "sr" && verb == "scan") return SrScan(c.o, dir);
  if (noun == "sr" && verb == "gc") {
    Value r;
    if (!Call(c.o, "sr_gc", SrParams(dir), &r)) return 1;
    return PrintResult(c.o, r, "");
  }
  if (noun == "image" && verb == "create" && a.size() == 4) {
    return ImageCreate(c.o, dir, a[3], c.image, c.follow);
  }
  if (noun == "vdi") return VdiCommand(c);
  return Usage();
}

}  // namespace

// A reply of an unexpected shape (a struct where an array belongs, from a
// daemon of another version or a peer posing as one) ends the command with
// a message, not std::terminate.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vhdsm: unexpected reply: %s\n", e.what());
    return 1;
  }
}
