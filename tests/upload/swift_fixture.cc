#include "tests/upload/swift_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "upload/http_client.h"

extern char** environ;

namespace uploadtest {
namespace {

Saio* g_saio = nullptr;
std::string g_saio_dir;

std::vector<std::string> EnvWith(
    const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string key = kv.substr(0, kv.find('='));
    if (env.count(key) == 0) out.push_back(kv);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

pid_t Spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs = EnvWith(env);
  std::vector<char*> envp;
  for (std::string& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0]);
  return pid;
}

std::string EnvValue(const std::string& env_file, const std::string& key) {
  std::string text = testutil::ReadFile(env_file);
  std::string needle = "export " + key + "=";
  size_t p = text.find(needle);
  if (p == std::string::npos) return "";
  p += needle.size();
  return text.substr(p, text.find('\n', p) - p);
}

// Stops the test Swift when the test program ends.
class SaioEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_saio == nullptr) return;
    SaioCommand({"stop"});
    std::error_code ec;
    std::filesystem::remove_all(g_saio_dir, ec);
    delete g_saio;
    g_saio = nullptr;
  }
};

::testing::Environment* const kSaioEnvironment =
    ::testing::AddGlobalTestEnvironment(new SaioEnvironment);

}  // namespace

std::string SourceRoot() {
  const char* src = std::getenv("VHDSM_SRC");
  if (src != nullptr && *src != '\0') return src;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  // <root>/<build>/tests/upload_tests
  return self.parent_path().parent_path().parent_path().string();
}

int RunWithEnv(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env, std::string* out,
               std::string* err) {
  testutil::TempDir tmp;
  pid_t pid = Spawn(argv, env, tmp.Join("out"), tmp.Join("err"));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out != nullptr) *out = testutil::ReadFile(tmp.Join("out"));
  if (err != nullptr) *err = testutil::ReadFile(tmp.Join("err"));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const Saio& Swift() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base && *base ? base : "/tmp") + "/vhdsm-saio-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) std::abort();
    g_saio_dir = buf.data();
    auto saio = std::make_unique<Saio>();
    saio->root = g_saio_dir;
    std::string out, err;
    auto t0 = std::chrono::steady_clock::now();
    int rc = RunWithEnv(
        {SourceRoot() + "/scripts/saio.sh", "start"},
        {{"SAIO_ROOT", saio->root},
         {"SAIO_WATCH_PID", std::to_string(getpid())},
         // Large objects of many small segments are downloaded whole.
         {"SAIO_SLO_RATE_LIMIT_AFTER", "1000000"}},
        &out, &err);
    if (rc != 0) {
      std::fprintf(stderr, "saio.sh start failed (%d):\n%s%s\n", rc,
                   out.c_str(), err.c_str());
      RunWithEnv({SourceRoot() + "/scripts/saio.sh", "stop"},
                 {{"SAIO_ROOT", saio->root}}, nullptr, nullptr);
      std::abort();
    }
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::fprintf(stderr, "[swift] %s (%.1f s)\n",
                 out.substr(0, out.find('\n')).c_str(), secs);
    std::string env_file = saio->root + "/saio.env";
    saio->auth_url = EnvValue(env_file, "ST_AUTH");
    saio->storage_url = EnvValue(env_file, "SAIO_STORAGE_URL");
    saio->replicas = std::atoi(EnvValue(env_file, "SAIO_REPLICAS").c_str());
    setenv("ST_AUTH", saio->auth_url.c_str(), 1);
    setenv("ST_USER", saio->user.c_str(), 1);
    setenv("ST_KEY", saio->key.c_str(), 1);
    g_saio = saio.release();
  });
  return *g_saio;
}

int SaioCommand(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SourceRoot() + "/scripts/saio.sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  int rc = RunWithEnv(argv, {{"SAIO_ROOT", Swift().root}}, &out, &err);
  if (rc != 0) {
    std::fprintf(stderr, "saio.sh %s: exit %d: %s%s\n", args[0].c_str(), rc,
                 out.c_str(), err.c_str());
  }
  return rc;
}

void SetFault(const std::string& spec) { SaioCommand({"fault", spec}); }

int FaultHits() {
  std::string hits = testutil::ReadFile(Swift().root + "/run/fault.hits");
  return hits.empty() ? 0 : std::atoi(hits.c_str());
}

upload::SwiftStore V1Store() {
  const Saio& s = Swift();
  upload::SwiftStore store;
  store.auth.version = upload::AuthVersion::kV1;
  store.auth.url = s.auth_url;
  store.auth.user = s.user;
  store.auth.key = s.key;
  store.retry.max_attempts = 6;
  store.retry.initial_delay_s = 0.01;
  store.retry.max_delay_s = 0.5;
  store.retry.jitter = 0;
  return store;
}

Child::Child(const std::vector<std::string>& argv, const std::string& out_path,
             const std::string& err_path,
             const std::map<std::string, std::string>& env)
    : pid_(Spawn(argv, env, out_path, err_path)) {}

Child::~Child() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

int Child::Wait() {
  if (!reaped_) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

bool Child::Running() {
  if (reaped_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void Child::Kill(int sig) {
  if (!reaped_) kill(pid_, sig);
}

IdentityStub::IdentityStub(bool tls) {
  const Saio& s = Swift();
  tmp_ = std::make_unique<testutil::TempDir>();
  dir_ = tmp_->path();
  std::string port_file = dir_ + "/port";
  std::vector<std::string> argv = {
      "/usr/bin/python3", SourceRoot() + "/tests/upload/identity_stub.py",
      "--port-file",      port_file,
      "--swift-auth",     s.auth_url};
  if (tls) {
    testutil::RunResult r =
        testutil::Run({"openssl", "req", "-x509", "-newkey", "rsa:2048",
                       "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                       "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                       dir_ + "/key.pem", "-out", cert_path()});
    if (r.exit_code != 0) {
      ADD_FAILURE() << "openssl req failed: " << r.err;
      return;
    }
    argv.insert(argv.end(),
                {"--tls-cert", cert_path(), "--tls-key", dir_ + "/key.pem"});
  }
  child_ = std::make_unique<Child>(argv, dir_ + "/out", dir_ + "/err");
  for (int i = 0; i < 200; ++i) {
    std::string port = testutil::ReadFile(port_file);
    if (!port.empty() && port.back() == '\n') {
      port.pop_back();
      url_ = (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + port;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (url_.empty()) {
    ADD_FAILURE() << "identity stub did not start: "
                  << testutil::ReadFile(dir_ + "/err");
  }
}

IdentityStub::~IdentityStub() {
  if (child_ == nullptr) return;
  child_->Kill(SIGTERM);
  child_->Wait();
}

std::string DiskLikeImage(size_t size, uint64_t seed) {
  static const char* kWords[] = {"the ",    "kernel ",  "block ",  "vhd ",
                                 "swift ",  "segment ", "0x7f3a ", "lib ",
                                 "error: ", "\n",       "init ",   "data "};
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(size);
  const size_t run = 64 << 10;
  while (out.size() < size) {
    size_t n = std::min(run, size - out.size());
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3:  // unallocated
        out.append(n, '\0');
        break;
      case 4:
      case 5:
      case 6: {  // text and binaries: compressible
        size_t end = out.size() + n;
        while (out.size() < end) {
          const char* w = kWords[rng() % 12];
          out.append(w, std::min(std::strlen(w), end - out.size()));
        }
        break;
      }
      default: {  // compressed media: incompressible
        for (size_t i = 0; i < n; i += 8) {
          uint64_t v = rng();
          out.append(reinterpret_cast<const char*>(&v),
                     std::min<size_t>(8, n - i));
        }
      }
    }
  }
  return out;
}

std::map<std::string, std::string> ListObjects(const std::string& container,
                                               const std::string& prefix) {
  upload::SwiftStore store = V1Store();
  upload::SwiftSession session(store.auth, store.retry, nullptr);
  upload::HttpClient http(store.http);
  std::map<std::string, std::string> names;
  upload::HttpResponse resp;
  std::string path =
      "/" + upload::UrlEncode(container, false) +
      "?format=json&limit=10000&prefix=" + upload::UrlEncode(prefix, false);
  base::Status st = session.Call(&http, "GET", path, {}, {}, &resp,
                                 upload::CallOptions::NotFoundOk());
  EXPECT_OK(st);
  if (!st.ok() || resp.status == 404) return names;
  nlohmann::json list = nlohmann::json::parse(resp.body, nullptr, false);
  if (!list.is_array()) return names;
  for (const auto& o : list) {
    names[o.value("name", "")] = o.value("hash", "");
  }
  return names;
}

std::string SwiftDownload(const std::string& container,
                          const std::string& object) {
  Swift();
  testutil::TempDir tmp;
  std::string path = tmp.Join("download");
  std::string out, err;
  int rc = RunWithEnv({"swift", "download", container, object, "-o", path}, {},
                      &out, &err);
  EXPECT_EQ(rc, 0) << out << err;
  return testutil::ReadFile(path);
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "";
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  char buf[1 << 16];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another member
      continue;
    }
    if (rc != Z_OK) {
      out = "<gunzip error " + std::to_string(rc) + ">";
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

base::Status UploadImage(const upload::SwiftStore& store,
                         const upload::UploadOptions& options,
                         const std::string& image, upload::ImageFormat format,
                         upload::UploadResult* result) {
  upload::ImageStreamOptions so;
  so.format = format;
  so.tar.mtime = 1700000000;
  std::unique_ptr<upload::ByteSource> stream;
  base::Status st = upload::NewImageStream(
      std::make_unique<upload::StringSource>(image), so, &stream);
  if (!st.ok()) return st;
  return upload::Upload(store, options, stream.get(), result);
}

std::string TestContainer() {
  const ::testing::TestInfo* t =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("t-") + t->test_suite_name() + "-" + t->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

}  // namespace uploadtest
