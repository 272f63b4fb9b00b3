#include "image/image_task.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"
#include "base/harden.h"
#include "base/sanitize.h"
#include "base/spawn.h"
#include "image/task_run.h"
#include "sm/sr.h"
#include "vhd/uuid.h"

namespace vhdsm {

namespace {

// A run that ended its process abnormally this many times (counted from the
// record: started runs minus cleanly ended ones) is not resumed again, so
// that a task that kills its process cannot crash-loop the daemon.
constexpr int kMaxAbnormalRuns = 2;

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

// The state directory holds keys: root's only. An existing one is used as
// it is (the package creates it).
base::Status MkdirPrivate(base::Env* env, const std::string& path) {
  base::Status s = env->Mkdir(path, 0700);
  return s.code() == base::Code::kExists ? base::Status::OK() : s;
}

}  // namespace

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
  sink(TaskEventJson(r));
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

base::Status ImageService::CheckVdi(const std::string& sr_path,
                                    const std::string& vdi_uuid) {
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
  return sr->NeedSpace(2 * EmptyVhdBytes(vdi.virtual_size),
                       "an image task's snapshot");
}

base::Status ImageService::StoreKey(const std::string& id,
                                    const std::string& key) {
  std::string path = state_dir_ + "/secrets/" + id;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return base::Status::FromErrno(errno, "create " + path);
  bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return base::Status::IOError("cannot store the task's key");
  return base::Status::OK();
}

base::Status ImageService::Create(const std::string& sr_path,
                                  const std::string& sr_uuid,
                                  const std::string& vdi_uuid,
                                  const ImageParams& p,
                                  const std::string& inline_key,
                                  std::string* task_id) {
  if (!inline_key.empty()) RETURN_IF_ERROR(base::ProtectCredentials());
  RETURN_IF_ERROR(CheckImageParams(p, options_.stores, !inline_key.empty()));
  RETURN_IF_ERROR(CheckVdi(sr_path, vdi_uuid));
  for (const char* dir : {"", "/tasks", "/secrets"}) {
    RETURN_IF_ERROR(MkdirPrivate(env_, state_dir_ + dir));
  }
  TaskRecord r;
  r.id = vhd::Uuid::Generate().ToString();
  r.sr_path = sr_path;
  r.sr_uuid = sr_uuid;
  r.vdi_uuid = vdi_uuid;
  r.image = p;
  r.created = base::NowIso();
  if (!inline_key.empty()) RETURN_IF_ERROR(StoreKey(r.id, inline_key));
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
  if (!base::SpawnDetached(options_.helper, {"--run-task", id},
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
    std::unique_ptr<Sr> sr;
    if (Sr::Open(sr_path, &sr).ok()) {
      TaskRun(sr.get(), r, RunContext(r->id))
          .Finish(TaskState::kFailed, base::Status::IOError(message), code);
    } else {
      r->state = TaskState::kFailed;
      r->error_code = code;
      r->error_message = base::SanitizeText(message);
      Save(r);
      Emit(*r);
    }
    syslog(LOG_WARNING, "vhdsm: image task %s failed: %s: %s", r->id.c_str(),
           code.c_str(), r->error_message.c_str());
  } catch (...) {
    // Out of memory at the end of a failure: the record stays as it was.
  }
}

TaskRunContext ImageService::RunContext(const std::string& id) {
  TaskRunContext ctx;
  ctx.env = env_;
  ctx.secret_path = state_dir_ + "/secrets/" + id;
  ctx.stores = &options_.stores;
  ctx.retry_delay_scale = options_.retry_delay_scale;
  ctx.save = [this](TaskRecord* t) { return Save(t); };
  ctx.emit = [this](const TaskRecord& t) { Emit(t); };
  ctx.stopping = [this] { return shutting_down_.load(); };
  return ctx;
}

base::Status ImageService::RunAttempt(const std::string& sr_path,
                                      TaskRecord* r) {
  std::unique_ptr<Sr> sr;
  RETURN_IF_ERROR(Sr::Open(sr_path, &sr));
  return TaskRun(sr.get(), r, RunContext(r->id)).Run();
}

}  // namespace vhdsm
