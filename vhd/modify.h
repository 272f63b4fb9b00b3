// In-place metadata edits of vhd-util modify: relink (change the parent),
// drop all data, move the footer out (set the physical size).
//
// Relink rewrites each existing MacX/W2ku/W2ru locator in its own slot (the
// new path must fit: kNameTooLong otherwise, as blktap's ENAMETOOLONG), then
// the header with the new parent's uuid, name and timestamp. Between the two
// writes the locators and the header name point at different parents; readers
// here take the first candidate whose uuid matches the header, so a crash at
// any point leaves a child that opens on the old or the new parent, and a
// re-run finishes the job.
#ifndef VHDSM_VHD_MODIFY_H_
#define VHDSM_VHD_MODIFY_H_

#include <cstdint>
#include <string>

#include "base/env.h"

namespace vhd {

struct RelinkOptions {
  bool raw_parent = false;  // -m
  // Refuse when the new parent's content differs from the old one's anywhere
  // the child does not cover (i.e. the relink would change the guest view).
  bool check_content = false;
};

base::Status Relink(base::Env* env, const std::string& child,
                    const std::string& parent, const RelinkOptions& options);

// Marks every block unallocated (vhd-util modify -z).
base::Status KillData(base::Env* env, const std::string& path);

// Writes the footer at `size` - 512 (vhd-util modify -s): preallocates room
// for growth; `size` must not be below the current physical size (for a
// fixed disk: its data plus the footer).
base::Status SetPhysicalSize(base::Env* env, const std::string& path,
                             uint64_t size);

}  // namespace vhd

#endif  // VHDSM_VHD_MODIFY_H_
