// VHDSR: the SMAPIv1 driver executable xapi runs, a thin host of
// libvhdsm.so. Installed as /opt/xensource/sm/VHDSR it registers SR type
// "vhd".
//
//   VHDSR '<methodCall>...'   (xapi: the request as argv[1])
//   VHDSR < request.xml       (the request on stdin)
//   VHDSR --gc SR_PATH        (the detached GC a call started)
//   VHDSR --run-task TASK_ID  (the detached worker of an image task; the
//                             old spelling --task is the same)
//
// Exactly one <methodResponse> goes to stdout and nothing else does; the
// exit status is 0 even for faults, as xapi requires. A task worker writes
// nothing to stdout: it runs the task through the library (vhdsm_run_task)
// and exits 0 when the run ended (its record says how), 1 when it could
// not run (the reason goes to syslog). Diagnostics go to
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

// The task worker: no request, no response; the service itself.
int RunTask(const char* id) {
  if (vhdsm_abi_version() != VHDSM_ABI_VERSION) {
    syslog(LOG_ERR, "image task %s: libvhdsm ABI mismatch", id);
    return 1;
  }
  char* error = nullptr;
  vhdsm_plugin* plugin = vhdsm_open(std::getenv("VHDSM_CONFIG"), &error);
  int rc = plugin != nullptr && vhdsm_run_task(plugin, id, &error) == 0 ? 0 : 1;
  if (rc != 0) {
    syslog(LOG_ERR, "image task %s: %s", id, error ? error : "cannot run");
  }
  vhdsm_free(error);
  if (plugin != nullptr) vhdsm_close(plugin);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  openlog("VHDSR", LOG_PID, LOG_LOCAL2);
  bool gc = argc == 3 && std::strcmp(argv[1], "--gc") == 0;
  bool task = argc == 3 && (std::strcmp(argv[1], "--run-task") == 0 ||
                            std::strcmp(argv[1], "--task") == 0);
  // Per call, xapi starts us afresh: a GC or an image task must outlive this
  // process, so it runs in a detached one; that one works inline.
  setenv("VHDSM_GC", gc || task ? "off" : "spawn", 0);
  std::string request;
  if (gc) {
    request = GcRequest(argv[2]);
  } else if (task) {
    return RunTask(argv[2]);
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
  } else if (!gc) {
    Print(std::string(response, len));
  }
  vhdsm_free(response);
  vhdsm_close(plugin);
  return 0;
}
