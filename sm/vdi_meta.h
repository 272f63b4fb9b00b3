// VdiMeta: what the toolstack knows about a VDI that is not in its VHD
// (names, type, snapshot facts), stored as one small JSON file per VDI under
// <sr>/.vhdsm/vdi/<uuid>.json, written atomically (temp, fsync, rename,
// fsync dir).
#ifndef VHDSM_SM_VDI_META_H_
#define VHDSM_SM_VDI_META_H_

#include <string>

#include "base/env.h"

namespace vhdsm {

struct VdiMeta {
  std::string name_label;
  std::string name_description;
  std::string type = "user";  // xapi's vdi_type
  bool read_only = false;
  bool managed = true;
  bool is_a_snapshot = false;
  std::string snapshot_of;    // a VDI uuid, or ""
  std::string snapshot_time;  // "YYYYMMDDTHH:MM:SSZ", or ""

  std::string ToJson() const;
  static base::Status FromJson(const std::string& json, VdiMeta* meta);
};

class MetaStore {
 public:
  MetaStore(base::Env* env, std::string dir)
      : env_(env), dir_(std::move(dir)) {}
  // Missing records read as the defaults (a VDI found on disk by a scan).
  base::Status Get(const std::string& uuid, VdiMeta* meta);
  base::Status Put(const std::string& uuid, const VdiMeta& meta);
  base::Status Remove(const std::string& uuid);

 private:
  std::string Path(const std::string& uuid) const;
  base::Env* env_;
  std::string dir_;
};

}  // namespace vhdsm

#endif  // VHDSM_SM_VDI_META_H_
