// Upload: stream a ByteSource into OpenStack Swift (Rackspace Cloud Files) as
// a segmented large object.
//
// What Upload() does, in order:
//  1. Checks the options; authenticates (SwiftStore::auth); reads the
//     cluster's limits from GET /info where offered (max_file_size,
//     slo.max_manifest_segments; defaults 5 GiB + 2 and 1,000).
//  2. Fails with TOO_LARGE, before anything is written, if a segment exceeds
//     max_file_size or if the worst-case stream size (the source's size, or
//     its uncompressed size plus deflate's worst-case overhead) needs more
//     segments than the manifest can reference: 1,000 for an SLO without
//     nesting, 1,000 x 1,000 with it, 10,000 for a DLO (beyond that Swift
//     no longer reports a DLO's size and ETag).
//  3. Creates the container and the segment container if missing.
//  4. With `resume` and a given run_id, lists the segments of this run
//     already stored (SegmentNames: same object, run, source size and
//     segment size).
//  5. Cuts the stream into segments of segment_size bytes (the last one
//     shorter). The calling thread fills segment buffers from the source
//     (compression runs in the source's own threads, ahead of it) while
//     `parallel_segments` threads PUT them. A thread that picks up a
//     segment still being filled streams it as it fills (chunked transfer)
//     and then checks Swift's ETag against the segment's MD5; a complete
//     segment is sent with its MD5 as the ETag header (Swift refuses a body
//     that does not match it: 422). A mismatch resends the segment once. A
//     segment found in step 4 with the same MD5 and size is not sent again.
//     At most parallel_segments + 1 segment buffers exist (memory, or temp
//     files in spool_dir for segments above memory_segment_limit).
//     Stored segments of the run past the stream's end (an earlier attempt
//     with other data) are deleted.
//  6. Writes the manifest: an SLO (JSON, ?multipart-manifest=put, ETag
//     header = MD5 of the segment ETags; above the cluster's segment limit,
//     sub-manifests of up to that many segments and a manifest of those), or
//     a DLO (X-Object-Manifest: <segment container>/<prefix>). The manifest
//     carries X-Object-Meta-Vhdsm-Md5 (MD5 of the whole stream) and
//     X-Object-Meta-Vhdsm-Bytes, plus `metadata`.
//  7. Verifies with a HEAD that the object's Content-Length and ETag are
//     what was sent (VERIFY_FAILED otherwise).
// On failure or cancel, the segments of this run (those found by resume
// included) are deleted, unless keep_segments_on_failure; a later Upload()
// with the same run_id and resume then sends only what is missing.
//
// Requests go through SwiftStore::transport and are retried per
// SwiftStore::retry (see swift_session.h); errors
// carry the codes of upload_error.h and never credentials. `progress` is
// called after every stored segment and once at the end, from upload
// threads but never concurrently; it must not block for long. `cancelled`
// is polled from several threads (make it thread-safe); once it returns
// true the upload stops within about a second and returns CANCELLED.
#ifndef VHDSM_UPLOAD_UPLOADER_H_
#define VHDSM_UPLOAD_UPLOADER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "upload/auth.h"
#include "upload/byte_source.h"
#include "upload/http_transport.h"
#include "upload/retry_policy.h"
#include "upload/swift_session.h"
#include "upload/upload_error.h"

namespace upload {

// Where to upload: credentials, TLS and timeouts, retry policy, and how to
// reach it.
struct SwiftStore {
  AuthOptions auth;
  HttpOptions http;  // its `cancelled` is ignored: use UploadOptions'
  RetryPolicy retry;
  // Makes each thread's transport; empty: libcurl (NewHttpClient).
  HttpTransportFactory transport;
};

enum class ManifestKind { kSlo, kDlo };

struct ProgressInfo {
  // Uncompressed bytes consumed, as of the last stored segment, and their
  // total (-1 if unknown). This is the figure with a known total: use it
  // for percentages, rate and ETA.
  uint64_t source_bytes_done = 0;
  int64_t source_bytes_total = -1;
  uint64_t bytes_stored = 0;      // stream (compressed) bytes stored
  uint64_t segments_done = 0;     // stored: uploaded + found by resume
  uint64_t segments_skipped = 0;  // of which found by resume
  int64_t segments_total = -1;    // -1 until the end of the stream is seen
  double rate_bytes_per_s = 0;    // source bytes/s over the last ~10 s
  double eta_s = -1;              // -1 if unknown
  double elapsed_s = 0;
};

using ProgressFn = std::function<void(const ProgressInfo&)>;

constexpr uint64_t kMaxSegmentSize = 5ULL << 30;

struct UploadOptions {
  std::string container;
  std::string object;
  std::string segment_container;         // default: container + "_segments"
  uint64_t segment_size = 100ULL << 20;  // 1 byte .. 5 GiB
  int parallel_segments = 2;             // PUTs in flight, 1 .. 32
  ManifestKind manifest = ManifestKind::kSlo;
  bool allow_nested_manifests = true;
  std::string run_id;  // segment-name stamp; empty: NewRunId()
  bool resume = true;  // reuse segments of this run already stored
  bool keep_segments_on_failure = false;
  std::string content_type = "application/octet-stream";
  std::map<std::string, std::string> metadata;  // X-Object-Meta-<key>
  uint64_t memory_segment_limit = 256ULL << 20;
  std::string spool_dir;  // for larger segments; empty: $TMPDIR or /tmp
  ProgressFn progress;
  LogFn log;
  std::function<bool()> cancelled;
};

struct UploadResult {
  UploadError error = UploadError::kNone;
  std::string run_id;
  std::string segment_container;
  std::string segment_prefix;  // SegmentNames::prefix()
  uint64_t source_bytes = 0;   // uncompressed bytes consumed
  uint64_t object_bytes = 0;   // the object's size (stream bytes)
  std::string object_md5;      // MD5 hex of the whole stream
  std::string etag;            // the large object's ETag (unquoted)
  uint64_t segments_total = 0;
  uint64_t segments_uploaded = 0;  // sent in this call
  uint64_t segments_skipped = 0;   // found stored (resume)
  uint64_t sub_manifests = 0;      // nested SLO manifests written
  uint64_t segments_deleted = 0;   // removed on failure or cancel
  SessionStats http;
  double seconds = 0;
};

// `stream` is read by the calling thread only. result is filled on failure
// too (error, counts so far).
base::Status Upload(const SwiftStore& store, const UploadOptions& options,
                    ByteSource* stream, UploadResult* result);

// Deletes an uploaded large object: an SLO with its segments
// (?multipart-manifest=delete), or a DLO manifest and every segment under
// its prefix. NOT_FOUND-like answers count as done.
base::Status DeleteLargeObject(const SwiftStore& store,
                               const std::string& container,
                               const std::string& object);

}  // namespace upload

#endif  // VHDSM_UPLOAD_UPLOADER_H_
