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
//     config check [PATH]             validate a configuration file
//
// Exit status: 0 on success; 1 with the fault's code and message on stderr.
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plugin/config.h"
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
  std::fprintf(stderr,
               "usage: vhdsm [--socket PATH] [--config PATH] [--json] COMMAND\n"
               "  sr scan DIR | sr gc DIR\n"
               "  vdi create DIR SIZE [--name NAME] | vdi snapshot DIR UUID "
               "[--single]\n"
               "  vdi clone DIR UUID | vdi delete DIR UUID | vdi resize DIR "
               "UUID SIZE\n"
               "  vdi coalesce DIR UUID | config check [PATH]\n");
  return 2;
}

bool ParseSize(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t mult = 1;
  std::string n = s;
  switch (s.back()) {
    case 'K':
    case 'k':
      mult = 1ull << 10;
      n.pop_back();
      break;
    case 'M':
    case 'm':
      mult = 1ull << 20;
      n.pop_back();
      break;
    case 'G':
    case 'g':
      mult = 1ull << 30;
      n.pop_back();
      break;
    case 'T':
    case 't':
      mult = 1ull << 40;
      n.pop_back();
      break;
    default:
      break;
  }
  if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos ||
      n.size() > 15) {
    return false;
  }
  *out = std::stoull(n) * mult;
  return true;
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
      std::fprintf(stderr, "vhdsm: %s\n", req.fault().message.c_str());
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
    std::fprintf(stderr, "vhdsm: fault %d: %s\n", r.fault().code,
                 r.fault().message.c_str());
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
    if (p.empty() || !by.count(p))
      roots.push_back(uuid);
    else
      children[p].push_back(uuid);
  }
  uint64_t total_phys = 0;
  std::function<void(const std::string&, const std::string&, bool, bool)>
      print = [&](const std::string& uuid, const std::string& prefix, bool last,
                  bool root) {
        const Struct& s = *by[uuid];
        uint64_t virt = std::stoull(Str(s, "virtual_size"));
        uint64_t phys = std::stoull(Str(s, "physical_utilisation"));
        total_phys += phys;
        bool hidden = Str(s, "hidden") == "true";
        std::string name = Str(s, "name_label");
        if (name.empty()) name = hidden ? "base copy" : "(unnamed)";
        std::printf("%s%s%-16s %s  virtual %-10s physical %-10s%s%s\n",
                    prefix.c_str(), root ? "" : (last ? "└─ " : "├─ "),
                    name.c_str(), uuid.c_str(), Human(virt).c_str(),
                    Human(phys).c_str(), hidden ? "  hidden" : "",
                    Str(s, "attached") == "true" ? "  attached" : "");
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
  vhd::Status s = vhdsm::Config::Load(path, &c);
  if (s.ok()) {
    std::printf("%s: OK (%zu object stores)\n", path.c_str(), c.stores.size());
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

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> a;
  std::string name;
  bool single = false;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--socket" && i + 1 < argc)
      o.socket = argv[++i];
    else if (s == "--config" && i + 1 < argc)
      o.config = argv[++i];
    else if (s == "--json")
      o.json = true;
    else if (s == "--name" && i + 1 < argc)
      name = argv[++i];
    else if (s == "--single")
      single = true;
    else if (s == "--help" || s == "-h") {
      Usage();
      return 0;
    } else
      a.push_back(s);
  }
  if (a.size() < 2) return Usage();
  const std::string& noun = a[0];
  const std::string& verb = a[1];
  Value r;
  if (noun == "config" && verb == "check") {
    return ConfigCheck(a.size() > 2 ? a[2] : "/etc/vhdsm/vhdsm.conf");
  }
  if (a.size() < 3) return Usage();
  const std::string& dir = a[2];
  if (noun == "sr" && verb == "scan") return SrScan(o, dir);
  if (noun == "sr" && verb == "gc") {
    if (!Call(o, "sr_gc", SrParams(dir), &r)) return 1;
    return PrintResult(o, r, "");
  }
  if (noun != "vdi") return Usage();
  if (verb == "create" && a.size() == 4) {
    uint64_t size = 0;
    if (!ParseSize(a[3], &size)) return Usage();
    Struct p = SrParams(dir);
    p.Set("args", Array{std::to_string(size), name, "", "", "false",
                        "19700101T00:00:00Z", "", "false"});
    if (!Call(o, "vdi_create", p, &r)) return 1;
    return PrintResult(o, r, "created");
  }
  if (a.size() < 4) return Usage();
  Struct p = SrParams(dir);
  p.Set("vdi_uuid", a[3]);
  p.Set("vdi_location", a[3]);
  if (verb == "snapshot" || verb == "clone") {
    if (single) p.Set("driver_params", Struct{{"type", "single"}});
    if (!Call(o, verb == "snapshot" ? "vdi_snapshot" : "vdi_clone", p, &r))
      return 1;
    return PrintResult(o, r, verb == "snapshot" ? "snapshot" : "clone");
  }
  if (verb == "delete") {
    if (!Call(o, "vdi_delete", p, &r)) return 1;
    return PrintResult(o, r, "deleted");
  }
  if (verb == "resize" && a.size() == 5) {
    uint64_t size = 0;
    if (!ParseSize(a[4], &size)) return Usage();
    p.Set("args", Array{std::to_string(size)});
    if (!Call(o, "vdi_resize", p, &r)) return 1;
    return PrintResult(o, r, "resized");
  }
  if (verb == "coalesce") {
    if (!Call(o, "vdi_coalesce", p, &r)) return 1;
    return PrintResult(o, r, "coalesced");
  }
  return Usage();
}
