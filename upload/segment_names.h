// Where the segments of an upload live, and what they are called.
//
// Segments go to the segment container (default "<container>_segments"),
// named
//     <object>/<run>/<source size>/<segment size>/<index:08d>
// with index counted from 0 and zero-padded so that names sort in order
// (required by DLOs). <run> is the upload's stamp, by default its start time
// as seconds since the epoch with 6 decimals (like swiftclient's mtime);
// <source size> is the uncompressed stream's size in bytes ("0" if unknown).
// A restarted upload that passes the same run, source and segment size sees
// the same names and can reuse what is stored (resume). A new run never
// overwrites segments that a live manifest points to.
// SLO sub-manifests (uploads of more segments than one manifest may hold)
// are named <prefix>manifest/<group:08d> in the same container.
#ifndef VHDSM_UPLOAD_SEGMENT_NAMES_H_
#define VHDSM_UPLOAD_SEGMENT_NAMES_H_

#include <cstdint>
#include <string>

namespace upload {

class SegmentNames {
 public:
  SegmentNames(std::string object, std::string run, uint64_t source_size,
               uint64_t segment_size);

  // "<object>/<run>/<source size>/<segment size>/"
  const std::string& prefix() const { return prefix_; }
  std::string Segment(uint64_t index) const;
  std::string SubManifest(uint64_t group) const;
  // True if `name` is Segment(i) for some i, and sets *index.
  bool ParseSegment(const std::string& name, uint64_t* index) const;

 private:
  std::string prefix_;
};

// The current time as "<seconds>.<microseconds>".
std::string NewRunId();

}  // namespace upload

#endif  // VHDSM_UPLOAD_SEGMENT_NAMES_H_
