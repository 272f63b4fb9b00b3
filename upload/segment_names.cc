#include "upload/segment_names.h"

#include <chrono>
#include <cstdio>

namespace upload {

SegmentNames::SegmentNames(std::string object, std::string run,
                           uint64_t source_size, uint64_t segment_size)
    : prefix_(object + "/" + run + "/" + std::to_string(source_size) + "/" +
              std::to_string(segment_size) + "/") {}

std::string SegmentNames::Segment(uint64_t index) const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08llu",
                static_cast<unsigned long long>(index));
  return prefix_ + buf;
}

std::string SegmentNames::SubManifest(uint64_t group) const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "manifest/%08llu",
                static_cast<unsigned long long>(group));
  return prefix_ + buf;
}

bool SegmentNames::ParseSegment(const std::string& name,
                                uint64_t* index) const {
  if (name.size() < prefix_.size() + 8 ||
      name.compare(0, prefix_.size(), prefix_) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = prefix_.size(); i < name.size(); ++i) {
    char c = name[i];
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  // Only the canonical spelling (at least 8 digits, no extra leading zero).
  if (name != Segment(v)) return false;
  *index = v;
  return true;
}

std::string NewRunId() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%lld.%06lld",
                static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  return buf;
}

}  // namespace upload
