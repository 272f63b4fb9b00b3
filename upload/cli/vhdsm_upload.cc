// vhdsm-upload: compress an image file and upload it to Swift in segments,
// or only compress it (--compress-only). A thin command line over
// libvhdsm-upload for tests, benchmarks and operators; the image tasks call
// the library directly.
//
// Exit status: 0 on success, the UploadError code (1..12) on failure, 64 for
// a usage error. SIGINT/SIGTERM cancel the upload (its segments are removed
// unless --keep-segments). With --json the result is one JSON object on
// stdout; --progress prints one line per stored segment on stderr. The key
// is never printed; prefer --key-file or $VHDSM_SWIFT_KEY to --key, which
// other users can see in the process list.
#include <cctype>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/harden.h"
#include "base/size.h"
#include "upload/byte_source.h"
#include "upload/image_stream.h"
#include "upload/uploader.h"

namespace {

volatile std::sig_atomic_t g_cancel = 0;

void OnSignal(int) { g_cancel = 1; }

constexpr int kUsageExit = 64;

const char kUsage[] =
    "usage: vhdsm-upload --input FILE [options]\n"
    "  --input FILE            the image (a VHD file, or any file)\n"
    "  --format vhd|tgz|raw    vhd: gzip of the file (default); tgz: tar\n"
    "                          holding 0.vhd, gzip'd; raw: as is\n"
    "  --level N               gzip level 1..9 (default 6)\n"
    "  --codec isal|zlib       deflate library (default isal)\n"
    "  --threads N             compression threads (default: all cores)\n"
    "  --compress-only OUT     write the stream to OUT instead of uploading\n"
    "Swift:\n"
    "  --auth-url URL          v1.0 auth URL or Keystone base URL\n"
    "  --auth-version 1|2|3    (default 1)\n"
    "  --user NAME             v1: account:user\n"
    "  --key KEY | --key-file F  secret (default: $VHDSM_SWIFT_KEY)\n"
    "  --api-key               v2: Rackspace RAX-KSKEY:apiKeyCredentials\n"
    "  --tenant NAME           v2 tenant / v3 project\n"
    "  --region NAME           catalog region\n"
    "  --interface public|internal  catalog endpoint (default public)\n"
    "  --storage-url URL       use this storage URL, not the catalog's\n"
    "  --ca-file FILE | --insecure  TLS trust (default: system CAs)\n"
    "  --allow-insecure        accept an http:// auth URL (key and token\n"
    "                          cross the network in clear; warned)\n"
    "  --container NAME --object NAME\n"
    "  --segment-size N[K|M|G] (default 100M)   --parallel N (default 2)\n"
    "  --manifest slo|dlo      (default slo)    --no-nested\n"
    "  --run-id ID             segment-name stamp (same ID resumes)\n"
    "  --no-resume             do not reuse stored segments of the run\n"
    "  --keep-segments         keep segments on failure or cancel\n"
    "  --retries N             attempts per request (default 6)\n"
    "  --retry-delay S         first backoff (default 1)\n"
    "  --retry-max-delay S     backoff cap (default 64)\n"
    "  --content-type TYPE     of the object\n"
    "  --meta KEY=VALUE        X-Object-Meta-KEY (repeatable)\n"
    "  --progress  --json  --verbose\n";

// A count option: digits only, at most INT_MAX (the options are ints).
bool Count(const std::string& v, uint64_t* n) {
  return base::ParseCount(v, INT_MAX, n).ok();
}

struct Args {
  bool allow_insecure = false;
  std::string input;
  std::string compress_only;
  upload::ImageStreamOptions stream;
  upload::SwiftStore store;
  upload::UploadOptions upload;
  std::string key_file;
  bool progress = false;
  bool json = false;
  bool verbose = false;
};

int Usage(const std::string& why) {
  if (!why.empty()) std::cerr << "vhdsm-upload: " << why << "\n";
  std::cerr << kUsage;
  return kUsageExit;
}

// The parsers of one group of options return kParsed, kNotMine (another
// group's option) or an exit code.
constexpr int kParsed = -1;
constexpr int kNotMine = -2;

// Options without a value.
int ParseFlag(const std::string& opt, Args* a) {
  if (opt == "--api-key") {
    a->store.auth.api_key = true;
  } else if (opt == "--insecure") {
    a->store.http.tls.verify = false;
  } else if (opt == "--allow-insecure") {
    a->allow_insecure = true;
  } else if (opt == "--no-nested") {
    a->upload.allow_nested_manifests = false;
  } else if (opt == "--no-resume") {
    a->upload.resume = false;
  } else if (opt == "--keep-segments") {
    a->upload.keep_segments_on_failure = true;
  } else if (opt == "--progress") {
    a->progress = true;
  } else if (opt == "--json") {
    a->json = true;
  } else if (opt == "--verbose") {
    a->verbose = true;
  } else {
    return kNotMine;
  }
  return kParsed;
}

// The input and the stream made of it.
int ParseStreamOption(const std::string& opt, const std::string& v, Args* a) {
  uint64_t n = 0;
  if (opt == "--input") {
    a->input = v;
  } else if (opt == "--compress-only") {
    a->compress_only = v;
  } else if (opt == "--format") {
    if (!upload::ParseImageFormat(v, &a->stream.format)) {
      return Usage("bad --format " + v);
    }
  } else if (opt == "--level") {
    if (!Count(v, &n)) return Usage("bad --level " + v);
    a->stream.gzip.level = static_cast<int>(n);
  } else if (opt == "--codec") {
    if (!upload::ParseCodec(v.c_str(), &a->stream.gzip.codec)) {
      return Usage("bad --codec " + v);
    }
  } else if (opt == "--threads") {
    if (!Count(v, &n)) return Usage("bad --threads " + v);
    a->stream.gzip.threads = static_cast<int>(n);
  } else {
    return kNotMine;
  }
  return kParsed;
}

// Where the store is, how to authenticate, how to retry.
int ParseStoreOption(const std::string& opt, const std::string& v, Args* a) {
  upload::AuthOptions& auth = a->store.auth;
  uint64_t n = 0;
  if (opt == "--auth-url") {
    auth.url = v;
  } else if (opt == "--auth-version") {
    if (!upload::ParseAuthVersion(v, &auth.version)) {
      return Usage("bad --auth-version " + v);
    }
  } else if (opt == "--user") {
    auth.user = v;
  } else if (opt == "--key") {
    auth.key = v;
  } else if (opt == "--key-file") {
    a->key_file = v;
  } else if (opt == "--tenant") {
    auth.tenant = v;
  } else if (opt == "--region") {
    auth.region = v;
  } else if (opt == "--interface") {
    auth.interface = v;
  } else if (opt == "--storage-url") {
    auth.storage_url = v;
  } else if (opt == "--ca-file") {
    a->store.http.tls.ca_file = v;
  } else if (opt == "--retries") {
    if (!Count(v, &n)) return Usage("bad --retries " + v);
    a->store.retry.max_attempts = static_cast<int>(n);
  } else if (opt == "--retry-delay") {
    a->store.retry.initial_delay_s = std::atof(v.c_str());
  } else if (opt == "--retry-max-delay") {
    a->store.retry.max_delay_s = std::atof(v.c_str());
  } else {
    return kNotMine;
  }
  return kParsed;
}

// What to upload as: names, segments, manifest, metadata.
int ParseUploadOption(const std::string& opt, const std::string& v, Args* a) {
  upload::UploadOptions& u = a->upload;
  uint64_t n = 0;
  if (opt == "--container") {
    u.container = v;
  } else if (opt == "--object") {
    u.object = v;
  } else if (opt == "--segment-size") {
    base::Status st = base::ParseSize(v, &n);
    if (!st.ok()) return Usage("bad --segment-size: " + st.message());
    u.segment_size = n;
  } else if (opt == "--parallel") {
    if (!Count(v, &n)) return Usage("bad --parallel " + v);
    u.parallel_segments = static_cast<int>(n);
  } else if (opt == "--manifest") {
    if (v == "slo") {
      u.manifest = upload::ManifestKind::kSlo;
    } else if (v == "dlo") {
      u.manifest = upload::ManifestKind::kDlo;
    } else {
      return Usage("bad --manifest " + v);
    }
  } else if (opt == "--run-id") {
    u.run_id = v;
  } else if (opt == "--content-type") {
    u.content_type = v;
  } else if (opt == "--meta") {
    size_t eq = v.find('=');
    if (eq == std::string::npos) return Usage("--meta needs KEY=VALUE");
    u.metadata[v.substr(0, eq)] = v.substr(eq + 1);
  } else {
    return kNotMine;
  }
  return kParsed;
}

// Returns -1 when the arguments are fine, else the exit code.
int ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "--help" || opt == "-h") {
      std::cout << kUsage;
      return 0;
    }
    int rc = ParseFlag(opt, a);
    if (rc == kParsed) continue;
    if (i + 1 >= argc) return Usage(opt + " needs a value");
    const std::string v = argv[++i];
    for (auto* parse :
         {ParseStreamOption, ParseStoreOption, ParseUploadOption}) {
      rc = parse(opt, v, a);
      if (rc != kNotMine) break;
    }
    if (rc == kNotMine) return Usage("unknown option " + opt);
    if (rc != kParsed) return rc;
  }
  if (a->input.empty()) return Usage("--input is required");
  return kParsed;
}

int CompressOnly(const Args& a, std::unique_ptr<upload::ByteSource> stream) {
  std::ofstream out(a.compress_only, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "vhdsm-upload: cannot write " << a.compress_only << "\n";
    return static_cast<int>(upload::UploadError::kSource);
  }
  std::unique_ptr<uint8_t[]> buf(new uint8_t[1 << 20]);
  uint64_t total = 0;
  for (;;) {
    size_t got = 0;
    base::Status st = stream->Read(buf.get(), 1 << 20, &got);
    if (!st.ok()) {
      std::cerr << "vhdsm-upload: " << st.ToString() << "\n";
      return static_cast<int>(upload::UploadError::kSource);
    }
    if (got == 0) break;
    out.write(reinterpret_cast<const char*>(buf.get()),
              static_cast<std::streamsize>(got));
    total += got;
  }
  out.close();
  if (!out) {
    std::cerr << "vhdsm-upload: writing " << a.compress_only << " failed\n";
    return static_cast<int>(upload::UploadError::kSource);
  }
  if (a.json) {
    std::cout << nlohmann::json{{"status", "OK"}, {"bytes", total}}.dump()
              << "\n";
  }
  return 0;
}

// The key from --key-file or $VHDSM_SWIFT_KEY unless given; -1 or the exit
// code.
int LoadKey(Args* a) {
  if (!a->key_file.empty()) {
    std::ifstream f(a->key_file);
    if (!f || !std::getline(f, a->store.auth.key)) {
      return Usage("cannot read --key-file " + a->key_file);
    }
  } else if (a->store.auth.key.empty()) {
    const char* env = std::getenv("VHDSM_SWIFT_KEY");
    if (env != nullptr) a->store.auth.key = env;
  }
  return kParsed;
}

// The image as the stream to upload; -1 or the exit code.
int OpenStream(Args* a, std::unique_ptr<upload::ByteSource>* stream) {
  std::unique_ptr<upload::FileSource> file;
  base::Status st = upload::FileSource::Open(a->input, &file);
  if (!st.ok()) {
    std::cerr << "vhdsm-upload: " << st.ToString() << "\n";
    return static_cast<int>(upload::UploadError::kSource);
  }
  // A stable tar mtime: a resumed upload must produce the same bytes.
  a->stream.tar.mtime = file->mtime();
  st = upload::NewImageStream(std::move(file), a->stream, stream);
  if (!st.ok()) {
    std::cerr << "vhdsm-upload: " << st.ToString() << "\n";
    return static_cast<int>(upload::UploadError::kInvalidArgument);
  }
  return kParsed;
}

// An http:// auth URL sends the key in clear: refused unless allowed, and
// then warned about. -1 or the exit code.
int CheckAuthUrl(const Args& a) {
  std::string scheme = a.store.auth.url.substr(0, 7);
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(ch));
  if (scheme != "http://") return kParsed;
  if (!a.allow_insecure) {
    std::cerr << "vhdsm-upload: INVALID_ARGUMENT: the auth URL is not https: "
                 "the key would cross the network in clear (--allow-insecure "
                 "to allow it)\n";
    return static_cast<int>(upload::UploadError::kInvalidArgument);
  }
  std::cerr << "vhdsm-upload: warning: insecure auth URL: the key and token "
               "are sent unencrypted\n";
  return kParsed;
}

// Signals cancel; --verbose logs and --progress lines go to stderr.
void InstallCallbacks(Args* a) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  a->upload.cancelled = [] { return g_cancel != 0; };
  if (a->verbose) {
    a->upload.log = [](const std::string& line) {
      std::cerr << "vhdsm-upload: " << line << "\n";
    };
  }
  if (!a->progress) return;
  a->upload.progress = [](const upload::ProgressInfo& p) {
    std::fprintf(stderr,
                 "progress source=%llu/%lld stored=%llu segments=%llu/%lld "
                 "skipped=%llu rate=%.0f eta=%.1f\n",
                 static_cast<unsigned long long>(p.source_bytes_done),
                 static_cast<long long>(p.source_bytes_total),
                 static_cast<unsigned long long>(p.bytes_stored),
                 static_cast<unsigned long long>(p.segments_done),
                 static_cast<long long>(p.segments_total),
                 static_cast<unsigned long long>(p.segments_skipped),
                 p.rate_bytes_per_s, p.eta_s);
  };
}

void PrintJson(const upload::UploadResult& r, const base::Status& st) {
  nlohmann::json j = {{"status", upload::UploadErrorName(r.error)},
                      {"code", static_cast<int>(r.error)},
                      {"message", st.ok() ? "" : st.message()},
                      {"run_id", r.run_id},
                      {"segment_container", r.segment_container},
                      {"segment_prefix", r.segment_prefix},
                      {"source_bytes", r.source_bytes},
                      {"object_bytes", r.object_bytes},
                      {"object_md5", r.object_md5},
                      {"etag", r.etag},
                      {"segments_total", r.segments_total},
                      {"segments_uploaded", r.segments_uploaded},
                      {"segments_skipped", r.segments_skipped},
                      {"sub_manifests", r.sub_manifests},
                      {"segments_deleted", r.segments_deleted},
                      {"requests", r.http.requests},
                      {"retries", r.http.retries},
                      {"reauths", r.http.reauths},
                      {"resends", r.http.resends},
                      {"seconds", r.seconds}};
  std::cout << j.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  // A key may be on the command line already; it and the token are never
  // dumped.
  if (base::Status s = base::ProtectCredentials(); !s.ok()) {
    std::cerr << "vhdsm-upload: " << s.message() << "\n";
    return kUsageExit;
  }
  Args a;
  int rc = ParseArgs(argc, argv, &a);
  if (rc == kParsed) rc = LoadKey(&a);
  std::unique_ptr<upload::ByteSource> stream;
  if (rc == kParsed) rc = OpenStream(&a, &stream);
  if (rc != kParsed) return rc;
  if (!a.compress_only.empty()) return CompressOnly(a, std::move(stream));
  rc = CheckAuthUrl(a);
  if (rc != kParsed) return rc;
  InstallCallbacks(&a);
  upload::UploadResult r;
  base::Status st = upload::Upload(a.store, a.upload, stream.get(), &r);
  if (a.json) PrintJson(r, st);
  if (!st.ok()) {
    std::cerr << "vhdsm-upload: " << st.message() << "\n";
    return static_cast<int>(r.error);
  }
  return 0;
}
