#include "upload/uploader.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/sanitize.h"
#include "upload/http_client.h"
#include "upload/md5.h"
#include "upload/object_names.h"
#include "upload/segment_buffer.h"
#include "upload/segment_names.h"
#include "upload/slo_manifest.h"

namespace upload {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kDefaultMaxFileSize = 5368709122ULL;  // Swift: 5 GiB + 2
constexpr uint64_t kDefaultMaxManifestSegments = 1000;
constexpr uint64_t kDloMaxSegments = 10000;  // DLO: listing-based size/ETag

uint64_t CeilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Stands in for a transport a factory failed to make: every request fails
// as one that retrying cannot fix.
class NoTransport : public HttpTransport {
 public:
  base::Status Perform(const HttpRequest& request,
                       HttpResponse* response) override {
    *response = HttpResponse();
    response->transport = Transport::kFatal;
    return base::Status::IOError(request.method + " " + request.url +
                                 ": no HTTP transport");
  }
};

// One thread's transport: the store's factory's, or libcurl's.
std::unique_ptr<HttpTransport> NewTransport(const SwiftStore& store,
                                            const HttpOptions& options) {
  std::unique_ptr<HttpTransport> t =
      store.transport ? store.transport(options) : NewHttpClient(options);
  if (t == nullptr) t = std::make_unique<NoTransport>();
  return t;
}

// A string member of a server's JSON object, "" when absent or of another
// type (json::value() would throw on the type).
std::string StrMember(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// What a storage listing says about one stored segment.
struct StoredSegment {
  std::string md5;
  uint64_t size = 0;
};

// Lists the objects under `prefix` in `container` (all pages).
base::Status ListPrefix(SwiftSession* session, HttpTransport* http,
                        const std::string& container, const std::string& prefix,
                        std::vector<json>* objects) {
  std::string marker;
  for (;;) {
    std::string path =
        "/" + UrlEncode(container, false) +
        "?format=json&limit=10000&prefix=" + UrlEncode(prefix, false);
    if (!marker.empty()) path += "&marker=" + UrlEncode(marker, false);
    HttpResponse resp;
    RETURN_IF_ERROR(session->Call(http, "GET", path,
                                  {"Accept: application/json"}, {}, &resp,
                                  CallOptions::NotFoundOk()));
    if (resp.status == 404 || resp.status == 204) return base::Status::OK();
    json page = json::parse(resp.body, nullptr, false);
    if (!page.is_array()) {
      return MakeError(UploadError::kRejected,
                       "listing of " + container + " is not a JSON array");
    }
    if (page.empty()) return base::Status::OK();
    for (json& o : page) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        continue;
      }
      std::string name = o["name"].get<std::string>();
      // Listed names are the server's: never sent back if they break the
      // rules (a ".." segment would reach outside the container), and a
      // listing must move forward, or a hostile server could loop us.
      if (name <= marker) {
        return MakeError(UploadError::kRejected,
                         "listing of " + container + " does not advance");
      }
      marker = name;
      if (!CheckObjectName(name).ok()) continue;
      objects->push_back(std::move(o));
    }
    if (page.size() < 10000) return base::Status::OK();
  }
}

class UploadRun {
 public:
  UploadRun(const SwiftStore& store, const UploadOptions& options,
            ByteSource* stream, UploadResult* result)
      : store_(store),
        options_(options),
        stream_(stream),
        result_(result),
        session_(
            store.auth, store.retry, [this] { return Stopping(); },
            options.log),
        start_(Clock::now()) {}

  base::Status Run();

 private:
  base::Status Validate();
  void ReadClusterInfo();
  base::Status CheckCapacity();
  base::Status CreateContainers();
  base::Status ListStored();
  // Cuts the stream into segments (this thread) while workers send them.
  base::Status Pump();
  base::Status MakeBuffers(std::vector<std::unique_ptr<SegmentBuffer>>* out);
  SegmentBuffer* TakeFreeBuffer();  // null once stopping
  void GiveBack(SegmentBuffer* buf);
  // Fills segment `index` and queues it; false when there is no next one
  // (the stream ended, or the upload failed or was cancelled).
  bool ProduceSegment(uint64_t index, Md5* whole, uint64_t* total);
  struct Job {
    uint64_t index;
    SegmentBuffer* buffer;
  };
  void GuardedWorker();
  void Worker();
  bool NextJob(Job* job);  // false when there is nothing more to send
  // Sends one segment, or (*skipped) finds it stored already.
  base::Status SendSegment(HttpTransport* http, const Job& job, bool* skipped);
  base::Status PutSlo(const std::string& container, const std::string& name,
                      const std::vector<ManifestEntry>& entries,
                      bool top_level);
  // Deletes stored segments of this run beyond the end of the stream (left
  // by an earlier attempt with other data): a DLO would include them.
  base::Status RemoveStaleSegments();
  base::Status WriteManifest();
  base::Status Verify();
  void Cleanup();
  void ReportProgress(bool final);
  void Fail(const base::Status& st);
  bool Stopping() {
    if (stop_.load()) return true;
    if (options_.cancelled && options_.cancelled()) {
      stop_.store(true);
      return true;
    }
    return false;
  }
  HttpOptions HttpOpts() {
    HttpOptions h = store_.http;
    h.cancelled = [this] { return Stopping(); };
    return h;
  }
  uint64_t CapacityInSegments() const {
    if (options_.manifest == ManifestKind::kDlo) return kDloMaxSegments;
    return options_.allow_nested_manifests
               ? max_manifest_segments_ * max_manifest_segments_
               : max_manifest_segments_;
  }
  std::string SegmentPath(const std::string& name) const {
    return "/" + UrlEncode(segment_container_, false) + "/" +
           UrlEncode(name, true);
  }
  std::string ObjectPath() const {
    return "/" + UrlEncode(options_.container, false) + "/" +
           UrlEncode(options_.object, true);
  }

  const SwiftStore& store_;
  const UploadOptions& options_;
  ByteSource* stream_;
  UploadResult* result_;
  SwiftSession session_;
  std::unique_ptr<HttpTransport> http_;  // the calling thread's
  const Clock::time_point start_;

  std::string segment_container_;
  std::unique_ptr<SegmentNames> names_;
  uint64_t max_file_size_ = kDefaultMaxFileSize;
  uint64_t max_manifest_segments_ = kDefaultMaxManifestSegments;
  bool slo_heartbeat_ = false;
  std::map<uint64_t, StoredSegment> stored_;  // found by resume
  bool wrote_segments_ = false;
  bool wrote_manifest_ = false;

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<SegmentBuffer*> free_buffers_;
  bool producer_done_ = false;
  base::Status error_;
  std::vector<ManifestEntry> segments_;  // by index
  uint64_t segments_done_ = 0;
  uint64_t segments_skipped_ = 0;
  uint64_t segments_uploaded_ = 0;
  uint64_t bytes_stored_ = 0;
  uint64_t source_done_ = 0;
  int64_t segments_total_ = -1;

  std::mutex progress_mu_;
  std::deque<std::pair<Clock::time_point, uint64_t>> rate_window_;
};

void UploadRun::Fail(const base::Status& st) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.ok()) error_ = st;
  }
  stop_.store(true);
  cv_.notify_all();
}

base::Status UploadRun::Validate() {
  auto bad = [](const std::string& m) {
    return MakeError(UploadError::kInvalidArgument, m);
  };
  const UploadOptions& o = options_;
  RETURN_IF_ERROR(CheckContainerName(o.container));
  RETURN_IF_ERROR(CheckContainerName(segment_container_));
  RETURN_IF_ERROR(CheckObjectName(o.object));
  if (o.object.size() > 700) {
    return bad("object name must be 1..700 bytes (segment names add ~60)");
  }
  if (o.segment_size == 0 || o.segment_size > kMaxSegmentSize) {
    return bad("segment size must be 1 byte .. 5 GiB");
  }
  if (o.parallel_segments < 1 || o.parallel_segments > 32) {
    return bad("parallel segments must be 1..32");
  }
  // The run id becomes a path segment of every segment's name.
  if (o.run_id.find('/') != std::string::npos ||
      !CheckObjectName(o.run_id.empty() ? "x" : o.run_id).ok()) {
    return bad("run id must be printable, not '.' or '..', without '/'");
  }
  return base::Status::OK();
}

void UploadRun::ReadClusterInfo() {
  // GET /info at the storage host's root; unauthenticated, optional
  // (Swift >= 1.11 offers it, older clusters and some providers do not).
  std::string url = session_.storage_url();
  size_t v1 = url.find("/v1/");
  if (v1 == std::string::npos) v1 = url.find("/v1");
  if (v1 == std::string::npos) return;
  HttpRequest req;
  req.method = "GET";
  req.url = url.substr(0, v1) + "/info";
  HttpResponse resp;
  if (!http_->Perform(req, &resp).ok() || resp.status != 200) return;
  json info = json::parse(resp.body, nullptr, false);
  if (!info.is_object()) return;
  try {
    if (info.contains("swift") && info["swift"].contains("max_file_size") &&
        info["swift"]["max_file_size"].is_number_unsigned()) {
      max_file_size_ = info["swift"]["max_file_size"].get<uint64_t>();
    }
    if (info.contains("slo")) {
      const json& slo = info["slo"];
      if (slo.contains("max_manifest_segments") &&
          slo["max_manifest_segments"].is_number_unsigned()) {
        max_manifest_segments_ =
            std::max<uint64_t>(1, slo["max_manifest_segments"].get<uint64_t>());
      }
      slo_heartbeat_ = slo.contains("yield_frequency");
    }
  } catch (const json::exception&) {
    // Keep the defaults.
  }
}

base::Status UploadRun::CheckCapacity() {
  if (options_.segment_size > max_file_size_) {
    return MakeError(UploadError::kTooLarge,
                     "segment size " + std::to_string(options_.segment_size) +
                         " exceeds the cluster's max_file_size " +
                         std::to_string(max_file_size_));
  }
  int64_t known = stream_->Size();
  int64_t source = stream_->Progress().total;
  uint64_t worst;
  if (known >= 0) {
    worst = static_cast<uint64_t>(known);
  } else if (source >= 0) {
    // Deflate's worst case (stored blocks) plus framing, generously.
    uint64_t s = static_cast<uint64_t>(source);
    worst = s + s / 16 + (1 << 20);
  } else {
    return base::Status::OK();  // unknown: enforced while cutting segments
  }
  uint64_t needed =
      std::max<uint64_t>(1, CeilDiv(worst, options_.segment_size));
  uint64_t capacity = CapacityInSegments();
  if (needed > capacity) {
    std::string kind =
        options_.manifest == ManifestKind::kDlo
            ? "a DLO"
            : (options_.allow_nested_manifests ? "nested SLO manifests"
                                               : "one SLO manifest");
    return MakeError(UploadError::kTooLarge,
                     "the stream may need " + std::to_string(needed) +
                         " segments of " +
                         std::to_string(options_.segment_size) + " bytes; " +
                         kind + " can reference at most " +
                         std::to_string(capacity) + " (use larger segments" +
                         (options_.manifest == ManifestKind::kSlo &&
                                  !options_.allow_nested_manifests
                              ? " or allow nested manifests)"
                              : ")"));
  }
  return base::Status::OK();
}

base::Status UploadRun::CreateContainers() {
  for (const std::string& c : {options_.container, segment_container_}) {
    HttpResponse resp;
    RETURN_IF_ERROR(session_.Call(http_.get(), "PUT", "/" + UrlEncode(c, false),
                                  {}, {}, &resp));
  }
  return base::Status::OK();
}

base::Status UploadRun::ListStored() {
  std::vector<json> objects;
  RETURN_IF_ERROR(ListPrefix(&session_, http_.get(), segment_container_,
                             names_->prefix(), &objects));
  for (const json& o : objects) {
    uint64_t index;
    if (!names_->ParseSegment(o["name"].get<std::string>(), &index)) continue;
    StoredSegment s;
    if (o.contains("hash") && o["hash"].is_string()) s.md5 = o["hash"];
    if (o.contains("bytes") && o["bytes"].is_number_unsigned()) {
      s.size = o["bytes"].get<uint64_t>();
    }
    stored_[index] = s;
  }
  if (!stored_.empty() && options_.log) {
    options_.log("resume: " + std::to_string(stored_.size()) +
                 " segments of run " + result_->run_id + " already stored");
  }
  return base::Status::OK();
}

void UploadRun::ReportProgress(bool final) {
  if (!options_.progress) return;
  std::lock_guard<std::mutex> pl(progress_mu_);
  ProgressInfo p;
  {
    std::lock_guard<std::mutex> l(mu_);
    p.source_bytes_done = source_done_;
    p.bytes_stored = bytes_stored_;
    p.segments_done = segments_done_;
    p.segments_skipped = segments_skipped_;
    p.segments_total = segments_total_;
  }
  p.source_bytes_total = stream_->Progress().total;
  if (final && p.source_bytes_total >= 0 && error_.ok()) {
    p.source_bytes_done = static_cast<uint64_t>(p.source_bytes_total);
  }
  Clock::time_point now = Clock::now();
  p.elapsed_s = std::chrono::duration<double>(now - start_).count();
  // Rate over the last ~10 s, so that it follows changes (a resumed upload
  // skipping stored segments, a slower network) instead of averaging them
  // into the whole run.
  rate_window_.emplace_back(now, p.source_bytes_done);
  while (rate_window_.size() > 2 &&
         now - rate_window_[1].first > std::chrono::seconds(10)) {
    rate_window_.pop_front();
  }
  const auto& first = rate_window_.front();
  double dt = std::chrono::duration<double>(now - first.first).count();
  if (dt > 0 && p.source_bytes_done >= first.second) {
    p.rate_bytes_per_s = (p.source_bytes_done - first.second) / dt;
  } else if (p.elapsed_s > 0) {
    p.rate_bytes_per_s = p.source_bytes_done / p.elapsed_s;
  }
  if (p.source_bytes_total >= 0 && p.rate_bytes_per_s > 0) {
    uint64_t total = static_cast<uint64_t>(p.source_bytes_total);
    p.eta_s = total > p.source_bytes_done
                  ? (total - p.source_bytes_done) / p.rate_bytes_per_s
                  : 0;
  }
  options_.progress(p);
}

bool UploadRun::NextJob(Job* job) {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_.load() && queue_.empty() && !producer_done_) {
    cv_.wait_for(l, std::chrono::milliseconds(100));
    if (Stopping()) break;
  }
  if (stop_.load() || queue_.empty()) return false;
  *job = queue_.front();
  queue_.pop_front();
  return true;
}

base::Status UploadRun::SendSegment(HttpTransport* http, const Job& job,
                                    bool* skipped) {
  SegmentBuffer* buf = job.buffer;
  const std::string path = SegmentPath(names_->Segment(job.index));
  const std::vector<std::string> type = {
      "Content-Type: application/octet-stream"};
  *skipped = false;
  auto stored = stored_.find(job.index);
  if (stored != stored_.end()) {
    // Resume: the segment's MD5 decides, so wait for all of it.
    if (!buf->WaitSealed()) {
      return MakeError(UploadError::kCancelled, "segment abandoned");
    }
    *skipped =
        stored->second.md5 == buf->md5() && stored->second.size == buf->size();
    if (*skipped) return base::Status::OK();
  }
  HttpResponse resp;
  base::Status st;
  if (buf->sealed()) {
    // Complete already: send its MD5 as ETag; Swift refuses (422) a body
    // that does not match it.
    std::vector<std::string> headers = type;
    headers.push_back("ETag: " + buf->md5());
    st = session_.Call(http, "PUT", path, headers, buf->body(), &resp,
                       CallOptions::Etag(buf->md5()));
  } else {
    // Still being produced: stream it (chunked) as it fills, then check
    // the ETag Swift computed against our MD5.
    CallOptions co;
    co.expected_etag_after = [buf] {
      return buf->WaitSealed() ? buf->md5() : std::string("(abandoned)");
    };
    st = session_.Call(http, "PUT", path, type, buf->stream_body(), &resp, co);
  }
  if (st.ok()) buf->WaitSealed();  // a 2xx answers the whole body
  return st;
}

void UploadRun::Worker() {
  std::unique_ptr<HttpTransport> http = NewTransport(store_, HttpOpts());
  Job job;
  while (NextJob(&job)) {
    bool skipped = false;
    base::Status st = SendSegment(http.get(), job, &skipped);
    {
      std::lock_guard<std::mutex> l(mu_);
      free_buffers_.push_back(job.buffer);
      if (st.ok()) {
        ++segments_done_;
        (skipped ? segments_skipped_ : segments_uploaded_)++;
        bytes_stored_ += job.buffer->size();
        source_done_ = std::max(source_done_, job.buffer->source_done());
      }
    }
    cv_.notify_all();
    if (!st.ok()) {
      // After a cancel or another thread's failure, this failure is only a
      // consequence (an aborted body): keep the first cause.
      if (!Stopping()) Fail(st);
      return;
    }
    ReportProgress(false);
  }
}

void UploadRun::GuardedWorker() {
  // Nothing may escape a thread: an exception fails the upload.
  try {
    Worker();
  } catch (const std::exception& e) {
    Fail(MakeError(UploadError::kInternal,
                   std::string("upload thread: ") + e.what()));
  } catch (...) {
    Fail(MakeError(UploadError::kInternal, "upload thread: unknown exception"));
  }
}

base::Status UploadRun::MakeBuffers(
    std::vector<std::unique_ptr<SegmentBuffer>>* buffers) {
  std::string spool;
  if (options_.segment_size > options_.memory_segment_limit) {
    spool = options_.spool_dir;
    if (spool.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      spool = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
  }
  for (int i = 0; i < options_.parallel_segments + 1; ++i) {
    std::unique_ptr<SegmentBuffer> b;
    base::Status st = SegmentBuffer::New(options_.segment_size, spool, &b);
    if (!st.ok()) return MakeError(UploadError::kInvalidArgument, st.message());
    free_buffers_.push_back(b.get());
    buffers->push_back(std::move(b));
  }
  return base::Status::OK();
}

SegmentBuffer* UploadRun::TakeFreeBuffer() {
  std::unique_lock<std::mutex> l(mu_);
  while (!Stopping() && free_buffers_.empty()) {
    cv_.wait_for(l, std::chrono::milliseconds(100));
  }
  if (Stopping()) return nullptr;
  SegmentBuffer* buf = free_buffers_.back();
  free_buffers_.pop_back();
  return buf;
}

void UploadRun::GiveBack(SegmentBuffer* buf) {
  std::lock_guard<std::mutex> l(mu_);
  free_buffers_.push_back(buf);
}

bool UploadRun::ProduceSegment(uint64_t index, Md5* whole, uint64_t* total) {
  SegmentBuffer* buf = TakeFreeBuffer();
  if (buf == nullptr) return false;
  buf->Reset();
  // The first step decides whether there is a segment at all (a stream
  // ending on a segment boundary leaves nothing for the next one).
  base::Status st = buf->Append(stream_, whole);
  const uint64_t capacity = CapacityInSegments();
  const bool ended = st.ok() && buf->sealed() && buf->size() == 0 && index > 0;
  if (!st.ok()) {
    Fail(SourceError(st));
  } else if (!ended && index >= capacity) {
    Fail(MakeError(UploadError::kTooLarge,
                   "the stream needs more than " + std::to_string(capacity) +
                       " segments of " + std::to_string(options_.segment_size) +
                       " bytes"));
  }
  if (!st.ok() || ended || index >= capacity) {
    GiveBack(buf);
    return false;
  }
  {
    // From here a worker may stream the segment while it fills.
    std::lock_guard<std::mutex> l(mu_);
    wrote_segments_ = true;
    queue_.push_back({index, buf});
  }
  cv_.notify_all();
  while (!buf->sealed() && !Stopping()) {
    st = buf->Append(stream_, whole);
    if (!st.ok()) {
      Fail(SourceError(st));
      break;
    }
  }
  if (!buf->sealed()) {
    buf->Abort();  // wakes the worker streaming it
    return false;
  }
  *total += buf->size();
  {
    std::lock_guard<std::mutex> l(mu_);
    ManifestEntry e;
    e.path = "/" + segment_container_ + "/" + names_->Segment(index);
    e.etag = buf->md5();
    e.size = buf->size();
    segments_.push_back(std::move(e));
  }
  return buf->size() >= options_.segment_size;
}

base::Status UploadRun::Pump() {
  std::vector<std::unique_ptr<SegmentBuffer>> buffers;
  RETURN_IF_ERROR(MakeBuffers(&buffers));
  if (stream_->Size() >= 0) {
    segments_total_ = static_cast<int64_t>(
        std::max<uint64_t>(1, CeilDiv(static_cast<uint64_t>(stream_->Size()),
                                      options_.segment_size)));
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < options_.parallel_segments; ++i) {
    workers.emplace_back([this] { GuardedWorker(); });
  }
  Md5 whole;
  uint64_t total = 0;
  for (uint64_t index = 0; ProduceSegment(index, &whole, &total); ++index) {
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    producer_done_ = true;
    if (error_.ok() && !stop_.load()) {
      segments_total_ = static_cast<int64_t>(segments_.size());
    }
  }
  cv_.notify_all();
  for (auto& t : workers) t.join();
  // Workers are gone: no lock needed from here on.
  result_->source_bytes = stream_->Progress().done;
  result_->segments_uploaded = segments_uploaded_;
  result_->segments_skipped = segments_skipped_;
  result_->segments_total = segments_.size();
  if (!error_.ok()) return error_;
  if (Stopping()) return MakeError(UploadError::kCancelled, "cancelled");
  result_->object_bytes = total;
  result_->object_md5 = whole.Hex();
  return base::Status::OK();
}

base::Status UploadRun::PutSlo(const std::string& container,
                               const std::string& name,
                               const std::vector<ManifestEntry>& entries,
                               bool top_level) {
  const std::string etag = LargeObjectEtag(entries);
  const std::string body = SloManifestJson(entries);
  std::vector<std::string> headers = {
      "ETag: " + etag, "Content-Type: " + (top_level ? options_.content_type
                                                     : "application/json")};
  if (top_level) {
    headers.push_back("X-Object-Meta-Vhdsm-Md5: " + result_->object_md5);
    headers.push_back("X-Object-Meta-Vhdsm-Bytes: " +
                      std::to_string(result_->object_bytes));
    for (const auto& [k, v] : options_.metadata) {
      headers.push_back("X-Object-Meta-" + k + ": " + v);
    }
  }
  // With heartbeat=on (Swift >= 2.16) the proxy answers 202 at once and
  // sends spaces while it checks the segments, so that a manifest of
  // thousands of segments cannot trip the stall timeout; the real status is
  // in the JSON body.
  std::string path = "/" + UrlEncode(container, false) + "/" +
                     UrlEncode(name, true) + "?multipart-manifest=put";
  if (slo_heartbeat_) path += "&heartbeat=on";
  HttpBody b;
  b.data = reinterpret_cast<const uint8_t*>(body.data());
  b.size = body.size();
  HttpResponse resp;
  CallOptions co;
  if (!slo_heartbeat_) co.expected_etag = etag;
  headers.push_back("Accept: application/json");
  RETURN_IF_ERROR(
      session_.Call(http_.get(), "PUT", path, headers, b, &resp, co));
  if (resp.status == 202) {
    json r = json::parse(resp.body, nullptr, false);
    std::string status = StrMember(r, "Response Status");
    if (status.rfind("201", 0) != 0 && status.rfind("200", 0) != 0) {
      std::string errors =
          r.is_object() && r.contains("Errors")
              ? r["Errors"].dump(-1, ' ', false, json::error_handler_t::replace)
              : base::SanitizeText(resp.body, 512);
      return MakeError(UploadError::kRejected,
                       "SLO manifest " + container + "/" + name + ": " +
                           (status.empty() ? "no status" : status) + " " +
                           errors);
    }
    std::string got = UnquoteEtag(StrMember(r, "Etag"));
    if (!got.empty() && got != etag) {
      return MakeError(UploadError::kVerifyFailed,
                       "SLO manifest ETag " + got + " != " + etag);
    }
  }
  return base::Status::OK();
}

base::Status UploadRun::RemoveStaleSegments() {
  for (const auto& [index, seg] : stored_) {
    if (index < segments_.size()) continue;
    HttpResponse resp;
    RETURN_IF_ERROR(session_.Call(http_.get(), "DELETE",
                                  SegmentPath(names_->Segment(index)), {}, {},
                                  &resp, CallOptions::NotFoundOk()));
  }
  return base::Status::OK();
}

base::Status UploadRun::WriteManifest() {
  wrote_manifest_ = true;
  if (options_.manifest == ManifestKind::kDlo) {
    std::vector<std::string> headers = {
        "X-Object-Manifest: " + UrlEncode(segment_container_, false) + "/" +
            UrlEncode(names_->prefix(), true),
        "Content-Type: " + options_.content_type,
        "X-Object-Meta-Vhdsm-Md5: " + result_->object_md5,
        "X-Object-Meta-Vhdsm-Bytes: " + std::to_string(result_->object_bytes)};
    for (const auto& [k, v] : options_.metadata) {
      headers.push_back("X-Object-Meta-" + k + ": " + v);
    }
    HttpResponse resp;
    return session_.Call(http_.get(), "PUT", ObjectPath(), headers, {}, &resp);
  }
  std::vector<ManifestEntry> top = segments_;
  if (segments_.size() > max_manifest_segments_) {
    // Nested: sub-manifests of up to max_manifest_segments_ segments each,
    // then a manifest of the sub-manifests.
    top.clear();
    for (uint64_t g = 0; g * max_manifest_segments_ < segments_.size(); ++g) {
      auto first = segments_.begin() + g * max_manifest_segments_;
      auto last = segments_.begin() +
                  std::min<uint64_t>(segments_.size(),
                                     (g + 1) * max_manifest_segments_);
      std::vector<ManifestEntry> group(first, last);
      std::string name = names_->SubManifest(g);
      RETURN_IF_ERROR(PutSlo(segment_container_, name, group, false));
      ++result_->sub_manifests;
      top.push_back({"/" + segment_container_ + "/" + name,
                     LargeObjectEtag(group), TotalSize(group)});
    }
  }
  RETURN_IF_ERROR(PutSlo(options_.container, options_.object, top, true));
  result_->etag = LargeObjectEtag(top);
  return base::Status::OK();
}

base::Status UploadRun::Verify() {
  HttpResponse resp;
  RETURN_IF_ERROR(
      session_.Call(http_.get(), "HEAD", ObjectPath(), {}, {}, &resp));
  std::string expected = options_.manifest == ManifestKind::kDlo
                             ? LargeObjectEtag(segments_)
                             : result_->etag;
  result_->etag = expected;
  std::string length = resp.Header("content-length");
  std::string etag = UnquoteEtag(resp.Header("etag"));
  if (length != std::to_string(result_->object_bytes)) {
    return MakeError(UploadError::kVerifyFailed,
                     "HEAD " + options_.container + "/" + options_.object +
                         ": Content-Length " + length + ", sent " +
                         std::to_string(result_->object_bytes));
  }
  if (etag != expected) {
    return MakeError(UploadError::kVerifyFailed,
                     "HEAD " + options_.container + "/" + options_.object +
                         ": ETag " + etag + ", expected " + expected);
  }
  return base::Status::OK();
}

void UploadRun::Cleanup() {
  // A session of its own that ignores the cancel, seeded with our token.
  SwiftSession cleaner(store_.auth, store_.retry, nullptr, options_.log);
  cleaner.Seed(session_.current_auth());
  HttpOptions h = store_.http;
  h.cancelled = nullptr;
  std::unique_ptr<HttpTransport> http = NewTransport(store_, h);
  HttpResponse resp;
  if (wrote_manifest_) {
    cleaner.Call(http.get(), "DELETE", ObjectPath(), {}, {}, &resp,
                 CallOptions::NotFoundOk());
  }
  std::vector<json> objects;
  if (!ListPrefix(&cleaner, http.get(), segment_container_, names_->prefix(),
                  &objects)
           .ok()) {
    return;
  }
  for (const json& o : objects) {
    base::Status st = cleaner.Call(http.get(), "DELETE",
                                   SegmentPath(o["name"].get<std::string>()),
                                   {}, {}, &resp, CallOptions::NotFoundOk());
    if (st.ok() && resp.status != 404) ++result_->segments_deleted;
  }
  if (options_.log) {
    options_.log("removed " + std::to_string(result_->segments_deleted) +
                 " objects under " + segment_container_ + "/" +
                 names_->prefix());
  }
}

base::Status UploadRun::Run() {
  segment_container_ = options_.segment_container.empty()
                           ? options_.container + "_segments"
                           : options_.segment_container;
  result_->run_id = options_.run_id.empty() ? NewRunId() : options_.run_id;
  result_->segment_container = segment_container_;
  RETURN_IF_ERROR(Validate());
  int64_t source_size = stream_->Progress().total;
  names_ = std::make_unique<SegmentNames>(
      options_.object, result_->run_id,
      source_size >= 0 ? static_cast<uint64_t>(source_size) : 0,
      options_.segment_size);
  result_->segment_prefix = names_->prefix();
  http_ = NewTransport(store_, HttpOpts());

  base::Status st = session_.Connect(http_.get());
  if (st.ok()) {
    ReadClusterInfo();
    st = CheckCapacity();
  }
  if (st.ok()) st = CreateContainers();
  // A fresh run id has nothing stored yet; only a given one may resume.
  if (st.ok() && options_.resume && !options_.run_id.empty()) {
    st = ListStored();
  }
  if (st.ok()) st = Pump();
  if (st.ok()) st = RemoveStaleSegments();
  if (st.ok()) st = WriteManifest();
  if (st.ok()) st = Verify();
  if (!st.ok() && (wrote_segments_ || wrote_manifest_) &&
      !options_.keep_segments_on_failure) {
    Cleanup();
  }
  result_->error = ErrorOf(st);
  result_->http = session_.stats();
  result_->seconds =
      std::chrono::duration<double>(Clock::now() - start_).count();
  if (st.ok()) ReportProgress(true);
  return st;
}

}  // namespace

base::Status Upload(const SwiftStore& store, const UploadOptions& options,
                    ByteSource* stream, UploadResult* result) {
  *result = UploadResult();
  UploadRun run(store, options, stream, result);
  base::Status st = run.Run();
  result->error = ErrorOf(st);
  return st;
}

base::Status DeleteLargeObject(const SwiftStore& store,
                               const std::string& container,
                               const std::string& object) {
  RETURN_IF_ERROR(CheckContainerName(container));
  RETURN_IF_ERROR(CheckObjectName(object));
  SwiftSession session(store.auth, store.retry, nullptr, nullptr);
  std::unique_ptr<HttpTransport> http = NewTransport(store, store.http);
  const std::string path =
      "/" + UrlEncode(container, false) + "/" + UrlEncode(object, true);
  HttpResponse head;
  RETURN_IF_ERROR(session.Call(http.get(), "HEAD", path, {}, {}, &head,
                               CallOptions::NotFoundOk()));
  if (head.status == 404) return base::Status::OK();
  HttpResponse resp;
  if (head.Header("x-static-large-object") == "True") {
    return session.Call(
        http.get(), "DELETE", path + "?multipart-manifest=delete",
        {"Accept: application/json"}, {}, &resp, CallOptions::NotFoundOk());
  }
  std::string manifest = head.Header("x-object-manifest");
  RETURN_IF_ERROR(session.Call(http.get(), "DELETE", path, {}, {}, &resp,
                               CallOptions::NotFoundOk()));
  if (manifest.empty()) return base::Status::OK();
  // X-Object-Manifest: <container>/<prefix>, URL-encoded.
  size_t slash = manifest.find('/');
  if (slash == std::string::npos) return base::Status::OK();
  std::string seg_container = UrlDecode(manifest.substr(0, slash));
  std::string prefix = UrlDecode(manifest.substr(slash + 1));
  // The header is the server's: its names obey the same rules as ours.
  RETURN_IF_ERROR(CheckContainerName(seg_container));
  RETURN_IF_ERROR(CheckObjectName(prefix.empty() ? "x" : prefix));
  std::vector<json> objects;
  RETURN_IF_ERROR(
      ListPrefix(&session, http.get(), seg_container, prefix, &objects));
  for (const json& o : objects) {
    RETURN_IF_ERROR(
        session.Call(http.get(), "DELETE",
                     "/" + UrlEncode(seg_container, false) + "/" +
                         UrlEncode(o["name"].get<std::string>(), true),
                     {}, {}, &resp, CallOptions::NotFoundOk()));
  }
  return base::Status::OK();
}

}  // namespace upload
