// Image tasks: turn a VDI into a cloud image in an object store, with
// progress a person can trust (DESIGN.md section 5).
//
//   progress  state      what happens
//   0         queued     the task is recorded; image_create returns its id
//   25        creating   the SR's chains are coalesced (GC) and the VDI is
//                        snapshotted: the snapshot's chain is the image,
//                        read-only; the VDI stays usable and unchanged
//   50        uploading  the snapshot's chain, streamed as one standalone
//                        VHD (vhd::VhdStream), gzip'd on all cores (tgz: as
//                        0.vhd in a ustar archive) and uploaded in segments
//                        with a manifest (upload/)
//   100       done       the manifest verified; the snapshot released
//   -         failed / cancelled: an error code and message; the snapshot
//             released, the segments removed; the VDI untouched
//
// A task's record (TaskRecord) lives in <sr>/.vhdsm/tasks/<id>.json,
// written atomically at each change of state and about once a second while
// uploading; an index in the state directory maps task ids to SRs. A task
// interrupted by a crash or restart resumes (ResumeAll, or `vhdsm task
// resume`): the snapshot is reused and only missing segments are sent,
// because the image stream is byte-identical (fixed uuid and timestamp).
// Runs are counted in the record before they start: a task whose runs ended
// their process abnormally twice (a kill, a crash) ends failed with
// error_code QUARANTINED instead of being resumed a third time. An exception
// in a run ends the task failed with error_code INTERNAL. Text from servers
// and files is sanitized (base::SanitizeText) before it enters a record.
//
// Files: image_params.h (what an image is), image_store.h (where it goes),
// task_record.h (the record), task_run.h (a run, phase by phase),
// chain_image_source.h (the snapshot as a VHD stream); this file keeps the
// index, the threads or processes, and the resume.
//
// Secrets never enter a task record: credentials come from a configured
// store by name, or, given inline, are kept in <state>/secrets/<id> (0600,
// root only, outside the SR) until the task ends.
#ifndef VHDSM_IMAGE_IMAGE_TASK_H_
#define VHDSM_IMAGE_IMAGE_TASK_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "image/image_params.h"
#include "image/image_store.h"
#include "image/task_record.h"

namespace vhdsm {

struct TaskRunContext;  // task_run.h

struct ImageServiceOptions {
  // Holds the task index and inline secrets (created 0700).
  std::string state_dir;
  // Tasks run in threads of the service, or in detached processes
  // "<helper> --run-task <id>" (exec hosts) given `config_path` as their
  // configuration.
  bool run_in_process = true;
  std::string helper;
  std::string config_path;
  // The stores tasks may name, and what a new task starts from.
  StoreMap stores;
  ImageParams defaults;
  // Multiplies the uploader's backoff delays ([image] retry_delay_scale:
  // tests and operators shorten them; 1 keeps swiftclient's policy).
  double retry_delay_scale = 1.0;
};

class ImageService {
 public:
  ImageService(base::Env* env, ImageServiceOptions options);
  ~ImageService();

  // What an image_create call starts from before its own members.
  const ImageParams& defaults() const { return options_.defaults; }

  // Records a new task and starts it; returns its id at once.
  base::Status Create(const std::string& sr_path, const std::string& sr_uuid,
                      const std::string& vdi_uuid, const ImageParams& params,
                      const std::string& inline_key, std::string* task_id);
  base::Status Get(const std::string& task_id, TaskRecord* record);
  base::Status Cancel(const std::string& task_id);
  base::Status List(std::vector<std::string>* ids);
  // Starts (again) every unfinished task of the index.
  base::Status ResumeAll();
  // Runs one task to its end in this thread (the --run-task entry point, and
  // `vhdsm task resume`).
  base::Status Run(const std::string& task_id);
  // Stops running tasks at their next checkpoint (they resume later).
  void Shutdown();

  // Events: one JSON line per change of a task's state or progress.
  void SetEventSink(std::function<void(const std::string&)> sink);

 private:
  base::Status Locate(const std::string& id, std::string* sr_path);
  base::Status Load(const std::string& sr_path, const std::string& id,
                    TaskRecord* r);
  base::Status Save(TaskRecord* r);
  void Start(const std::string& task_id);
  // Create's steps: the VDI may be imaged; the task's key kept apart.
  base::Status CheckVdi(const std::string& sr_path,
                        const std::string& vdi_uuid);
  base::Status StoreKey(const std::string& id, const std::string& key);
  // One run of a loaded, unfinished task (task_run.h).
  base::Status RunAttempt(const std::string& sr_path, TaskRecord* r);
  // What a run of task `id` reaches the service through.
  TaskRunContext RunContext(const std::string& id);
  // Ends a task as failed with `code` without running it: the snapshot
  // released, the record saved, the key removed. Never throws.
  void Abandon(const std::string& sr_path, TaskRecord* r,
               const std::string& code, const std::string& message) noexcept;
  void Emit(const TaskRecord& r);
  std::string TaskPath(const std::string& sr, const std::string& id) const;

  base::Env* env_;
  const ImageServiceOptions options_;
  const std::string& state_dir_ = options_.state_dir;
  std::atomic<bool> shutting_down_{false};
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::map<std::string, bool> running_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_IMAGE_TASK_H_
