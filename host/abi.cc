// The exported C ABI of libvhdsm.so (include/vhdsm/plugin.h) over Plugin.
// Only the vhdsm_* symbols are exported (libvhdsm.map); every entry point
// catches everything, so no exception crosses the ABI.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "host/host.h"
#include "vhdsm/plugin.h"

struct vhdsm_plugin {
  std::unique_ptr<vhdsm::Host> host;
  std::mutex mu;
  vhdsm_event_fn event_fn = nullptr;
  void* event_user = nullptr;
};

namespace {

char* Dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) return nullptr;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

}  // namespace

extern "C" {

int vhdsm_abi_version(void) { return VHDSM_ABI_VERSION; }

vhdsm_plugin* vhdsm_open(const char* config, char** error) {
  try {
    auto* p = new vhdsm_plugin;
    std::string err;
    p->host = vhdsm::Host::Create(config ? config : "", &err);
    if (!p->host) {
      delete p;
      if (error) *error = Dup(err);
      return nullptr;
    }
    p->host->SetEventSink([p](const std::string& json) {
      std::lock_guard<std::mutex> lock(p->mu);
      if (p->event_fn) p->event_fn(p->event_user, json.c_str());
    });
    return p;
  } catch (const std::exception& e) {
    if (error) *error = Dup(e.what());
  } catch (...) {
    if (error) *error = Dup("unknown error");
  }
  return nullptr;
}

int vhdsm_handle(vhdsm_plugin* plugin, const char* request, size_t request_len,
                 char** response, size_t* response_len) {
  vhdsm_peer in_process{VHDSM_PEER_IN_PROCESS, -1, -1};
  return vhdsm_handle_peer(plugin, &in_process, request, request_len, response,
                           response_len);
}

int vhdsm_run_task(vhdsm_plugin* plugin, const char* task_id, char** error) {
  if (plugin == nullptr || task_id == nullptr) return -1;
  try {
    base::Status s = plugin->host->RunTask(task_id);
    if (s.ok()) return 0;
    if (error) *error = Dup(s.ToString());
  } catch (const std::exception& e) {
    if (error) *error = Dup(e.what());
  } catch (...) {
    if (error) *error = Dup("unknown error");
  }
  return -1;
}

int vhdsm_handle_peer(vhdsm_plugin* plugin, const vhdsm_peer* peer,
                      const char* request, size_t request_len, char** response,
                      size_t* response_len) {
  if (plugin == nullptr || peer == nullptr || request == nullptr ||
      response == nullptr) {
    return -1;
  }
  try {
    xmlrpc::Peer p;
    p.transport = peer->transport == VHDSM_PEER_IN_PROCESS
                      ? xmlrpc::Peer::Transport::kInProcess
                  : peer->transport == VHDSM_PEER_UNIX
                      ? xmlrpc::Peer::Transport::kUnix
                      : xmlrpc::Peer::Transport::kTcp;
    p.uid = peer->uid;
    p.pid = peer->pid;
    std::string r =
        plugin->host->Handle(std::string_view(request, request_len), p);
    *response = Dup(r);
    if (*response == nullptr) return -1;
    if (response_len) *response_len = r.size();
    return 0;
  } catch (...) {
    return -1;
  }
}

void vhdsm_set_event_callback(vhdsm_plugin* plugin, vhdsm_event_fn fn,
                              void* user) {
  if (plugin == nullptr) return;
  std::lock_guard<std::mutex> lock(plugin->mu);
  plugin->event_fn = fn;
  plugin->event_user = user;
}

void vhdsm_free(void* p) { std::free(p); }

void vhdsm_close(vhdsm_plugin* plugin) {
  try {
    delete plugin;
  } catch (...) {
  }
}

}  // extern "C"
