// Host: one running plugin — its configuration, the SMAPIv1 Plugin, and the
// background work it starts (GC runs, image tasks). The C ABI (abi.cc) wraps
// exactly one Host.
//
// Image tasks run in this process's threads when the GC mode is "thread"
// (vhdsmd: unfinished tasks resume at start, and are checkpointed when the
// Host is destroyed), else each in a detached "<helper> --task ID" process.
// The state directory is the configuration's, or $VHDSM_STATE_DIR.
//
// GC scheduling, from the configuration's [gc] mode (or VHDSM_GC in the
// environment, which a host program sets for itself):
//   thread  a background thread runs the GC of each SR that has work, at
//           once (no pause), one at a time per SR (vhdsmd);
//   spawn   a detached process "<gc_helper> --gc <sr>" does it, so that a
//           short-lived caller can exit (VHDSR: xapi runs it per call);
//   off     only sr_gc and vdi_coalesce run the GC.
#ifndef VHDSM_HOST_HOST_H_
#define VHDSM_HOST_HOST_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "host/config.h"
#include "image/image_task.h"
#include "sm/smapi.h"

namespace vhdsm {

class Host {
 public:
  // Reads `config_path` ("" for the defaults). nullptr + *error on failure.
  static std::unique_ptr<Host> Create(const std::string& config_path,
                                      std::string* error);
  ~Host();

  // `peer`: who sent the request (default: in-process, see Plugin::Handle).
  std::string Handle(std::string_view request,
                     const xmlrpc::Peer& peer = xmlrpc::Peer());
  void SetEventSink(std::function<void(const std::string&)> sink);
  const Config& config() const { return config_; }
  Plugin& plugin() { return *plugin_; }

  // Runs image task `task_id` to its end in this thread (the --run-task
  // entry point of the worker a spawn-mode host starts).
  base::Status RunTask(const std::string& task_id) {
    return images_->Run(task_id);
  }

 private:
  explicit Host(Config config);
  void KickGc(const std::string& sr_path);
  void GcThread();
  void Emit(const std::string& json);

  Config config_;
  std::unique_ptr<ImageService> images_;
  std::unique_ptr<Plugin> plugin_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> gc_queue_;
  std::set<std::string> gc_pending_;
  bool stopping_ = false;
  std::thread gc_thread_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace vhdsm

#endif  // VHDSM_HOST_HOST_H_
