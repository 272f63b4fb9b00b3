#include "tests/upload/fake_swift.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "upload/md5.h"

namespace uploadtest {
namespace {

using nlohmann::json;

// The value of `key` in a query string ("" if absent), decoded.
std::string Param(const std::string& query, const std::string& key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(
        pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == key) {
      return eq == std::string::npos ? ""
                                     : upload::UrlDecode(kv.substr(eq + 1));
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

FakeSwift::FakeSwift(HttpScript* script) : script_(script) {
  script_->Serve("GET", "^/auth/v1\\.0$",
                 [this](const Exchange& e) { return Auth(e); });
  script_->Serve("GET", "^/info$",
                 [](const Exchange&) { return Reply::Status(404); });
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE"}) {
    script_->Serve(m, "^/v1/AUTH_t/",
                   [this](const Exchange& e) { return Storage(e); });
  }
}

upload::SwiftStore FakeSwift::Store() const {
  upload::SwiftStore store;
  store.auth.version = upload::AuthVersion::kV1;
  store.auth.url = kAuthUrl;
  store.auth.user = "acct:user";
  store.auth.key = "secret";
  store.retry.initial_delay_s = 0;
  store.retry.max_delay_s = 0;
  store.retry.jitter = 0;
  store.transport = script_->Factory();
  return store;
}

std::map<std::string, FakeSwift::Object> FakeSwift::Objects() const {
  std::lock_guard<std::mutex> l(mu_);
  return objects_;
}

void FakeSwift::PutObject(const std::string& container, const std::string& name,
                          const std::string& data) {
  std::lock_guard<std::mutex> l(mu_);
  containers_[container] = true;
  objects_[container + "/" + name] = {data, upload::Md5::Of(data), data.size(),
                                      false, ""};
}

void FakeSwift::ExpireToken() {
  std::lock_guard<std::mutex> l(mu_);
  token_ = "expired";
}

std::string FakeSwift::token() const {
  std::lock_guard<std::mutex> l(mu_);
  return token_;
}

Reply FakeSwift::Auth(const Exchange& e) {
  if (e.Header("X-Auth-User") != "acct:user" ||
      e.Header("X-Auth-Key") != "secret") {
    return Reply::Status(401);
  }
  std::lock_guard<std::mutex> l(mu_);
  token_ = "tok-" + std::to_string(++auths_);
  return Reply::Status(200)
      .Set("X-Auth-Token", token_)
      .Set("X-Storage-Url", kStorageUrl);
}

Reply FakeSwift::Storage(const Exchange& e) {
  std::string rest = e.path.substr(std::string("/v1/AUTH_t/").size());
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  std::string container = upload::UrlDecode(rest.substr(0, slash));
  std::string object = slash == std::string::npos
                           ? ""
                           : upload::UrlDecode(rest.substr(slash + 1));
  std::lock_guard<std::mutex> l(mu_);
  if (e.Header("X-Auth-Token") != token_) return Reply::Status(401);
  if (object.empty()) {
    if (e.method == "PUT") {
      bool existed = containers_[container];
      containers_[container] = true;
      return Reply::Status(existed ? 202 : 201);
    }
    if (e.method == "GET") return List(container, query);
    return Reply::Status(405);
  }
  const std::string key = container + "/" + object;
  if (e.method == "PUT") return Put(container, object, query, e);
  if (e.method == "HEAD") return Head(key);
  if (e.method == "GET") {
    auto it = objects_.find(key);
    return it == objects_.end() ? Reply::Status(404)
                                : Reply::Status(200, it->second.data);
  }
  if (e.method == "DELETE") return Delete(key, query);
  return Reply::Status(405);
}

Reply FakeSwift::Put(const std::string& container, const std::string& object,
                     const std::string& query, const Exchange& e) {
  if (!containers_[container]) return Reply::Status(404);
  Object o;
  o.data = e.body;
  if (Param(query, "multipart-manifest") == "put") {
    json j = json::parse(e.body, nullptr, false);
    if (!j.is_array()) return Reply::Status(400, "bad manifest");
    std::string etags;
    for (const json& seg : j) {
      std::string path = seg.value("path", "");
      auto it = objects_.find(path.substr(1));
      if (it == objects_.end()) return Reply::Status(400, path + " missing");
      uint64_t size;
      std::string etag;
      Describe(it->second, &size, &etag);
      if (seg.value("etag", "") != etag) return Reply::Status(400, "etag");
      o.size += size;
      etags += etag;
    }
    o.slo = true;
    o.etag = upload::Md5::Of(etags);
  } else {
    o.etag = upload::Md5::Of(e.body);
    o.size = e.body.size();
    std::string want = e.Header("ETag");
    if (!want.empty() && want != o.etag) return Reply::Status(422);
    o.dlo_prefix = upload::UrlDecode(e.Header("X-Object-Manifest"));
  }
  objects_[container + "/" + object] = o;
  return Reply::Status(201).Set("ETag", Quote(o.etag));
}

Reply FakeSwift::List(const std::string& container, const std::string& query) {
  if (!containers_[container]) return Reply::Status(404);
  const std::string prefix = Param(query, "prefix");
  const std::string marker = Param(query, "marker");
  std::string limit_text = Param(query, "limit");
  size_t limit = limit_text.empty() ? 10000 : std::stoul(limit_text);
  json page = json::array();
  for (const auto& [key, o] : objects_) {
    if (key.rfind(container + "/", 0) != 0) continue;
    std::string name = key.substr(container.size() + 1);
    if (name.rfind(prefix, 0) != 0 || name <= marker) continue;
    if (page.size() == limit) break;
    uint64_t size;
    std::string etag;
    Describe(o, &size, &etag);
    page.push_back({{"name", name}, {"hash", etag}, {"bytes", size}});
  }
  return Reply::Status(page.empty() ? 204 : 200, page.dump());
}

void FakeSwift::Describe(const Object& o, uint64_t* size,
                         std::string* etag) const {
  *size = o.size;
  *etag = o.etag;
  if (o.dlo_prefix.empty()) return;
  // A DLO: its segments, in name order, as Swift's listing finds them.
  *size = 0;
  std::string etags;
  for (const auto& [key, seg] : objects_) {
    if (key.rfind(o.dlo_prefix, 0) != 0) continue;
    *size += seg.size;
    etags += seg.etag;
  }
  *etag = upload::Md5::Of(etags);
}

Reply FakeSwift::Head(const std::string& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return Reply::Status(404);
  uint64_t size;
  std::string etag;
  Describe(it->second, &size, &etag);
  Reply r = Reply::Status(200);
  r.Set("Content-Length", std::to_string(size)).Set("ETag", Quote(etag));
  if (it->second.slo) r.Set("X-Static-Large-Object", "True");
  if (!it->second.dlo_prefix.empty()) {
    r.Set("X-Object-Manifest", it->second.dlo_prefix);
  }
  return r;
}

Reply FakeSwift::Delete(const std::string& key, const std::string& query) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return Reply::Status(404);
  if (it->second.slo && Param(query, "multipart-manifest") == "delete") {
    json j = json::parse(it->second.data, nullptr, false);
    for (const json& seg : j) {
      objects_.erase(seg.value("path", "/").substr(1));
    }
  }
  objects_.erase(key);
  return Reply::Status(204);
}

}  // namespace uploadtest
