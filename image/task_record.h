// TaskRecord: what an image task has done, as kept in
// <sr>/.vhdsm/tasks/<id>.json (image_task.h says when it is written).
//
// ToJson never throws, whatever bytes a server or file put in a field
// (invalid UTF-8 is replaced). FromJson refuses anything that is not a
// record (wrong types, an unknown state) with kCorruption, never an
// exception; a member of "image" the text lacks is taken from `defaults`.
#ifndef VHDSM_IMAGE_TASK_RECORD_H_
#define VHDSM_IMAGE_TASK_RECORD_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "image/image_params.h"

namespace vhdsm {

// A task's state; its wire and record name is TaskStateName's.
enum class TaskState {
  kQueued,     // "queued"
  kCreating,   // "creating"
  kUploading,  // "uploading"
  kDone,       // "done"
  kFailed,     // "failed"
  kCancelled,  // "cancelled"
};

const char* TaskStateName(TaskState state);
// False for a name that is no state.
bool ParseTaskState(const std::string& name, TaskState* state);

struct TaskRecord {
  std::string id;
  std::string sr_path;
  std::string sr_uuid;
  std::string vdi_uuid;
  TaskState state = TaskState::kQueued;
  int progress = 0;
  ImageParams image;
  // Filled as the task goes.
  std::string snapshot_uuid;  // the read-only snapshot being uploaded
  std::string image_uuid;     // of the streamed VHD (fixed for resume)
  uint32_t image_timestamp = 0;
  std::string run_id;  // the uploader's segment-name stamp
  uint64_t phase_bytes_done = 0;
  uint64_t phase_bytes_total = 0;
  double rate_bytes_per_s = 0;
  double eta_s = -1;
  uint64_t segments_done = 0;
  int64_t segments_total = -1;
  uint64_t segments_skipped = 0;  // found stored when resuming
  uint64_t image_bytes = 0;       // uncompressed image size
  uint64_t object_bytes = 0;
  std::string object_md5;
  std::string etag;
  std::string error_code;
  std::string error_message;
  int attempts = 0;    // runs started (saved before each run)
  int runs_ended = 0;  // runs that returned (attempts - runs_ended died)
  std::string created;
  std::string updated;

  bool finished() const {
    return state == TaskState::kDone || state == TaskState::kFailed ||
           state == TaskState::kCancelled;
  }
  std::string ToJson() const;
  static base::Status FromJson(const std::string& text, TaskRecord* r,
                               const ImageParams& defaults = ImageParams());
};

// One line of JSON for event sinks: the task's id, state and progress.
std::string TaskEventJson(const TaskRecord& r);

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_TASK_RECORD_H_
