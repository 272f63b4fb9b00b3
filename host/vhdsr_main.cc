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
// exit status is 0 even for faults, as xapi requires (xmlrpc/exec.h is the
// transport; libvhdsm answers). Diagnostics go to syslog. Configuration:
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
  base::LogOptions log;
  log.ident = "VHDSR";
  log.to_stderr = false;  // as ever, VHDSR writes nothing to stderr
  base::ConfigureLog(log);
  bool gc = argc == 3 && std::strcmp(argv[1], "--gc") == 0;
  bool task = argc == 3 && std::strcmp(argv[1], "--task") == 0;
  // Per call, xapi starts us afresh: a GC or an image task must outlive this
  // process, so it runs in a detached one; that one works inline.
  setenv("VHDSM_GC", gc || task ? "off" : "spawn", 0);
  if (gc || task) {
    // Nobody reads the response of a detached run; only a failure to reach
    // the library is worth printing.
    std::string response;
    if (!CallPlugin(gc ? GcRequest(argv[2]) : TaskRequest(argv[2]),
                    &response)) {
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
