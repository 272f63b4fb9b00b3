// VHDSR: the SMAPIv1 driver executable xapi runs, a thin host of
// libvhdsm.so. Installed as /opt/xensource/sm/VHDSR it registers SR type
// "vhd".
//
//   VHDSR '<methodCall>...'   (xapi: the request as argv[1])
//   VHDSR < request.xml       (the request on stdin)
//   VHDSR --gc SR_PATH        (the detached GC a call started)
//   VHDSR --task TASK_ID      (the detached worker of an image task)
//
// Exactly one <methodResponse> goes to stdout and nothing else does; the
// exit status is 0 even for faults, as xapi requires. Diagnostics go to
// syslog. Configuration: $VHDSM_CONFIG, else /etc/vhdsm/vhdsm.conf.
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "vhdsm/plugin.h"

namespace {

constexpr size_t kMaxRequest = 8 << 20;

std::string Fault(int code, const std::string& msg) {
  std::string m;
  for (char c : msg) {
    if (c == '<')
      m += "&lt;";
    else if (c == '&')
      m += "&amp;";
    else if (c == '>')
      m += "&gt;";
    else
      m += c;
  }
  return "<?xml version=\"1.0\"?>\n<methodResponse><fault><value><struct>"
         "<member><name>faultCode</name><value><int>" +
         std::to_string(code) +
         "</int></value></member><member><name>faultString</name><value>"
         "<string>" +
         m +
         "</string></value></member></struct></value>"
         "</fault></methodResponse>\n";
}

void Print(const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += n;
  }
}

std::string TaskRequest(const std::string& id) {
  return "<methodCall><methodName>task_resume</methodName><params><param>"
         "<value><struct><member><name>command</name><value>task_resume"
         "</value></member><member><name>task_id</name><value>" +
         id +
         "</value></member></struct></value></param></params></methodCall>";
}

std::string GcRequest(const std::string& sr) {
  std::string esc;
  for (char c : sr) {
    if (c == '<')
      esc += "&lt;";
    else if (c == '&')
      esc += "&amp;";
    else
      esc += c;
  }
  return "<methodCall><methodName>sr_gc</methodName><params><param><value>"
         "<struct><member><name>command</name><value>sr_gc</value></member>"
         "<member><name>args</name><value><array><data/></array></value>"
         "</member><member><name>device_config</name><value><struct><member>"
         "<name>location</name><value>" +
         esc +
         "</value></member></struct>"
         "</value></member></struct></value></param></params></methodCall>";
}

}  // namespace

int main(int argc, char** argv) {
  openlog("VHDSR", LOG_PID, LOG_LOCAL2);
  bool gc = argc == 3 && std::strcmp(argv[1], "--gc") == 0;
  bool task = argc == 3 && std::strcmp(argv[1], "--task") == 0;
  // Per call, xapi starts us afresh: a GC or an image task must outlive this
  // process, so it runs in a detached one; that one works inline.
  setenv("VHDSM_GC", gc || task ? "off" : "spawn", 0);
  std::string request;
  if (gc) {
    request = GcRequest(argv[2]);
  } else if (task) {
    request = TaskRequest(argv[2]);
  } else if (argc == 2) {
    request = argv[1];
  } else if (argc == 1) {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
      request.append(buf, n);
      if (request.size() > kMaxRequest) {
        Print(Fault(143,
                    "Failed to parse the request [opterr=request larger "
                    "than 8 MiB]"));
        return 0;
      }
    }
  } else {
    Print(Fault(143,
                "Failed to parse the request [opterr=expected the "
                "request as the only argument]"));
    return 0;
  }
  if (vhdsm_abi_version() != VHDSM_ABI_VERSION) {
    Print(Fault(202, "General backend error [opterr=libvhdsm ABI mismatch]"));
    return 0;
  }
  char* error = nullptr;
  const char* config = std::getenv("VHDSM_CONFIG");
  vhdsm_plugin* plugin = vhdsm_open(config, &error);
  if (plugin == nullptr) {
    std::string m = error ? error : "cannot open the plugin";
    vhdsm_free(error);
    syslog(LOG_ERR, "%s", m.c_str());
    Print(Fault(202, "General backend error [opterr=" + m + "]"));
    return 0;
  }
  char* response = nullptr;
  size_t len = 0;
  if (vhdsm_handle(plugin, request.data(), request.size(), &response, &len) !=
      0) {
    Print(Fault(202, "General backend error [opterr=out of memory]"));
  } else if (!gc && !task) {
    Print(std::string(response, len));
  }
  vhdsm_free(response);
  vhdsm_close(plugin);
  return 0;
}
