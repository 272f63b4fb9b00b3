// The image methods of the plugin's XML-RPC face (extensions to SMAPIv1):
//   image_create  {device_config, sr_uuid, vdi_location, image: {...}}
//                 -> the new task's id (image_task.h runs it)
//   task_status   {task_id} -> the task's record as a struct of strings
//   task_cancel   {task_id} -> nil
//   task_list     {} -> the ids of every known task
//   task_resume   {task_id} -> nil; runs the task in the calling thread
//                 when run_tasks_inline (a worker process), else restarts
//                 every unfinished task in the background
// They take one struct param like the SMAPIv1 commands and fail with the
// same fault codes (sm/fault_codes.h): a bad argument is 143 (checked
// before anything else, so even without an ImageService), an unknown VDI
// 144, an unknown task 202 "no task <id>", no ImageService 38.
#ifndef VHDSM_IMAGE_IMAGE_METHODS_H_
#define VHDSM_IMAGE_IMAGE_METHODS_H_

#include "image/image_task.h"
#include "sm/smapi.h"

namespace vhdsm {

struct ImageMethodsOptions {
  // nullptr: every method but image_create's argument checks faults 38.
  ImageService* images = nullptr;
  // task_resume runs the task in the calling thread rather than starting it
  // in the background.
  bool run_tasks_inline = false;
};

// Adds the image methods to `plugin` (before its first Handle). `options`
// is copied; its ImageService must outlive the plugin.
void RegisterImageMethods(Plugin* plugin, const ImageMethodsOptions& options);

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_IMAGE_METHODS_H_
