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
// exit status is 0 even for faults, as xapi requires (xmlrpc/exec.h is the
// transport; libvhdsm answers). A task worker writes nothing to stdout: it
// runs the task through the library (vhdsm_run_task) and exits 0 when the
// run ended (its record says how), 1 when it could not run (the reason
// goes to syslog). Diagnostics go to syslog. Configuration:
// $VHDSM_CONFIG, else /etc/vhdsm/vhdsm.conf.
#include <syslog.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/log.h"
#include "sm/fault_codes.h"
#include "vhdsm/plugin.h"
#include "xmlrpc/exec.h"
#include "xmlrpc/writer.h"

namespace {

std::string BackendFault(const std::string& detail) {
  return xmlrpc::WriteFault(xmlrpc::MakeFault(vhdsm::fault::kGeneral, detail));
}

// Hands `request` to libvhdsm. False, with *response a fault document, when
// the library cannot be used (then it never saw the request).
bool CallPlugin(std::string_view request, std::string* response) {
  if (vhdsm_abi_version() != VHDSM_ABI_VERSION) {
    *response = BackendFault("libvhdsm ABI mismatch");
    return false;
  }
  char* error = nullptr;
  const char* config = std::getenv("VHDSM_CONFIG");
  vhdsm_plugin* plugin = vhdsm_open(config, &error);
  if (plugin == nullptr) {
    std::string m = error ? error : "cannot open the plugin";
    vhdsm_free(error);
    base::Log(LOG_ERR, m);
    *response = BackendFault(m);
    return false;
  }
  char* out = nullptr;
  size_t len = 0;
  bool ok =
      vhdsm_handle(plugin, request.data(), request.size(), &out, &len) == 0;
  *response =
      !ok ? BackendFault("out of memory")
          : std::string(out != nullptr ? out : "", out != nullptr ? len : 0);
  vhdsm_free(out);
  vhdsm_close(plugin);
  return ok;
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
  base::LogOptions log;
  log.ident = "VHDSR";
  log.to_stderr = false;  // as ever, VHDSR writes nothing to stderr
  base::ConfigureLog(log);
  bool gc = argc == 3 && std::strcmp(argv[1], "--gc") == 0;
  bool task = argc == 3 && (std::strcmp(argv[1], "--run-task") == 0 ||
                            std::strcmp(argv[1], "--task") == 0);
  // Per call, xapi starts us afresh: a GC or an image task must outlive this
  // process, so it runs in a detached one; that one works inline.
  setenv("VHDSM_GC", gc || task ? "off" : "spawn", 0);
  if (task) return RunTask(argv[2]);
  if (gc) {
    // Nobody reads the response of a detached run; only a failure to reach
    // the library is worth printing.
    std::string response;
    if (!CallPlugin(GcRequest(argv[2]), &response)) {
      xmlrpc::WriteExecResponse(response);
    }
    return 0;
  }
  xmlrpc::ExecOptions options;
  options.parse_error = vhdsm::fault::kBadRequest;
  return xmlrpc::RunExecMain(
      [](std::string_view request) {
        std::string response;
        CallPlugin(request, &response);
        return response;
      },
      options, argc, argv);
}
