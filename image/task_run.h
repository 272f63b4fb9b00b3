// TaskRun: one run of a loaded, unfinished image task, as phases
// (image_task.h tells the states a person sees):
//
//   PrepareSnapshot  creating: coalesce the SR's chains, take (or reuse)
//                    the read-only snapshot, fix the image's uuid,
//                    timestamp and segment stamp
//   OpenImageStream  uploading: the snapshot's chain as one VHD, in the
//                    task's format (vhd or tgz)
//   ResolveStore     the object store and its credentials
//   Upload           the segments and the manifest (the uploader verifies
//                    what the store holds)
//   Finish           the end: done, failed (with an error code) or
//                    cancelled; the snapshot released, the task's key and
//                    cancel marker removed, the record saved
//
// A phase that fails ends the task itself (Finish, failed with a code) and
// returns OK; a non-OK return means the record itself could not be saved.
// After any phase, ended() says whether the run is over: finished, or
// checkpointed because the service is stopping (the task resumes later).
// The cancel marker (<sr>/.vhdsm/tasks/<id>.cancel) is looked at before
// each phase and, while uploading, about twice a second.
#ifndef VHDSM_IMAGE_TASK_RUN_H_
#define VHDSM_IMAGE_TASK_RUN_H_

#include <functional>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "image/image_store.h"
#include "image/task_record.h"
#include "sm/sr.h"
#include "upload/byte_source.h"
#include "upload/uploader.h"

namespace vhdsm {

struct TaskRunContext {
  base::Env* env = nullptr;  // where the task's key is (not the SR)
  std::string secret_path;   // the task's inline key
  const StoreMap* stores = nullptr;
  double retry_delay_scale = 1.0;
  std::function<base::Status(TaskRecord*)> save;
  std::function<void(const TaskRecord&)> emit;
  std::function<bool()> stopping;  // the service shuts down
};

class TaskRun {
 public:
  TaskRun(Sr* sr, TaskRecord* record, TaskRunContext context);

  // Every phase in order, to the end (or a checkpoint).
  base::Status Run();

  base::Status PrepareSnapshot();
  base::Status OpenImageStream();
  base::Status ResolveStore();
  base::Status Upload();
  base::Status Finish(TaskState state, const base::Status& why,
                      const std::string& code);

  bool ended() const { return ended_; }
  bool Cancelled();
  const upload::SwiftStore& store() const { return store_; }
  upload::ByteSource* image() { return image_.get(); }

 private:
  base::Status Fail(const base::Status& s, const std::string& code) {
    return Finish(TaskState::kFailed, s, code);
  }
  base::Status Fail(const base::Status& s) {
    return Fail(s, base::Status::CodeName(s.code()));
  }
  base::Status Checkpoint();
  base::Status TakeSnapshot();
  upload::UploadOptions UploadOptionsFor(bool* user_cancel);
  void OnProgress(const upload::ProgressInfo& pi, uint64_t floor);

  Sr* sr_;
  TaskRecord& r_;
  TaskRunContext ctx_;
  std::string cancel_marker_;
  bool ended_ = false;
  std::unique_ptr<upload::ByteSource> image_;
  upload::SwiftStore store_;
  double last_save_ = 0;
  double last_cancel_check_ = 0;
};

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_TASK_RUN_H_
