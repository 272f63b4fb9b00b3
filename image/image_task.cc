#include "image/image_task.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/harden.h"
#include "base/sanitize.h"
#include "base/spawn.h"
#include "sm/sr.h"
#include "upload/byte_source.h"
#include "upload/image_stream.h"
#include "upload/object_names.h"
#include "upload/segment_names.h"
#include "upload/upload_error.h"
#include "upload/uploader.h"
#include "vhd/chain.h"
#include "vhd/format.h"
#include "vhd/uuid.h"
#include "vhd/vhd_stream.h"

namespace vhdsm {

namespace {

using nlohmann::json;

// A run that ended its process abnormally this many times (counted from the
// record: started runs minus cleanly ended ones) is not resumed again, so
// that a task that kills its process cannot crash-loop the daemon.
constexpr int kMaxAbnormalRuns = 2;

// Task records and events hold text from servers and files: dump() must
// never throw on it (nlohmann refuses invalid UTF-8 by default).
std::string Dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// Credentials and tokens cross an http:// URL in clear: only on request.
bool IsInsecureUrl(const std::string& url) {
  std::string scheme = url.substr(0, 7);
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(ch));
  return scheme == "http://";
}

// Refuses an http:// auth URL without allow_insecure; `how` says where to
// allow it. Logs a warning on every allowed use.
base::Status CheckInsecure(const std::string& url, bool allowed,
                           const std::string& how) {
  if (!IsInsecureUrl(url)) return base::Status::OK();
  std::string u = base::SanitizeText(url, 256);
  if (!allowed) {
    return base::Status::InvalidArgument(
        "image: auth_url " + u +
        " is not https: credentials would cross the network in clear (" + how +
        " to allow it)");
  }
  syslog(LOG_WARNING,
         "vhdsm: using insecure auth_url %s: credentials and token are sent "
         "unencrypted",
         u.c_str());
  return base::Status::OK();
}

std::string HowToAllow(const ImageParams& p) {
  return p.store.empty() ? "set the image member allow_insecure = true, or "
                           "vhdsm image create --allow-insecure"
                         : "set allow_insecure = true in [store " + p.store +
                               "] of vhdsm.conf";
}

bool IsUuid(const std::string& s) {
  vhd::Uuid u;
  return vhd::Uuid::Parse(s, &u);
}

// The SR side of a task (its record, its cancel marker) is reached through
// an Env confined to the SR, as every file of an SR is.
base::Status OpenSrEnv(const std::string& sr_path,
                       std::unique_ptr<base::ConfinedEnv>* env) {
  return base::ConfinedEnv::Open(sr_path, env);
}

base::Status MkdirPrivate(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return base::Status::FromErrno(errno, "mkdir " + path);
  }
  return base::Status::OK();
}

// The read-only snapshot's chain, as one standalone VHD, for the uploader.
class ChainImageSource : public upload::ByteSource {
 public:
  ChainImageSource(std::unique_ptr<vhd::Chain> chain,
                   std::unique_ptr<vhd::VhdStream> stream)
      : chain_(std::move(chain)), stream_(std::move(stream)) {}
  base::Status Read(uint8_t* buf, size_t n, size_t* got) override {
    base::Status s = stream_->Read(buf, n, got);
    done_.store(stream_->position());
    return s;
  }
  int64_t Size() const override {
    return static_cast<int64_t>(stream_->Size());
  }
  upload::SourceProgress Progress() const override {
    return {done_.load(), static_cast<int64_t>(stream_->Size())};
  }

 private:
  std::unique_ptr<vhd::Chain> chain_;
  std::unique_ptr<vhd::VhdStream> stream_;
  std::atomic<uint64_t> done_{0};
};

}  // namespace

// ---- the record -----------------------------------------------------------

std::string TaskRecord::ToJson() const {
  json im = {{"store", this->image.store},
             {"auth_url", this->image.auth_url},
             {"auth_version", this->image.auth_version},
             {"user", this->image.user},
             {"tenant", this->image.tenant},
             {"region", this->image.region},
             {"api_key", this->image.api_key},
             {"container", this->image.container},
             {"object", this->image.object},
             {"format", this->image.format},
             {"manifest", this->image.manifest},
             {"segment_size", this->image.segment_size},
             {"compression_level", this->image.compression_level},
             {"parallel_segments", this->image.parallel_segments},
             {"keep_segments", this->image.keep_segments},
             {"allow_insecure", this->image.allow_insecure}};
  json j = {{"id", id},
            {"sr_path", sr_path},
            {"sr_uuid", sr_uuid},
            {"vdi_uuid", vdi_uuid},
            {"state", state},
            {"progress", progress},
            {"image", im},
            {"snapshot_uuid", snapshot_uuid},
            {"image_uuid", image_uuid},
            {"image_timestamp", image_timestamp},
            {"run_id", run_id},
            {"phase_bytes_done", phase_bytes_done},
            {"phase_bytes_total", phase_bytes_total},
            {"rate_bytes_per_s", rate_bytes_per_s},
            {"eta_s", eta_s},
            {"segments_done", segments_done},
            {"segments_total", segments_total},
            {"segments_skipped", segments_skipped},
            {"image_bytes", image_bytes},
            {"object_bytes", object_bytes},
            {"object_md5", object_md5},
            {"etag", etag},
            {"error_code", error_code},
            {"error_message", error_message},
            {"attempts", attempts},
            {"runs_ended", runs_ended},
            {"created", created},
            {"updated", updated}};
  return Dump(j, 1) + "\n";
}

base::Status TaskRecord::FromJson(const std::string& text, TaskRecord* r,
                                  const ImageParams& d) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::Status::Corruption("task record is not a JSON object");
  }
  try {
    *r = TaskRecord();
    r->id = j.at("id").get<std::string>();
    r->sr_path = j.at("sr_path").get<std::string>();
    r->sr_uuid = j.value("sr_uuid", "");
    r->vdi_uuid = j.at("vdi_uuid").get<std::string>();
    r->state = j.at("state").get<std::string>();
    r->progress = j.value("progress", 0);
    const json& im = j.at("image");
    ImageParams& p = r->image;
    p.store = im.value("store", d.store);
    p.auth_url = im.value("auth_url", d.auth_url);
    p.auth_version = im.value("auth_version", d.auth_version);
    p.user = im.value("user", d.user);
    p.tenant = im.value("tenant", d.tenant);
    p.region = im.value("region", d.region);
    p.api_key = im.value("api_key", d.api_key);
    p.container = im.value("container", d.container);
    p.object = im.value("object", d.object);
    p.format = im.value("format", d.format);
    p.manifest = im.value("manifest", d.manifest);
    p.segment_size = im.value("segment_size", d.segment_size);
    p.compression_level = im.value("compression_level", d.compression_level);
    p.parallel_segments = im.value("parallel_segments", d.parallel_segments);
    p.keep_segments = im.value("keep_segments", d.keep_segments);
    p.allow_insecure = im.value("allow_insecure", d.allow_insecure);
    r->snapshot_uuid = j.value("snapshot_uuid", "");
    r->image_uuid = j.value("image_uuid", "");
    r->image_timestamp = j.value("image_timestamp", 0u);
    r->run_id = j.value("run_id", "");
    r->phase_bytes_done = j.value("phase_bytes_done", uint64_t{0});
    r->phase_bytes_total = j.value("phase_bytes_total", uint64_t{0});
    r->rate_bytes_per_s = j.value("rate_bytes_per_s", 0.0);
    r->eta_s = j.value("eta_s", -1.0);
    r->segments_done = j.value("segments_done", uint64_t{0});
    r->segments_total = j.value("segments_total", int64_t{-1});
    r->segments_skipped = j.value("segments_skipped", uint64_t{0});
    r->image_bytes = j.value("image_bytes", uint64_t{0});
    r->object_bytes = j.value("object_bytes", uint64_t{0});
    r->object_md5 = j.value("object_md5", "");
    r->etag = j.value("etag", "");
    r->error_code = j.value("error_code", "");
    r->error_message = j.value("error_message", "");
    r->attempts = j.value("attempts", 0);
    // Records written before runs were counted ended cleanly.
    r->runs_ended = j.value("runs_ended", r->attempts);
    r->created = j.value("created", "");
    r->updated = j.value("updated", "");
  } catch (const std::exception& e) {
    return base::Status::Corruption(std::string("task record: ") + e.what());
  }
  return base::Status::OK();
}

// ---- the service ----------------------------------------------------------

ImageService::ImageService(base::Env* env, ImageServiceOptions options)
    : env_(env), options_(std::move(options)) {}

ImageService::~ImageService() { Shutdown(); }

void ImageService::Shutdown() {
  shutting_down_ = true;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
}

void ImageService::SetEventSink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = std::move(sink);
}

void ImageService::Emit(const TaskRecord& r) {
  std::function<void(const std::string&)> sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sink = sink_;
  }
  if (!sink) return;
  json ev = {{"event", "task"},
             {"task_id", r.id},
             {"state", r.state},
             {"progress", r.progress},
             {"phase_bytes_done", r.phase_bytes_done},
             {"phase_bytes_total", r.phase_bytes_total}};
  sink(Dump(ev, -1));
}

std::string ImageService::TaskPath(const std::string& sr,
                                   const std::string& id) const {
  return sr + "/.vhdsm/tasks/" + id + ".json";
}

base::Status ImageService::Locate(const std::string& id, std::string* sr_path) {
  if (!IsUuid(id)) {
    return base::Status::InvalidArgument("'" + id + "' is not a task id");
  }
  base::Status s =
      base::ReadFileToString(env_, state_dir_ + "/tasks/" + id, sr_path, 4096);
  if (s.code() == base::Code::kNotFound) {
    return base::Status::NotFound("no task " + id);
  }
  RETURN_IF_ERROR(s);
  while (!sr_path->empty() && sr_path->back() == '\n') sr_path->pop_back();
  return base::Status::OK();
}

base::Status ImageService::Load(const std::string& sr_path,
                                const std::string& id, TaskRecord* r) {
  std::string text;
  std::unique_ptr<base::ConfinedEnv> sr_env;
  RETURN_IF_ERROR(OpenSrEnv(sr_path, &sr_env));
  RETURN_IF_ERROR(base::ReadFileToString(sr_env.get(), TaskPath(sr_path, id),
                                         &text, 1 << 20));
  return TaskRecord::FromJson(text, r, options_.defaults);
}

base::Status ImageService::Save(TaskRecord* r) {
  r->updated = base::NowIso();
  std::unique_ptr<base::ConfinedEnv> sr_env;
  RETURN_IF_ERROR(OpenSrEnv(r->sr_path, &sr_env));
  return base::WriteFileAtomic(sr_env.get(), TaskPath(r->sr_path, r->id),
                               r->ToJson());
}

base::Status ImageService::Create(const std::string& sr_path,
                                  const std::string& sr_uuid,
                                  const std::string& vdi_uuid,
                                  const ImageParams& p,
                                  const std::string& inline_key,
                                  std::string* task_id) {
  if (!inline_key.empty()) RETURN_IF_ERROR(base::ProtectCredentials());
  if (p.container.empty() || p.object.empty()) {
    return base::Status::InvalidArgument(
        "image: container and object are required");
  }
  // Swift's name rules, before any task exists: "a/../../AUTH_x/c/o" must
  // never reach a URL.
  for (const base::Status& s : {upload::CheckContainerName(p.container),
                                upload::CheckObjectName(p.object)}) {
    if (!s.ok()) return base::Status::InvalidArgument("image: " + s.message());
  }
  if (p.format != "vhd" && p.format != "tgz") {
    return base::Status::InvalidArgument("image: format must be vhd or tgz");
  }
  if (p.manifest != "slo" && p.manifest != "dlo") {
    return base::Status::InvalidArgument("image: manifest must be slo or dlo");
  }
  if (p.segment_size < 1 || p.segment_size > upload::kMaxSegmentSize) {
    return base::Status::InvalidArgument("image: segment_size out of range");
  }
  if (p.compression_level < 0 || p.compression_level > 9) {
    return base::Status::InvalidArgument("image: compression level 0..9");
  }
  if (p.store.empty()) {
    if (p.auth_url.empty() || p.user.empty() || inline_key.empty()) {
      return base::Status::InvalidArgument(
          "image: name a configured store, or give auth_url, user and key");
    }
  } else if (!options_.stores.count(p.store)) {
    return base::Status::InvalidArgument("image: no store '" + p.store +
                                         "' is configured");
  }
  if (p.store.empty()) {
    RETURN_IF_ERROR(CheckInsecure(p.auth_url, p.allow_insecure, HowToAllow(p)));
  } else {
    const StoreConfig& sc = options_.stores.at(p.store);
    RETURN_IF_ERROR(
        CheckInsecure(sc.auth_url, sc.allow_insecure, HowToAllow(p)));
  }
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(Sr::Open(sr_path, &sr));
  Vdi vdi;
  RETURN_IF_ERROR(sr->GetVdi(vdi_uuid, &vdi));
  if (vdi.hidden) {
    return base::Status::InvalidArgument("VDI " + vdi_uuid + " is hidden");
  }
  // Never image a chain that leaves the SR's rules (sr.h): say why now.
  RETURN_IF_ERROR(sr->CheckChain(vdi_uuid));
  // Room for the task's snapshot (and its records): a task that could not
  // even record its failure would stay queued.
  RETURN_IF_ERROR(sr->NeedSpace(2 * EmptyVhdBytes(vdi.virtual_size),
                                "an image task's snapshot"));
  RETURN_IF_ERROR(MkdirPrivate(state_dir_));
  RETURN_IF_ERROR(MkdirPrivate(state_dir_ + "/tasks"));
  RETURN_IF_ERROR(MkdirPrivate(state_dir_ + "/secrets"));
  TaskRecord r;
  r.id = vhd::Uuid::Generate().ToString();
  r.sr_path = sr_path;
  r.sr_uuid = sr_uuid;
  r.vdi_uuid = vdi_uuid;
  r.image = p;
  r.created = base::NowIso();
  if (!inline_key.empty()) {
    std::string path = state_dir_ + "/secrets/" + r.id;
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return base::Status::FromErrno(errno, "create " + path);
    bool ok = ::write(fd, inline_key.data(), inline_key.size()) ==
                  static_cast<ssize_t>(inline_key.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return base::Status::IOError("cannot store the task's key");
  }
  RETURN_IF_ERROR(Save(&r));
  RETURN_IF_ERROR(base::WriteFileAtomic(env_, state_dir_ + "/tasks/" + r.id,
                                        sr_path + "\n"));
  Emit(r);
  *task_id = r.id;
  Start(r.id);
  return base::Status::OK();
}

base::Status ImageService::Get(const std::string& id, TaskRecord* r) {
  std::string sr;
  RETURN_IF_ERROR(Locate(id, &sr));
  return Load(sr, id, r);
}

base::Status ImageService::Cancel(const std::string& id) {
  std::string sr;
  RETURN_IF_ERROR(Locate(id, &sr));
  TaskRecord r;
  RETURN_IF_ERROR(Load(sr, id, &r));
  if (r.finished()) return base::Status::OK();
  std::unique_ptr<base::ConfinedEnv> sr_env;
  RETURN_IF_ERROR(OpenSrEnv(sr, &sr_env));
  return base::WriteFileAtomic(
      sr_env.get(), sr + "/.vhdsm/tasks/" + id + ".cancel", "cancel\n");
}

base::Status ImageService::List(std::vector<std::string>* ids) {
  ids->clear();
  std::vector<std::string> names;
  base::Status s = env_->ListDir(state_dir_ + "/tasks", &names);
  if (s.code() == base::Code::kNotFound) return base::Status::OK();
  RETURN_IF_ERROR(s);
  for (const std::string& n : names) {
    if (IsUuid(n)) ids->push_back(n);
  }
  std::sort(ids->begin(), ids->end());
  return base::Status::OK();
}

base::Status ImageService::ResumeAll() {
  std::vector<std::string> ids;
  RETURN_IF_ERROR(List(&ids));
  for (const std::string& id : ids) {
    TaskRecord r;
    if (!Get(id, &r).ok()) continue;
    if (!r.finished()) {
      Start(id);
    } else if (env_->Exists(state_dir_ + "/secrets/" + id)) {
      env_->Unlink(state_dir_ + "/secrets/" + id);  // a kill at its end
    }
  }
  return base::Status::OK();
}

void ImageService::Start(const std::string& id) {
  if (options_.run_in_process) {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_[id]) return;
    running_[id] = true;
    threads_.emplace_back([this, id] {
      // Nothing may escape the thread (std::terminate would end the
      // daemon); Run records its own failures, this is the last resort.
      base::Status s;
      try {
        s = Run(id);
      } catch (const std::exception& e) {
        s = base::Status::IOError(std::string("exception: ") + e.what());
      } catch (...) {
        s = base::Status::IOError("unknown exception");
      }
      if (!s.ok()) {
        syslog(LOG_WARNING, "vhdsm: image task %s: %s", id.c_str(),
               base::SanitizeText(s.ToString()).c_str());
      }
      std::lock_guard<std::mutex> l(mu_);
      running_[id] = false;
    });
    return;
  }
  if (!base::SpawnDetached(options_.helper, {"--task", id},
                           options_.config_path)) {
    syslog(LOG_WARNING, "vhdsm: cannot start image task %s", id.c_str());
  }
}

base::Status ImageService::Run(const std::string& id) {
  // A run reads a key (the store's or the task's own) and holds a token.
  RETURN_IF_ERROR(base::ProtectCredentials());
  std::string sr_path;
  RETURN_IF_ERROR(Locate(id, &sr_path));
  TaskRecord r;
  RETURN_IF_ERROR(Load(sr_path, id, &r));
  if (r.finished()) return base::Status::OK();
  if (r.attempts - r.runs_ended >= kMaxAbnormalRuns) {
    Abandon(sr_path, &r, "QUARANTINED",
            "its run ended the process abnormally " +
                std::to_string(r.attempts - r.runs_ended) +
                " times; not resumed again");
    return base::Status::OK();
  }
  // Counted before the run, so that a run that kills the process counts.
  r.attempts++;
  RETURN_IF_ERROR(Save(&r));
  base::Status s;
  try {
    s = RunAttempt(sr_path, &r);
  } catch (const std::exception& e) {
    s = base::Status::IOError(std::string("exception: ") + e.what());
    Abandon(sr_path, &r, "INTERNAL", s.message());
  } catch (...) {
    s = base::Status::IOError("unknown exception");
    Abandon(sr_path, &r, "INTERNAL", s.message());
  }
  r.runs_ended = r.attempts;
  base::Status saved = Save(&r);
  return s.ok() ? saved : s;
}

void ImageService::Abandon(const std::string& sr_path, TaskRecord* r,
                           const std::string& code,
                           const std::string& message) noexcept {
  try {
    r->state = "failed";
    r->error_code = code;
    r->error_message = base::SanitizeText(message);
    std::unique_ptr<Sr> sr;
    if (!r->snapshot_uuid.empty() && Sr::Open(sr_path, &sr).ok() &&
        sr->DeleteVdi(r->snapshot_uuid).ok()) {
      r->snapshot_uuid.clear();
    }
    if (Save(r).ok()) {
      env_->Unlink(state_dir_ + "/secrets/" + r->id);
      env_->Unlink(sr_path + "/.vhdsm/tasks/" + r->id + ".cancel");
    }
    Emit(*r);
    if (sr) {
      GcReport gr;
      sr->Gc(GcOptions(), &gr);  // best effort: fold the released snapshot
    }
    syslog(LOG_WARNING, "vhdsm: image task %s failed: %s: %s", r->id.c_str(),
           code.c_str(), r->error_message.c_str());
  } catch (...) {
    // Out of memory at the end of a failure: the record stays as it was.
  }
}

base::Status ImageService::RunAttempt(const std::string& sr_path,
                                      TaskRecord* record) {
  TaskRecord& r = *record;
  const std::string& id = r.id;
  std::string cancel_marker = sr_path + "/.vhdsm/tasks/" + id + ".cancel";
  std::string secret_path = state_dir_ + "/secrets/" + id;
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(Sr::Open(sr_path, &sr));
  auto cancelled = [&] { return sr->env()->Exists(cancel_marker); };

  // Ends the task: the snapshot released whatever happened.
  auto finish = [&](const std::string& state, const base::Status& s,
                    const std::string& code) {
    r.state = state;
    if (state == "done") r.progress = 100;
    if (!s.ok()) {
      r.error_code = code;
      r.error_message = base::SanitizeText(s.message());
    }
    if (!r.snapshot_uuid.empty()) {
      base::Status d = sr->DeleteVdi(r.snapshot_uuid);
      if (d.ok()) r.snapshot_uuid.clear();
    }
    // The end is recorded first: a task killed before its record says so
    // resumes, and needs its key; the key of a finished one is removed by
    // the next ResumeAll should a kill come before these unlinks.
    base::Status saved = Save(&r);
    if (saved.ok()) {
      env_->Unlink(secret_path);
      sr->env()->Unlink(cancel_marker);
    }
    Emit(r);
    GcReport gr;
    sr->Gc(GcOptions(), &gr);  // best effort: fold the released snapshot
    return saved;
  };
  auto fail = [&](const base::Status& s, const std::string& code) {
    return finish("failed", s, code);
  };
  if (cancelled()) return finish("cancelled", base::Status::OK(), "");

  // ---- creating: coalesce the chains, take the read-only snapshot.
  r.state = "creating";
  r.progress = 25;
  RETURN_IF_ERROR(Save(&r));
  Emit(r);
  if (r.snapshot_uuid.empty() ||
      !sr->env()->Exists(sr->VdiPath(r.snapshot_uuid))) {
    // The snapshot's uuid is recorded before the snapshot exists: a task
    // killed in between resumes with it, or releases it, and never leaves a
    // VDI behind that no record names. A new snapshot is a new image: what
    // an earlier attempt uploaded is not resumed.
    if (r.snapshot_uuid.empty()) {
      r.snapshot_uuid = vhd::Uuid::Generate().ToString();
    }
    r.image_uuid.clear();
    r.run_id.clear();
    RETURN_IF_ERROR(Save(&r));
    GcOptions go;
    go.wait = true;
    go.leaf_coalesce = false;  // the VDI may be in use
    go.should_stop = [&] { return shutting_down_.load() || cancelled(); };
    GcReport gr;
    base::Status s = sr->Gc(go, &gr);
    if (!s.ok()) return fail(s, base::Status::CodeName(s.code()));
    VdiMeta m;
    m.name_label = "image of " + r.vdi_uuid;
    m.is_a_snapshot = true;
    m.snapshot_of = r.vdi_uuid;
    m.read_only = true;
    Vdi snap;
    s = sr->SnapshotVdi(r.vdi_uuid, SnapshotKind::kDouble, m, &snap,
                        r.snapshot_uuid);
    if (!s.ok()) return fail(s, base::Status::CodeName(s.code()));
  }
  if (r.run_id.empty()) {
    r.image_uuid = vhd::Uuid::Generate().ToString();
    r.image_timestamp = vhd::VhdTimeNow();
    r.run_id = upload::NewRunId();
    RETURN_IF_ERROR(Save(&r));
  }
  if (shutting_down_) return base::Status::OK();  // resumes at next start
  if (cancelled()) return finish("cancelled", base::Status::OK(), "");

  // ---- uploading.
  r.state = "uploading";
  r.progress = 50;
  std::unique_ptr<vhd::Chain> chain;
  vhd::ChainOptions co;
  co.env = sr->env();  // confined: the chain never leaves the SR
  base::Status s = vhd::Chain::Open(sr->VdiPath(r.snapshot_uuid), co, &chain);
  if (!s.ok()) return fail(s, base::Status::CodeName(s.code()));
  vhd::Uuid image_uuid;
  vhd::Uuid::Parse(r.image_uuid, &image_uuid);
  std::unique_ptr<vhd::VhdStream> stream;
  s = vhd::VhdStream::Open(chain.get(), image_uuid, r.image_timestamp, &stream);
  if (!s.ok()) return fail(s, base::Status::CodeName(s.code()));
  r.image_bytes = stream->Size();
  r.phase_bytes_total = r.image_bytes;
  RETURN_IF_ERROR(Save(&r));
  Emit(r);

  upload::SwiftStore store;
  const ImageParams& p = r.image;
  if (!p.store.empty()) {
    auto it = options_.stores.find(p.store);
    if (it == options_.stores.end()) {
      return fail(base::Status::InvalidArgument("store '" + p.store +
                                                "' is not configured"),
                  "INVALID_ARGUMENT");
    }
    const StoreConfig& sc = it->second;
    upload::ParseAuthVersion(sc.auth_version, &store.auth.version);
    store.auth.url = sc.auth_url;
    store.auth.user = sc.user;
    store.auth.key = sc.key;
    store.auth.tenant = sc.tenant;
    store.auth.region = sc.region;
    store.http.tls.ca_file = sc.ca_bundle;
    store.http.connect_timeout_s = sc.connect_timeout_s;
    store.http.stall_timeout_s = sc.stall_timeout_s;
    store.retry.max_attempts = static_cast<int>(sc.retries);
    s = CheckInsecure(sc.auth_url, sc.allow_insecure, HowToAllow(p));
    if (!s.ok()) return fail(s, "INVALID_ARGUMENT");
  } else {
    s = CheckInsecure(p.auth_url, p.allow_insecure, HowToAllow(p));
    if (!s.ok()) return fail(s, "INVALID_ARGUMENT");
    upload::ParseAuthVersion(p.auth_version, &store.auth.version);
    store.auth.url = p.auth_url;
    store.auth.user = p.user;
    store.auth.tenant = p.tenant;
    store.auth.region = p.region;
    store.auth.api_key = p.api_key;
    s = base::ReadFileToString(env_, secret_path, &store.auth.key, 4096);
    if (!s.ok()) {
      return fail(base::Status::InvalidArgument(
                      "the task's credentials are gone (inline keys do not "
                      "survive the end of a task)"),
                  "AUTH_FAILED");
    }
  }
  if (const char* t = std::getenv("VHDSM_UPLOAD_RETRY_SCALE")) {
    // Tests shorten the backoff; production keeps swiftclient's policy.
    double f = std::atof(t);
    if (f > 0) {
      store.retry.initial_delay_s *= f;
      store.retry.max_delay_s *= f;
    }
  }
  upload::ImageStreamOptions io;
  upload::ParseImageFormat(p.format, &io.format);
  io.gzip.level = p.compression_level;
  io.tar.mtime = vhd::UnixTimeFromVhd(r.image_timestamp);
  std::unique_ptr<upload::ByteSource> source(
      new ChainImageSource(std::move(chain), std::move(stream)));
  std::unique_ptr<upload::ByteSource> image;
  s = upload::NewImageStream(std::move(source), io, &image);
  if (!s.ok()) return fail(s, "INVALID_ARGUMENT");

  upload::UploadOptions uo;
  uo.container = p.container;
  uo.object = p.object;
  uo.segment_size = p.segment_size;
  uo.parallel_segments = p.parallel_segments;
  uo.manifest = p.manifest == "dlo" ? upload::ManifestKind::kDlo
                                    : upload::ManifestKind::kSlo;
  uo.run_id = r.run_id;
  uo.resume = true;
  uo.keep_segments_on_failure = p.keep_segments;
  uo.metadata["vhdsm-vdi"] = r.vdi_uuid;
  uo.metadata["vhdsm-format"] = p.format;
  uo.spool_dir = sr_path + "/.vhdsm/tasks";
  double last_save = 0;
  double last_cancel_check = 0;
  bool user_cancel = false;
  // A resumed upload re-reads the image from its start (to find the stored
  // segments); the bytes shown never go back.
  const uint64_t floor = r.phase_bytes_done;
  uo.progress = [&](const upload::ProgressInfo& pi) {
    r.phase_bytes_done = std::max<uint64_t>(floor, pi.source_bytes_done);
    if (pi.source_bytes_total >= 0) r.phase_bytes_total = pi.source_bytes_total;
    r.rate_bytes_per_s = pi.rate_bytes_per_s;
    r.eta_s = pi.eta_s;
    r.segments_done = pi.segments_done;
    r.segments_total = pi.segments_total;
    r.segments_skipped = pi.segments_skipped;
    double now = base::MonotonicSeconds();
    if (now - last_save >= 1.0) {
      last_save = now;
      Save(&r);
      Emit(r);
    }
  };
  uo.cancelled = [&] {
    if (shutting_down_) return true;
    double now = base::MonotonicSeconds();
    if (now - last_cancel_check >= 0.5) {
      last_cancel_check = now;
      user_cancel = cancelled();
    }
    return user_cancel;
  };
  upload::UploadResult ur;
  s = upload::Upload(store, uo, image.get(), &ur);
  r.segments_skipped = ur.segments_skipped;
  if (!s.ok()) {
    upload::UploadError e = upload::ErrorOf(s);
    if (e == upload::UploadError::kCancelled && !user_cancel) {
      // The daemon is stopping: checkpointed, resumes at the next start.
      return Save(&r);
    }
    if (e == upload::UploadError::kCancelled) {
      return finish("cancelled", base::Status::OK(), "");
    }
    return fail(s, upload::UploadErrorName(e));
  }
  r.phase_bytes_done = r.phase_bytes_total;
  r.object_bytes = ur.object_bytes;
  r.object_md5 = ur.object_md5;
  r.etag = ur.etag;
  r.segments_done = ur.segments_total;
  r.segments_total = static_cast<int64_t>(ur.segments_total);
  r.eta_s = 0;
  return finish("done", base::Status::OK(), "");
}

}  // namespace vhdsm
