// libFuzzer target: the SMAPIv1 dispatcher, through libvhdsm's C ABI
// (vhdsm_open / vhdsm_handle), on a real temporary SR.
//
// Each input starts from a fresh SR holding one VDI with a snapshot (V0, its
// snapshot V1, their hidden base copy), then runs either
//   - raw XML (the input starts with '<'): one request, after replacing the
//     tokens @SR@ (the SR's path), @OUT@ (a directory outside the SR),
//     @V0@ and @V1@ (the VDIs' uuids), so that seeds reach the handlers; or
//   - a program: each op is a command byte and operand bytes from which a
//     well-formed call is built (xmlrpc::WriteMethodCall) with members and
//     args picked among real uuids, uuids that try to leave the SR
//     ("../x", absolute paths), garbage, odd sizes, wrong types, missing
//     members, SRmaster=false, a XenAPI session (whose callbacks fail).
// Invariants, besides "no crash, no sanitizer report, no hang":
//   - every answer is one valid <methodResponse>; a fault carries a code of
//     XE_SR_ERRORCODES (fault_codes.h) and is never an escaped C++
//     exception ("General backend error [opterr=<method>: ...");
//   - afterwards sr_gc succeeds, and the SR holds only <uuid>.vhd files and
//     .vhdsm/ (no temporary or orphaned files), each VHD checks clean;
//   - nothing outside the SR changed (a victim VHD next to it, the
//     directory's listing).
// Network: image tasks would talk to Swift; http(s)_proxy points at a
// closed local port, so every request fails at once, and the retry backoff
// is scaled down ([image] retry_delay_scale).
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "vhd/check.h"
#include "vhd/create.h"
#include "vhd/uuid.h"
#include "vhdsm/plugin.h"
#include "xmlrpc/parser.h"
#include "xmlrpc/writer.h"

namespace {

using xmlrpc::Array;
using xmlrpc::Struct;
using xmlrpc::Value;

struct World {
  std::string root;     // private directory
  std::string sr;       // root/sr
  std::string outside;  // root/outside, with victim.vhd
  std::string victim_bytes;
  vhdsm_plugin* plugin = nullptr;
};

World* g_world = nullptr;

[[noreturn]] void Bug(const std::string& what) {
  std::fprintf(stderr, "plugin_smapi_fuzz: %s\n", what.c_str());
  std::abort();
}

std::string ReadAll(const std::string& path) {
  std::string s;
  base::ReadFileToString(base::Env::Default(), path, &s, 64 << 20);
  return s;
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path);
}

void RemoveTree(const std::string& path) {
  ::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  base::Env::Default()->ListDir(dir, &names);
  std::sort(names.begin(), names.end());
  return names;
}

const std::set<int>& KnownCodes() {
  static const std::set<int> codes = {
      16,  24,  38,  39,  40,     42,     43,     44,     46,    47,
      65,  78,  79,  80,  81,     82,     109,    110,    115,   143,
      144, 153, 200, 202, -32700, -32600, -32601, -32602, -32603};
  return codes;
}

// Sends one request; checks the answer's form. Returns the response.
xmlrpc::Response Handle(const std::string& method, const std::string& req) {
  char* out = nullptr;
  size_t len = 0;
  if (vhdsm_handle(g_world->plugin, req.data(), req.size(), &out, &len) != 0) {
    Bug("vhdsm_handle failed");
  }
  std::string text(out, len);
  vhdsm_free(out);
  static const bool debug = std::getenv("VHDSM_FUZZ_DEBUG") != nullptr;
  if (debug) {
    std::fprintf(stderr, "> %s\n< %s\n", req.substr(0, 600).c_str(),
                 text.substr(0, 300).c_str());
  }
  xmlrpc::Result<xmlrpc::Response> r = xmlrpc::ParseMethodResponse(text);
  if (!r.ok()) Bug("not a methodResponse: " + text.substr(0, 400));
  const xmlrpc::Response& resp = r.value();
  if (!resp.ok()) {
    const xmlrpc::Fault& f = resp.fault();
    if (!KnownCodes().count(f.code)) {
      Bug("unknown fault code " + std::to_string(f.code) + ": " + f.message);
    }
    if (!method.empty() &&
        f.message.rfind("General backend error [opterr=" + method + ": ", 0) ==
            0) {
      Bug("an exception escaped " + method + ": " + f.message);
    }
  }
  return resp;
}

xmlrpc::Response Call(const std::string& method, Struct s) {
  xmlrpc::MethodCall call{method, {Value(std::move(s))}};
  xmlrpc::Result<std::string> req = xmlrpc::WriteMethodCall(call);
  if (!req.ok()) return xmlrpc::Response(req.fault());
  return Handle(method, req.value());
}

Struct Base(const std::string& command) {
  Struct s;
  s.Append("command", command);
  s.Append("args", Array());
  s.Append("device_config", Struct{{"location", g_world->sr}});
  s.Append("sr_uuid", "5e1b7a4e-0000-4000-8000-00000000f022");
  return s;
}

std::string MustVdi(const xmlrpc::Response& r, const char* what) {
  if (!r.ok() || r.value().type() != Value::Type::kStruct) {
    Bug(std::string("prelude ") + what + " failed");
  }
  const Value* u = r.value().as_struct().Find("uuid");
  if (u == nullptr || u->type() != Value::Type::kString) Bug("no uuid");
  return u->as_string();
}

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t Byte() { return i_ < n_ ? d_[i_++] : 0; }
  std::string Bytes(size_t max) {
    size_t n = std::min<size_t>(Byte() % (max + 1), n_ - std::min(i_, n_));
    std::string s(reinterpret_cast<const char*>(d_ + i_), n);
    i_ += n;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

// The commands to pick from: what the plugin lists (system.listMethods,
// read at initialisation), and one it does not know.
std::vector<std::string> g_commands;

struct Program {
  std::vector<std::string> vdis;  // uuids seen
  std::vector<std::string> tasks;

  std::string PickUuid(Reader* in) {
    uint8_t b = in->Byte();
    switch (b % 10) {
      case 0:
        return "../outside/victim";
      case 1:
        return g_world->outside + "/victim";
      case 2:
        return "";
      case 3:
        return vhd::Uuid::Generate().ToString();
      case 4:
        return in->Bytes(40);
      case 5:
        return "../" + (vdis.empty() ? std::string("x") : vdis[0]);
      default:
        return vdis.empty() ? std::string("none") : vdis[b % vdis.size()];
    }
  }

  std::string PickArg(Reader* in) {
    static const char* const kSizes[] = {"0",
                                         "1",
                                         "2097152",
                                         "4194304",
                                         "6291457",
                                         "8388608",
                                         "-1",
                                         "abc",
                                         "99999999999999999999",
                                         "2190433320960",
                                         "2190433320961",
                                         "18446744073709551615",
                                         ""};
    uint8_t b = in->Byte();
    if (b < 160) return kSizes[b % (sizeof(kSizes) / sizeof(kSizes[0]))];
    if (b < 220) return PickUuid(in);
    return in->Bytes(24);
  }

  Struct Image(Reader* in) {
    Struct im;
    uint8_t f = in->Byte();
    static const char* const kUrls[] = {"http://127.0.0.1:1/auth/v1.0",
                                        "file:///etc/passwd", "", "gopher://x",
                                        "http://[::1"};
    im.Append("auth_url", kUrls[f % 5]);
    if (f & 8) im.Append("user", "test:tester");
    if (f & 16) im.Append("key", "fuzz-secret-key");
    if (f & 32) im.Append("store", in->Bytes(8));
    im.Append("container", (f & 64) ? in->Bytes(12) : std::string("c"));
    im.Append("object", (f & 128) ? in->Bytes(12) : std::string("o"));
    static const char* const kSeg[] = {"1",  "1M", "0", "abc", "99999999999M",
                                       "5G", ""};
    uint8_t g = in->Byte();
    im.Append("segment_size", kSeg[g % 7]);
    static const char* const kFormat[] = {"vhd", "tgz", "zip", ""};
    im.Append("format", kFormat[(g >> 3) % 4]);
    im.Append("manifest", (g & 64) ? "dlo" : "slo");
    if (g & 128) im.Append("compression_level", in->Bytes(3));
    return im;
  }

  void Op(Reader* in) {
    const std::string command = g_commands[in->Byte() % g_commands.size()];
    uint8_t flags = in->Byte();
    Struct s;
    s.Append("command", command);
    if (!(flags & 0x80)) {
      Array args;
      int n = in->Byte() % 4;
      for (int i = 0; i < n; ++i) args.push_back(PickArg(in));
      s.Append("args", args);
    } else {
      s.Append("args", Value(static_cast<int32_t>(in->Byte())));  // wrong type
    }
    Struct dc;
    switch ((flags >> 4) & 7) {
      case 0:
        dc.Append("location", "relative/sr");
        break;
      case 1:
        dc.Append("location", g_world->root + "/no-such-sr");
        break;
      case 2:
        break;  // no location
      case 3:
        dc.Append("location", g_world->sr + "/../sr");
        break;
      default:
        dc.Append("location", g_world->sr);
    }
    if (flags & 1) dc.Append("SRmaster", (flags & 2) ? "false" : "true");
    s.Append("device_config", dc);
    s.Append("sr_uuid", "5e1b7a4e-0000-4000-8000-00000000f022");
    if (flags & 4) {
      std::string v = PickUuid(in);
      s.Append("vdi_location", v);
      s.Append("vdi_uuid", (flags & 2) ? PickUuid(in) : v);
    }
    if (flags & 8) {
      // xapi's members: a session makes the plugin call back into XenAPI,
      // which is not there (fault 153 after the operation).
      s.Append("session_ref", "OpaqueRef:fuzz");
      s.Append("host_ref", in->Bytes(16));
    }
    if (command == "vdi_snapshot" || command == "vdi_clone") {
      static const char* const kTypes[] = {"single", "double", "internal", ""};
      s.Append("driver_params", Struct{{"type", kTypes[in->Byte() % 4]}});
    }
    if (command == "vdi_create" && (in->Byte() & 1)) {
      s.Append("vdi_uuid", PickUuid(in));
    }
    if (command == "image_create") s.Append("image", Image(in));
    if (command.rfind("task_", 0) == 0) {
      uint8_t t = in->Byte();
      std::string id = t % 4 == 0      ? std::string("../../etc/passwd")
                       : t % 4 == 1    ? in->Bytes(36)
                       : tasks.empty() ? vhd::Uuid::Generate().ToString()
                                       : tasks[t % tasks.size()];
      s.Append("task_id", id);
    }
    xmlrpc::Response r = Call(command, std::move(s));
    Learn(command, r);
  }

  void Learn(const std::string& command, const xmlrpc::Response& r) {
    if (!r.ok()) return;
    const Value& v = r.value();
    if (v.type() == Value::Type::kStruct) {
      const Value* u = v.as_struct().Find("uuid");
      if (u && u->type() == Value::Type::kString)
        vdis.push_back(u->as_string());
    } else if (v.type() == Value::Type::kString && command == "image_create") {
      tasks.push_back(v.as_string());
    } else if (v.type() == Value::Type::kArray && command == "sr_list") {
      for (const Value& e : v.as_array()) {
        if (e.type() != Value::Type::kStruct) continue;
        const Value* u = e.as_struct().Find("uuid");
        if (u && u->type() == Value::Type::kString)
          vdis.push_back(u->as_string());
      }
    }
    if (vdis.size() > 64) vdis.erase(vdis.begin() + 2, vdis.begin() + 34);
  }
};

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos;
       p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

void CheckSr() {
  xmlrpc::Response r = Call("sr_gc", Base("sr_gc"));
  if (!r.ok()) Bug("sr_gc failed after the program: " + r.fault().message);
  for (const std::string& n : List(g_world->sr)) {
    if (n == ".vhdsm") continue;
    vhd::Uuid u;
    if (n.size() != 40 || n.compare(36, 4, ".vhd") != 0 ||
        !vhd::Uuid::Parse(n.substr(0, 36), &u)) {
      Bug("a file other than <uuid>.vhd is left in the SR after gc: " + n);
    }
    vhd::CheckOptions co;
    co.check_parents = true;
    vhd::CheckReport report;
    base::Status s =
        vhd::CheckVhd(base::Env::Default(), g_world->sr + "/" + n, co, &report);
    if (!s.ok()) Bug("check " + n + ": " + s.ToString());
  }
  if (List(g_world->root) !=
      std::vector<std::string>{"no-xapi", "outside", "sr", "state"}) {
    std::string names;
    for (const std::string& n : List(g_world->root)) names += n + " ";
    Bug("something was created next to the SR: " + names);
  }
  if (List(g_world->outside) != std::vector<std::string>{"victim"} ||
      ReadAll(g_world->outside + "/victim") != g_world->victim_bytes) {
    Bug("the file outside the SR changed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto* w = new World;
  const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string t = std::string(base) + "/vhdsm-smapi-fuzz-XXXXXX";
  if (::mkdtemp(t.data()) == nullptr) Bug("mkdtemp");
  w->root = t;
  w->sr = t + "/sr";
  w->outside = t + "/outside";
  ::mkdir(w->outside.c_str(), 0700);
  ::mkdir((t + "/state").c_str(), 0700);
  ::mkdir((t + "/no-xapi").c_str(), 0700);
  vhd::CreateParams cp;
  cp.size = 2 << 20;
  if (!vhd::CreateVhd(base::Env::Default(), w->outside + "/victim", cp).ok()) {
    Bug("create victim");
  }
  w->victim_bytes = ReadAll(w->outside + "/victim");
  // The plugin's environment: no GC threads or processes, image workers
  // that do nothing (the helper), no XenAPI, no network, fast retries.
  setenv("VHDSM_GC", "off", 1);
  setenv("VHDSM_STATE_DIR", (t + "/state").c_str(), 1);
  setenv("VHDSM_XAPI_SOCKET", (t + "/no-xapi/sock").c_str(), 1);
  for (const char* v :
       {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    setenv(v, "http://127.0.0.1:1", 1);
  }
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  std::string conf = t + "/state/vhdsm.conf";
  base::WriteFileAtomic(base::Env::Default(), conf,
                        "[gc]\nmode = off\nhelper = /bin/true\n"
                        "[image]\nretry_delay_scale = 0.0001\n");
  char* err = nullptr;
  w->plugin = vhdsm_open(conf.c_str(), &err);
  if (w->plugin == nullptr) Bug(std::string("vhdsm_open: ") + (err ? err : ""));
  g_world = w;
  xmlrpc::Response methods =
      Handle("system.listMethods",
             "<methodCall><methodName>system.listMethods</methodName><params/>"
             "</methodCall>");
  if (!methods.ok() || methods.value().type() != Value::Type::kArray) {
    Bug("system.listMethods");
  }
  for (const Value& m : methods.value().as_array()) {
    if (m.type() == Value::Type::kString) g_commands.push_back(m.as_string());
  }
  if (g_commands.size() < 30) Bug("system.listMethods: too few methods");
  g_commands.push_back("no_such_command");
  std::atexit([] {
    vhdsm_close(g_world->plugin);
    RemoveTree(g_world->root);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_world == nullptr) LLVMFuzzerInitialize(nullptr, nullptr);
  if (size > 64 << 10) return 0;
  RemoveTree(g_world->sr);
  RemoveTree(g_world->root + "/state/tasks");
  RemoveTree(g_world->root + "/state/secrets");
  ::mkdir(g_world->sr.c_str(), 0700);

  Program p;
  if (Call("sr_create", Base("sr_create")).ok() == false) Bug("sr_create");
  Struct c = Base("vdi_create");
  c.Set("args", Array{"4194304", "fuzz"});
  std::string v0 = MustVdi(Call("vdi_create", c), "vdi_create");
  Struct snap = Base("vdi_snapshot");
  snap.Append("vdi_location", v0);
  snap.Append("vdi_uuid", v0);
  std::string v1 = MustVdi(Call("vdi_snapshot", snap), "vdi_snapshot");
  p.vdis = {v0, v1};

  Reader in(data, size);
  if (size > 0 && data[0] == '<') {
    std::string req(reinterpret_cast<const char*>(data), size);
    req = Replace(req, "@SR@", g_world->sr);
    req = Replace(req, "@OUT@", g_world->outside);
    req = Replace(req, "@V0@", v0);
    req = Replace(req, "@V1@", v1);
    // The method name, for the escaped-exception check.
    std::string method;
    size_t a = req.find("<methodName>"), b = req.find("</methodName>");
    if (a != std::string::npos && b != std::string::npos && b > a + 12) {
      method = req.substr(a + 12, b - a - 12);
    }
    Handle(method, req);
  } else {
    for (int ops = 0; ops < 12 && !in.empty(); ++ops) p.Op(&in);
  }
  CheckSr();
  return 0;
}
