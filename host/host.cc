#include "host/host.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/harden.h"
#include "base/sanitize.h"
#include "base/spawn.h"
#include "image/image_methods.h"
#include "sm/sr.h"
#include "sm/xapi_toolstack.h"

namespace vhdsm {

namespace {

constexpr char kDefaultConfig[] = "/etc/vhdsm/vhdsm.conf";

void SpawnGc(const std::string& helper, const std::string& sr_path,
             const std::string& config) {
  if (!base::SpawnDetached(helper, {"--gc", sr_path}, config)) {
    syslog(LOG_WARNING, "vhdsm: cannot start the GC for %s", sr_path.c_str());
  }
}

}  // namespace

std::unique_ptr<Host> Host::Create(const std::string& config_path,
                                   std::string* error) {
  Config config;
  std::string path = config_path;
  // A helper started by SpawnDetached: its parent's configuration.
  if (const char* e = std::getenv("VHDSM_CONFIG"); path.empty() && e && *e) {
    path = e;
  }
  if (path.empty() && ::access(kDefaultConfig, R_OK) == 0)
    path = kDefaultConfig;
  if (!path.empty()) {
    base::Status s = Config::Load(path, &config);
    if (!s.ok()) {
      *error = path + ": " + s.message();
      return nullptr;
    }
  }
  config.ApplyLogLevel();
  for (const auto& [name, store] : config.stores) {
    if (store.key.empty()) continue;
    base::Status s = base::ProtectCredentials();
    if (!s.ok()) {
      *error = s.message();
      return nullptr;
    }
    break;
  }
  if (const char* m = std::getenv("VHDSM_GC")) {
    ParseGcMode(m, &config.gc_mode);  // anything else: the configured mode
  }
  return std::unique_ptr<Host>(new Host(std::move(config)));
}

Host::Host(Config config) : config_(std::move(config)) {
  std::string state_dir = config_.state_dir;
  if (const char* d = std::getenv("VHDSM_STATE_DIR")) state_dir = d;
  bool daemon = config_.gc_mode == GcMode::kThread;
  ImageServiceOptions io;
  io.state_dir = state_dir;
  io.run_in_process = daemon;
  io.helper = config_.gc_helper;
  io.config_path = config_.path;
  io.stores = config_.stores;
  io.defaults = config_.image;
  io.retry_delay_scale = config_.retry_delay_scale;
  images_ = std::make_unique<ImageService>(base::Env::Default(), std::move(io));
  images_->SetEventSink([this](const std::string& json) { Emit(json); });
  PluginOptions o;
  o.sr_roots = config_.sr_roots;
  if (config_.gc_mode != GcMode::kOff) {
    o.kick_gc = [this](const std::string& sr) { KickGc(sr); };
  }
  // Calls from xapi carry a session: their VDI records go to xapi's
  // database (xapi_toolstack.h); other calls work standalone.
  o.toolstack = [socket = config_.xapi_socket](
                    const CallContext& ctx) -> std::unique_ptr<Toolstack> {
    XapiToolstackOptions xo;
    xo.socket_path = XapiSocketPath(socket);
    return MakeXapiToolstack(ctx, xo);
  };
  plugin_ = std::make_unique<Plugin>(o);
  RegisterImageMethods(plugin_.get(), {images_.get(), !daemon});
  if (daemon) {
    gc_thread_ = std::thread([this] { GcThread(); });
    images_->ResumeAll();
  }
}

Host::~Host() {
  images_->Shutdown();  // running tasks stop at a checkpoint; they resume
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (gc_thread_.joinable()) gc_thread_.join();
}

std::string Host::Handle(std::string_view request, const xmlrpc::Peer& peer) {
  return plugin_->Handle(request, nullptr, peer);
}

void Host::SetEventSink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = std::move(sink);
}

void Host::Emit(const std::string& json) {
  std::function<void(const std::string&)> sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sink = sink_;
  }
  if (sink) sink(json);
}

void Host::KickGc(const std::string& sr_path) {
  if (config_.gc_mode == GcMode::kSpawn) {
    SpawnGc(config_.gc_helper, sr_path, config_.path);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (gc_pending_.insert(sr_path).second) gc_queue_.push_back(sr_path);
  cv_.notify_all();
}

void Host::GcThread() {
  for (;;) {
    std::string sr_path;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !gc_queue_.empty(); });
      if (stopping_) return;
      sr_path = gc_queue_.front();
      gc_queue_.pop_front();
      gc_pending_.erase(sr_path);
    }
    GcReport report;
    base::Status s;
    // Nothing may escape the thread (std::terminate would end the daemon):
    // an exception fails this SR's pass, and the next kick tries again.
    try {
      std::unique_ptr<Sr> sr;
      s = Sr::Open(sr_path, &sr);
      GcOptions o;
      o.should_stop = [this] {
        std::lock_guard<std::mutex> lock(mu_);
        return stopping_;
      };
      if (s.ok()) s = sr->Gc(o, &report);
    } catch (const std::exception& e) {
      s = base::Status::IOError(std::string("exception: ") + e.what());
    } catch (...) {
      s = base::Status::IOError("unknown exception");
    }
    if (!s.ok() && s.code() != base::Code::kBusy) {
      syslog(LOG_WARNING, "vhdsm: GC of %s: %s",
             base::SanitizeText(sr_path).c_str(),
             base::SanitizeText(s.ToString()).c_str());
    }
    nlohmann::json ev = {
        {"event", "gc"},
        {"sr", sr_path},
        {"ok", s.ok()},
        {"pruned", report.pruned},
        {"coalesced", report.coalesced + report.leaf_coalesced}};
    Emit(ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

}  // namespace vhdsm
