#include "image/task_run.h"

#include <algorithm>

#include "base/clock.h"
#include "base/sanitize.h"
#include "image/chain_image_source.h"
#include "upload/image_stream.h"
#include "upload/segment_names.h"
#include "upload/upload_error.h"
#include "vhd/format.h"
#include "vhd/uuid.h"

namespace vhdsm {

TaskRun::TaskRun(Sr* sr, TaskRecord* record, TaskRunContext context)
    : sr_(sr),
      r_(*record),
      ctx_(std::move(context)),
      cancel_marker_(sr->path() + "/.vhdsm/tasks/" + record->id + ".cancel") {}

bool TaskRun::Cancelled() { return sr_->env()->Exists(cancel_marker_); }

base::Status TaskRun::Run() {
  if (Cancelled()) return Finish(TaskState::kCancelled, base::Status::OK(), "");
  for (auto phase : {&TaskRun::PrepareSnapshot, &TaskRun::OpenImageStream,
                     &TaskRun::ResolveStore, &TaskRun::Upload}) {
    base::Status s = (this->*phase)();
    if (!s.ok() || ended_) return s;
  }
  return Finish(TaskState::kDone, base::Status::OK(), "");
}

base::Status TaskRun::Checkpoint() {
  ended_ = true;
  return ctx_.save(&r_);
}

base::Status TaskRun::Finish(TaskState state, const base::Status& why,
                             const std::string& code) {
  ended_ = true;
  r_.state = state;
  if (state == TaskState::kDone) r_.progress = 100;
  if (!why.ok()) {
    r_.error_code = code;
    r_.error_message = base::SanitizeText(why.message());
  }
  if (!r_.snapshot_uuid.empty() && sr_->DeleteVdi(r_.snapshot_uuid).ok()) {
    r_.snapshot_uuid.clear();
  }
  // The end is recorded first: a task killed before its record says so
  // resumes, and needs its key; the key of a finished one is removed by
  // the next ResumeAll should a kill come before these unlinks.
  base::Status saved = ctx_.save(&r_);
  if (saved.ok()) {
    if (!ctx_.secret_path.empty()) ctx_.env->Unlink(ctx_.secret_path);
    sr_->env()->Unlink(cancel_marker_);
  }
  ctx_.emit(r_);
  GcReport gr;
  sr_->Gc(GcOptions(), &gr);  // best effort: fold the released snapshot
  return saved;
}

base::Status TaskRun::PrepareSnapshot() {
  r_.state = TaskState::kCreating;
  r_.progress = 25;
  RETURN_IF_ERROR(ctx_.save(&r_));
  ctx_.emit(r_);
  if (r_.snapshot_uuid.empty() ||
      !sr_->env()->Exists(sr_->VdiPath(r_.snapshot_uuid))) {
    base::Status s = TakeSnapshot();
    if (!s.ok() || ended_) return s;
  }
  if (r_.run_id.empty()) {
    r_.image_uuid = vhd::Uuid::Generate().ToString();
    r_.image_timestamp = vhd::VhdTimeNow();
    r_.run_id = upload::NewRunId();
    RETURN_IF_ERROR(ctx_.save(&r_));
  }
  if (ctx_.stopping()) return Checkpoint();  // resumes at the next start
  if (Cancelled()) return Finish(TaskState::kCancelled, base::Status::OK(), "");
  return base::Status::OK();
}

base::Status TaskRun::TakeSnapshot() {
  // The snapshot's uuid is recorded before the snapshot exists: a task
  // killed in between resumes with it, or releases it, and never leaves a
  // VDI behind that no record names. A new snapshot is a new image: what
  // an earlier attempt uploaded is not resumed.
  if (r_.snapshot_uuid.empty()) {
    r_.snapshot_uuid = vhd::Uuid::Generate().ToString();
  }
  r_.image_uuid.clear();
  r_.run_id.clear();
  RETURN_IF_ERROR(ctx_.save(&r_));
  GcOptions go;
  go.wait = true;
  go.leaf_coalesce = false;  // the VDI may be in use
  go.should_stop = [this] { return ctx_.stopping() || Cancelled(); };
  GcReport gr;
  base::Status s = sr_->Gc(go, &gr);
  if (!s.ok()) return Fail(s);
  VdiMeta m;
  m.name_label = "image of " + r_.vdi_uuid;
  m.is_a_snapshot = true;
  m.snapshot_of = r_.vdi_uuid;
  m.read_only = true;
  Vdi snap;
  s = sr_->SnapshotVdi(r_.vdi_uuid, SnapshotKind::kDouble, m, &snap,
                       r_.snapshot_uuid);
  return s.ok() ? s : Fail(s);
}

base::Status TaskRun::OpenImageStream() {
  r_.state = TaskState::kUploading;
  r_.progress = 50;
  vhd::Uuid image_uuid;
  if (!vhd::Uuid::Parse(r_.image_uuid, &image_uuid)) {
    return Fail(base::Status::Corruption("task record: bad image_uuid"));
  }
  std::unique_ptr<ChainImageSource> chain;
  // The SR's confined Env: the chain never leaves the SR.
  base::Status s =
      ChainImageSource::Open(sr_->env(), sr_->VdiPath(r_.snapshot_uuid),
                             image_uuid, r_.image_timestamp, &chain);
  if (!s.ok()) return Fail(s);
  r_.image_bytes = static_cast<uint64_t>(chain->Size());
  r_.phase_bytes_total = r_.image_bytes;
  RETURN_IF_ERROR(ctx_.save(&r_));
  ctx_.emit(r_);
  upload::ImageStreamOptions io;
  if (!upload::ParseImageFormat(r_.image.format, &io.format)) {
    return Fail(base::Status::InvalidArgument("image: unknown format"),
                "INVALID_ARGUMENT");
  }
  io.gzip.level = r_.image.compression_level;
  io.tar.mtime = vhd::UnixTimeFromVhd(r_.image_timestamp);
  s = upload::NewImageStream(std::move(chain), io, &image_);
  return s.ok() ? s : Fail(s, "INVALID_ARGUMENT");
}

base::Status TaskRun::ResolveStore() {
  std::string key;
  if (r_.image.store.empty() &&
      !base::ReadFileToString(ctx_.env, ctx_.secret_path, &key, 4096).ok()) {
    return Fail(base::Status::InvalidArgument(
                    "the task's credentials are gone (inline keys do not "
                    "survive the end of a task)"),
                "AUTH_FAILED");
  }
  base::Status s = vhdsm::ResolveStore(r_.image, *ctx_.stores, key,
                                       ctx_.retry_delay_scale, &store_);
  return s.ok() ? s : Fail(s, "INVALID_ARGUMENT");
}

void TaskRun::OnProgress(const upload::ProgressInfo& pi, uint64_t floor) {
  r_.phase_bytes_done = std::max<uint64_t>(floor, pi.source_bytes_done);
  if (pi.source_bytes_total >= 0) r_.phase_bytes_total = pi.source_bytes_total;
  r_.rate_bytes_per_s = pi.rate_bytes_per_s;
  r_.eta_s = pi.eta_s;
  r_.segments_done = pi.segments_done;
  r_.segments_total = pi.segments_total;
  r_.segments_skipped = pi.segments_skipped;
  double now = base::MonotonicSeconds();
  if (now - last_save_ >= 1.0) {
    last_save_ = now;
    ctx_.save(&r_);
    ctx_.emit(r_);
  }
}

upload::UploadOptions TaskRun::UploadOptionsFor(bool* user_cancel) {
  const ImageParams& p = r_.image;
  upload::UploadOptions uo;
  uo.container = p.container;
  uo.object = p.object;
  uo.segment_size = p.segment_size;
  uo.parallel_segments = p.parallel_segments;
  uo.manifest = p.manifest == "dlo" ? upload::ManifestKind::kDlo
                                    : upload::ManifestKind::kSlo;
  uo.run_id = r_.run_id;
  uo.resume = true;
  uo.keep_segments_on_failure = p.keep_segments;
  uo.metadata["vhdsm-vdi"] = r_.vdi_uuid;
  uo.metadata["vhdsm-format"] = p.format;
  uo.spool_dir = sr_->path() + "/.vhdsm/tasks";
  // A resumed upload re-reads the image from its start (to find the stored
  // segments); the bytes shown never go back.
  uo.progress = [this, floor = r_.phase_bytes_done](
                    const upload::ProgressInfo& pi) { OnProgress(pi, floor); };
  uo.cancelled = [this, user_cancel] {
    if (ctx_.stopping()) return true;
    double now = base::MonotonicSeconds();
    if (now - last_cancel_check_ >= 0.5) {
      last_cancel_check_ = now;
      *user_cancel = Cancelled();
    }
    return *user_cancel;
  };
  return uo;
}

base::Status TaskRun::Upload() {
  bool user_cancel = false;
  upload::UploadOptions uo = UploadOptionsFor(&user_cancel);
  upload::UploadResult ur;
  base::Status s = upload::Upload(store_, uo, image_.get(), &ur);
  r_.segments_skipped = ur.segments_skipped;
  if (!s.ok()) {
    upload::UploadError e = upload::ErrorOf(s);
    if (e != upload::UploadError::kCancelled) {
      return Fail(s, upload::UploadErrorName(e));
    }
    // Not the user's cancel: the service is stopping; resumes later.
    if (!user_cancel) return Checkpoint();
    return Finish(TaskState::kCancelled, base::Status::OK(), "");
  }
  r_.phase_bytes_done = r_.phase_bytes_total;
  r_.object_bytes = ur.object_bytes;
  r_.object_md5 = ur.object_md5;
  r_.etag = ur.etag;
  r_.segments_done = ur.segments_total;
  r_.segments_total = static_cast<int64_t>(ur.segments_total);
  r_.eta_s = 0;
  return base::Status::OK();
}

}  // namespace vhdsm
