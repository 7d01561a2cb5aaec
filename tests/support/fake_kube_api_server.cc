// FakeKubeApiServer (see fake_kube_api_server.h): an MVCC store, a thread per connection
// (sync Beast over TLS), watches fed from the store's change log.
#include "tests/support/fake_kube_api_server.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "model/registry.h"

namespace coral::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using model::Json;
using Stream = ssl::stream<tcp::socket>;

namespace {

struct ResourceType {
  std::string group;
  std::string version;
  std::string resource;
  std::string kind;
  bool namespaced = false;
  bool builtin = true;  // list items without apiVersion/kind
  std::string id() const { return group + "/" + resource; }
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string qualified() const { return group.empty() ? resource : resource + "." + group; }
};

std::vector<ResourceType> makeTypes() {
  std::vector<ResourceType> t = {
      {"", "v1", "pods", "Pod", true},
      {"", "v1", "namespaces", "Namespace", false},
      {"", "v1", "nodes", "Node", false},
      {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true},
      {"coordination.k8s.io", "v1", "leases", "Lease", true},
      {"coral.network", "v1", "keyvalues", "KeyValue", false, false},
  };
  for (const auto& k : model::allKinds()) {
    if (k.api_version == model::kApiGroupVersion) {
      t.push_back({"coral.network", "v1", k.plural, k.kind, k.namespaced, false});
    }
  }
  return t;
}

const std::vector<ResourceType>& types() {
  static const std::vector<ResourceType> all = makeTypes();
  return all;
}

std::string urlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Json statusJson(int code, const std::string& reason, const std::string& message,
                Json details = nullptr) {
  Json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null()) s["details"] = std::move(details);
  return s;
}

// labelSelector: comma-separated a=b, a==b, a!=b, a, !a.
bool labelsMatch(const Json& obj, const std::string& selector) {
  if (selector.empty()) return true;
  Json labels = Json::object();
  if (obj.contains("metadata") && obj["metadata"].contains("labels")) {
    labels = obj["metadata"]["labels"];
  }
  for (std::string_view term : split(selector, ',', true)) {
    term = trim(term);
    if (auto ne = term.find("!="); ne != std::string_view::npos) {
      const std::string k(term.substr(0, ne));
      if (labels.contains(k) && labels[k] == std::string(term.substr(ne + 2))) return false;
    } else if (auto eq = term.find('='); eq != std::string_view::npos) {
      const std::string k(term.substr(0, eq));
      std::string_view v = term.substr(eq + 1);
      if (v.starts_with("=")) v.remove_prefix(1);
      if (!labels.contains(k) || labels[k] != std::string(v)) return false;
    } else if (term.starts_with("!")) {
      if (labels.contains(std::string(term.substr(1)))) return false;
    } else if (!labels.contains(std::string(term))) {
      return false;
    }
  }
  return true;
}

// fieldSelector: comma-separated a.b=c (or a.b==c, a.b!=c).
bool fieldsMatch(const Json& obj, const std::string& selector) {
  for (std::string_view term : split(selector, ',', true)) {
    bool negate = false;
    auto pos = term.find("!=");
    size_t skip = 2;
    if (pos != std::string_view::npos) {
      negate = true;
    } else {
      pos = term.find('=');
      skip = term.substr(pos + 1).starts_with("=") ? 2 : 1;
    }
    if (pos == std::string_view::npos) return false;
    const Json* cur = &obj;
    for (std::string_view part : split(term.substr(0, pos), '.')) {
      if (!cur->is_object() || !cur->contains(std::string(part))) {
        cur = nullptr;
        break;
      }
      cur = &(*cur)[std::string(part)];
    }
    const std::string have = cur && cur->is_string() ? cur->get<std::string>() : "";
    if ((have == std::string(term.substr(pos + skip))) == negate) return false;
  }
  return true;
}

std::string newUid() {
  static std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{:016x}-{:016x}", rng(), rng());
}

std::string nowRfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct Version {
  int64_t rev;
  std::optional<Json> obj;
};

struct Event {
  int64_t rev;
  std::string type;
  std::string type_id;
  std::string ns;
  Json obj;
};

struct Target {
  const ResourceType* type = nullptr;
  std::string ns;
  std::string name;
  std::map<std::string, std::string> query;
};

}  // namespace

// A directory with a throwaway CA, a server certificate for 127.0.0.1 and a client
// certificate, made once per process with the openssl command and removed at exit.
class CertificateCache {
 public:
  ~CertificateCache() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  absl::StatusOr<std::string> get() {
    std::lock_guard lock(mu_);
    if (!dir_.empty()) return dir_;
    char tmpl[] = "/tmp/coral-fake-kube-ca-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
    if (absl::Status s = generate(tmpl); !s.ok()) return s;
    dir_ = tmpl;
    return dir_;
  }

  static absl::Status generate(const std::string& dir) {
    std::ofstream(dir + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                       << "extendedKeyUsage=serverAuth\n";
    std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string script = fmt::format(
        "set -e; cd {0}; exec >openssl.log 2>&1;"
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
        "-subj /CN=fake-kube-ca;"
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=fake-kube;"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile server.ext -out server.pem;"
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
        "-subj /O=system:nodes/CN=system:node:node-1;"
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile client.ext -out client.pem",
        dir);
    if (std::system(script.c_str()) != 0) {
      return absl::InternalError(
          fmt::format("openssl failed (Debian package openssl); see {}/openssl.log", dir));
    }
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::string dir_;
};

absl::StatusOr<std::string> certificates() {
  static CertificateCache cache;
  return cache.get();
}

class FakeKubeApiServer::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)), ssl_(ssl::context::tlsv12_server) {
    tokens_.insert(options_.token);
  }

  ~Impl() { stop(); }

  absl::Status start() {
    char tmpl[] = "/tmp/coral-fake-kube-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
    dir_ = tmpl;
    // Key generation is the slow part of starting a fake: one CA and certificates per
    // test process, copied into each fake's directory.
    if (options_.own_ca) {
      if (absl::Status s = CertificateCache::generate(dir_); !s.ok()) return s;
    } else {
      auto certs = certificates();
      if (!certs.ok()) return certs.status();
      for (const char* f : {"ca.pem", "server.pem", "server.key", "client.pem", "client.key"}) {
        std::error_code copy_ec;
        std::filesystem::copy_file(*certs + "/" + f, dir_ + "/" + f, copy_ec);
        if (copy_ec) return absl::InternalError(fmt::format("copy {}: {}", f, copy_ec.message()));
      }
    }
    boost::system::error_code ec;
    ssl_.use_certificate_chain_file(dir_ + "/server.pem", ec);
    if (!ec) ssl_.use_private_key_file(dir_ + "/server.key", ssl::context::pem, ec);
    // Client certificates signed by the CA authenticate too (as their CN); they are
    // asked for, not required, so bearer tokens keep working.
    if (!ec) ssl_.load_verify_file(dir_ + "/ca.pem", ec);
    ssl_.set_verify_mode(ssl::verify_peer);
    if (ec) return absl::InternalError("server certificate: " + ec.message());
    acceptor_ = std::make_unique<tcp::acceptor>(ioc_);
    acceptor_->open(tcp::v4());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), ec);
    if (ec) return absl::InternalError("bind: " + ec.message());
    acceptor_->listen(64, ec);
    if (ec) return absl::InternalError("listen: " + ec.message());
    port_ = acceptor_->local_endpoint().port();
    accept_thread_ = std::thread([this] { acceptLoop(); });
    return absl::OkStatus();
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    if (acceptor_) ::shutdown(acceptor_->native_handle(), SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    acceptor_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void acceptLoop() {
    for (;;) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_->accept(sock, ec);
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (ec) continue;
      const int fd = sock.native_handle();
      conn_fds_.insert(fd);
      threads_.emplace_back([this, s = std::move(sock)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket sock) {
    const int fd = sock.native_handle();
    {
      Stream stream(std::move(sock), ssl_);
      boost::system::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      boost::beast::flat_buffer buffer;
      while (!ec) {
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) break;
        if (!handle(stream, req, fd)) break;
      }
      std::lock_guard lock(mu_);
      conn_fds_.erase(fd);
      watch_fds_.erase(fd);
    }
  }

  // ---- HTTP helpers ----

  static bool send(Stream& stream, int status, const Json& body, bool keep_alive = true,
                   int retry_after = -1) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    if (retry_after >= 0) res.set(http::field::retry_after, std::to_string(retry_after));
    res.keep_alive(keep_alive);
    res.body() = body.dump();
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, res, ec);
    return !ec && keep_alive;
  }

  static bool sendText(Stream& stream, int status, const std::string& text) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = text;
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, res, ec);
    return !ec;
  }

  static std::optional<Target> parseTarget(std::string_view target) {
    Target t;
    std::string_view path = target;
    if (auto q = target.find('?'); q != std::string_view::npos) {
      path = target.substr(0, q);
      for (std::string_view kv : split(target.substr(q + 1), '&', true)) {
        auto eq = kv.find('=');
        t.query[urlDecode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : urlDecode(kv.substr(eq + 1));
      }
    }
    auto segs = split(path, '/', true);
    std::string group, version;
    size_t i = 0;
    if (segs.size() >= 2 && segs[0] == "api") {
      version = std::string(segs[1]);
      i = 2;
    } else if (segs.size() >= 3 && segs[0] == "apis") {
      group = std::string(segs[1]);
      version = std::string(segs[2]);
      i = 3;
    } else {
      return std::nullopt;
    }
    std::vector<std::string> rest;
    for (; i < segs.size(); ++i) rest.emplace_back(segs[i]);
    std::string resource;
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      t.ns = rest[1];
      resource = rest[2];
      if (rest.size() == 4) t.name = rest[3];
      if (rest.size() > 4) return std::nullopt;  // subresources: not served
    } else if (!rest.empty() && rest.size() <= 2) {
      resource = rest[0];
      if (rest.size() == 2) t.name = rest[1];
    } else {
      return std::nullopt;
    }
    for (const auto& type : types()) {
      if (type.group == group && type.version == version && type.resource == resource) {
        t.type = &type;
      }
    }
    if (t.type == nullptr) return std::nullopt;
    if (!t.type->namespaced && !t.ns.empty()) return std::nullopt;
    return t;
  }

  static bool isTrue(const std::map<std::string, std::string>& q, const std::string& k) {
    auto it = q.find(k);
    return it != q.end() && (it->second == "1" || it->second == "true");
  }

  static std::string verbOf(const http::request<http::string_body>& req, const Target& t) {
    switch (req.method()) {
      case http::verb::get:
        return !t.name.empty() ? "get" : isTrue(t.query, "watch") ? "watch" : "list";
      case http::verb::post:
        return "create";
      case http::verb::put:
        return "update";
      case http::verb::delete_:
        return t.name.empty() ? "deletecollection" : "delete";
      case http::verb::patch:
        return "patch";
      default:
        return "unknown";
    }
  }

  std::string storeKey(const ResourceType& type, const std::string& ns, const std::string& name) {
    return type.id() + '\x01' + ns + '\x01' + name;
  }

  // ---- request dispatch ----

  bool handle(Stream& stream, const http::request<http::string_body>& req, int fd) {
    {
      std::lock_guard lock(mu_);
      ++requests_;
    }
    auto auth = req.find(http::field::authorization);
    {
      std::lock_guard lock(mu_);
      const std::string header = auth == req.end() ? "" : std::string(auth->value());
      const bool token_ok = header.starts_with("Bearer ") && tokens_.contains(header.substr(7));
      bool cert_ok = false;
      if (auth == req.end()) {
        X509* peer = SSL_get_peer_certificate(stream.native_handle());
        cert_ok = peer != nullptr && SSL_get_verify_result(stream.native_handle()) == X509_V_OK;
        if (peer != nullptr) X509_free(peer);
      }
      if (!token_ok && !cert_ok) {
        return send(stream, 401, statusJson(401, "Unauthorized", "Unauthorized"));
      }
    }
    auto target = parseTarget(std::string_view(req.target().data(), req.target().size()));
    if (!target) return sendText(stream, 404, "404 page not found\n");
    const ResourceType& type = *target->type;
    const std::string verb = verbOf(req, *target);
    {
      std::lock_guard lock(mu_);
      if (denied_.contains({verb, type.group, type.resource})) {
        const std::string scope = target->ns.empty()
                                      ? "at the cluster scope"
                                      : fmt::format("in the namespace \"{}\"", target->ns);
        return send(
            stream, 403,
            statusJson(403, "Forbidden",
                       fmt::format("{}{} is forbidden: User \"{}\" cannot {} resource "
                                   "\"{}\" in API group \"{}\" {}",
                                   type.qualified(),
                                   target->name.empty() ? "" : " \"" + target->name + "\"",
                                   options_.user, verb, type.resource, type.group, scope),
                       {{"name", target->name}, {"group", type.group}, {"kind", type.resource}}));
      }
      if (fail_count_ > 0) {
        --fail_count_;
        const int status = fail_status_;
        const std::string reason = status == 429 ? "TooManyRequests" : "InternalError";
        return send(stream, status,
                    statusJson(status, reason,
                               status == 429 ? "Too many requests, please try again later."
                                             : "injected server error"),
                    true, fail_retry_after_);
      }
    }
    Json body = nullptr;
    if (!req.body().empty()) {
      body = Json::parse(req.body(), nullptr, false);
      if (body.is_discarded()) {
        return send(stream, 400, statusJson(400, "BadRequest", "request body is not JSON"));
      }
    }
    if (verb == "watch") return watch(stream, *target, fd);
    std::pair<int, Json> result;
    if (verb == "get") {
      result = get(type, target->ns, target->name);
    } else if (verb == "list") {
      result = list(*target);
    } else if (verb == "create") {
      if (type.namespaced && target->ns.empty()) {
        return send(stream, 405, statusJson(405, "MethodNotAllowed", "create needs a namespace"));
      }
      result = create(type, target->ns, std::move(body));
    } else if (verb == "update") {
      result = update(type, target->ns, target->name, std::move(body));
    } else if (verb == "delete") {
      result = remove(type, target->ns, target->name, body);
    } else {
      result = {405, statusJson(405, "MethodNotAllowed", verb + " is not supported by the fake")};
    }
    return send(stream, result.first, result.second);
  }

  std::optional<Json> latest(const std::string& key) {
    auto it = store_.find(key);
    if (it == store_.end() || it->second.empty()) return std::nullopt;
    return it->second.back().obj;
  }

  Json notFound(const ResourceType& type, const std::string& name) {
    return statusJson(404, "NotFound", fmt::format("{} \"{}\" not found", type.qualified(), name),
                      {{"name", name}, {"group", type.group}, {"kind", type.resource}});
  }

  std::pair<int, Json> get(const ResourceType& type, const std::string& ns,
                           const std::string& name) {
    std::lock_guard lock(mu_);
    auto obj = latest(storeKey(type, ns, name));
    if (!obj) return {404, notFound(type, name)};
    return {200, *obj};
  }

  void record(int64_t rev, const std::string& type_name, const ResourceType& type,
              const std::string& ns, const std::string& key, std::optional<Json> version,
              const Json& event_obj) {
    store_[key].push_back({rev, std::move(version)});
    log_.push_back({rev, type_name, type.id(), ns, event_obj});
    cv_.notify_all();
  }

  std::pair<int, Json> create(const ResourceType& type, std::string ns, Json obj) {
    if (!obj.is_object() || !obj.contains("metadata") ||
        obj["metadata"].value("name", "").empty()) {
      return {422, statusJson(422, "Invalid",
                              fmt::format("{}: metadata.name: Required value", type.kind))};
    }
    Json& meta = obj["metadata"];
    const std::string name = meta["name"];
    if (type.namespaced) {
      if (meta.contains("namespace") && meta["namespace"] != ns) {
        return {400, statusJson(400, "BadRequest",
                                "the namespace of the provided object does not match the "
                                "namespace sent on the request")};
      }
      meta["namespace"] = ns;
    } else {
      ns.clear();
      meta.erase("namespace");
    }
    std::lock_guard lock(mu_);
    const std::string key = storeKey(type, ns, name);
    if (latest(key)) {
      return {409, statusJson(409, "AlreadyExists",
                              fmt::format("{} \"{}\" already exists", type.qualified(), name),
                              {{"name", name}, {"group", type.group}, {"kind", type.resource}})};
    }
    const int64_t rev = ++rev_;
    obj["apiVersion"] = type.apiVersion();
    obj["kind"] = type.kind;
    meta["uid"] = newUid();
    meta["creationTimestamp"] = nowRfc3339();
    meta["resourceVersion"] = std::to_string(rev);
    meta["generation"] = 1;
    record(rev, "ADDED", type, ns, key, obj, obj);
    return {201, obj};
  }

  std::pair<int, Json> update(const ResourceType& type, const std::string& ns,
                              const std::string& name, Json obj) {
    if (!obj.is_object() || !obj.contains("metadata") ||
        obj["metadata"].value("name", "") != name) {
      return {400, statusJson(400, "BadRequest",
                              "the name of the object does not match the name on the URL")};
    }
    std::lock_guard lock(mu_);
    const std::string key = storeKey(type, ns, name);
    auto current = latest(key);
    if (!current) return {404, notFound(type, name)};
    Json& meta = obj["metadata"];
    const std::string want = meta.value("resourceVersion", "");
    const std::string have = (*current)["metadata"]["resourceVersion"];
    if (!want.empty() && want != have) {
      return {409, statusJson(409, "Conflict",
                              fmt::format("Operation cannot be fulfilled on {} \"{}\": the object "
                                          "has been modified; please apply your changes to the "
                                          "latest version and try again",
                                          type.qualified(), name),
                              {{"name", name}, {"group", type.group}, {"kind", type.resource}})};
    }
    const int64_t rev = ++rev_;
    obj["apiVersion"] = type.apiVersion();
    obj["kind"] = type.kind;
    meta["uid"] = (*current)["metadata"]["uid"];
    meta["creationTimestamp"] = (*current)["metadata"]["creationTimestamp"];
    meta["generation"] = (*current)["metadata"].value("generation", 1) +
                         (obj.value("spec", Json()) != current->value("spec", Json()) ? 1 : 0);
    if (type.namespaced) meta["namespace"] = ns;
    meta["resourceVersion"] = std::to_string(rev);
    record(rev, "MODIFIED", type, ns, key, obj, obj);
    return {200, obj};
  }

  std::pair<int, Json> remove(const ResourceType& type, const std::string& ns,
                              const std::string& name, const Json& options) {
    std::lock_guard lock(mu_);
    const std::string key = storeKey(type, ns, name);
    auto current = latest(key);
    if (!current) return {404, notFound(type, name)};
    const std::string have = (*current)["metadata"]["resourceVersion"];
    if (options.is_object() && options.contains("preconditions")) {
      const std::string want = options["preconditions"].value("resourceVersion", "");
      if (!want.empty() && want != have) {
        return {409, statusJson(409, "Conflict",
                                fmt::format("Operation cannot be fulfilled on {} \"{}\": "
                                            "Precondition failed: ResourceVersion in precondition: "
                                            "{}, ResourceVersion in object meta: {}",
                                            type.qualified(), name, want, have),
                                {{"name", name}, {"group", type.group}, {"kind", type.resource}})};
      }
    }
    const int64_t rev = ++rev_;
    Json obj = *current;
    obj["metadata"]["resourceVersion"] = std::to_string(rev);
    record(rev, "DELETED", type, ns, key, std::nullopt, obj);
    return {200, obj};
  }

  // The object `key` had at revision `at`.
  static const Json* at(const std::vector<Version>& versions, int64_t rev) {
    const Json* out = nullptr;
    for (const auto& v : versions) {
      if (v.rev > rev) break;
      out = v.obj ? &*v.obj : nullptr;
    }
    return out;
  }

  bool matches(const Target& t, const Json& obj) {
    auto it = t.query.find("labelSelector");
    if (it != t.query.end() && !labelsMatch(obj, it->second)) return false;
    it = t.query.find("fieldSelector");
    if (it != t.query.end() && !fieldsMatch(obj, it->second)) return false;
    return true;
  }

  Json forList(const ResourceType& type, Json obj) {
    if (type.builtin) {
      obj.erase("apiVersion");
      obj.erase("kind");
    }
    return obj;
  }

  std::pair<int, Json> list(const Target& t) {
    const ResourceType& type = *t.type;
    std::lock_guard lock(mu_);
    int64_t snapshot = rev_;
    std::string start;
    auto q = [&](const char* k) {
      auto it = t.query.find(k);
      return it == t.query.end() ? std::string() : it->second;
    };
    if (const std::string cont = q("continue"); !cont.empty()) {
      std::string decoded;
      Json token;
      if (absl::Base64Unescape(cont, &decoded)) token = Json::parse(decoded, nullptr, false);
      if (!token.is_object()) {
        return {400, statusJson(400, "BadRequest", "continue key is not valid")};
      }
      snapshot = token.value("rv", int64_t{0});
      start = token.value("start", "");
      if (snapshot < compacted_ || expire_next_continue_) {
        expire_next_continue_ = false;
        return {410, statusJson(410, "Expired",
                                "The provided continue parameter is too old to display a "
                                "consistent list result. You can start a new list without the "
                                "continue parameter.")};
      }
    } else if (const std::string rv = q("resourceVersion"); !rv.empty() && rv != "0") {
      const int64_t want = parseInt<int64_t>(rv).value_or(-1);
      if (want > rev_) {
        return {504, statusJson(504, "Timeout", "Too large resource version")};
      }
      if (q("resourceVersionMatch") == "Exact") {
        if (want < compacted_) {
          return {410,
                  statusJson(410, "Expired",
                             fmt::format("too old resource version: {} ({})", want, compacted_))};
        }
        snapshot = want;
      }
    }
    const int64_t limit = parseInt<int64_t>(q("limit")).value_or(0);
    const std::string prefix = type.id() + '\x01' + (t.ns.empty() ? "" : t.ns + '\x01');
    Json items = Json::array();
    std::string last_key;
    int64_t remaining = 0;
    for (auto it = store_.lower_bound(start.empty() ? prefix : start);
         it != store_.end() && it->first.starts_with(prefix); ++it) {
      if (!start.empty() && it->first <= start) continue;
      const Json* obj = at(it->second, snapshot);
      if (obj == nullptr || !matches(t, *obj)) continue;
      if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) {
        ++remaining;
        continue;
      }
      items.push_back(forList(type, *obj));
      last_key = it->first;
    }
    Json meta = {{"resourceVersion", std::to_string(snapshot)}};
    if (remaining > 0) {
      meta["continue"] = absl::Base64Escape(Json{{"rv", snapshot}, {"start", last_key}}.dump());
      if (!t.query.contains("labelSelector")) meta["remainingItemCount"] = remaining;
    }
    return {200, Json{{"kind", type.kind + "List"},
                      {"apiVersion", type.apiVersion()},
                      {"metadata", std::move(meta)},
                      {"items", std::move(items)}}};
  }

  // ---- watch ----

  static bool writeChunk(Stream& stream, const std::string& data) {
    boost::system::error_code ec;
    net::write(stream, http::make_chunk(net::buffer(data)), ec);
    return !ec;
  }

  static std::string eventLine(const std::string& type, const Json& obj) {
    return Json{{"type", type}, {"object", obj}}.dump() + "\n";
  }

  bool watch(Stream& stream, const Target& t, int fd) {
    const ResourceType& type = *t.type;
    auto q = [&](const char* k) {
      auto it = t.query.find(k);
      return it == t.query.end() ? std::string() : it->second;
    };
    const bool bookmarks = isTrue(t.query, "allowWatchBookmarks");
    const int timeout_s = parseInt<int>(q("timeoutSeconds")).value_or(1800);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);

    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    boost::system::error_code ec;
    http::write_header(stream, sr, ec);
    if (ec) return false;

    std::unique_lock lock(mu_);
    watch_fds_.insert(fd);
    ++active_watches_;
    const int64_t generation = drop_generation_;
    auto finish = [&](bool clean) {
      --active_watches_;
      watch_fds_.erase(fd);
      lock.unlock();
      if (clean) net::write(stream, http::make_chunk_last(), ec);
      return false;  // a watch ends its connection
    };
    const std::string prefix = type.id() + '\x01' + (t.ns.empty() ? "" : t.ns + '\x01');
    int64_t w = 0;
    const std::string rv = q("resourceVersion");
    std::string out;
    if (rv.empty() || rv == "0") {
      for (auto it = store_.lower_bound(prefix);
           it != store_.end() && it->first.starts_with(prefix); ++it) {
        const Json* obj = at(it->second, rev_);
        if (obj != nullptr && matches(t, *obj)) out += eventLine("ADDED", *obj);
      }
      w = rev_;
    } else {
      w = parseInt<int64_t>(rv).value_or(0);
    }
    auto next_bookmark = std::chrono::steady_clock::now() + options_.bookmark_interval;
    for (;;) {
      if (stopping_ || drop_generation_ != generation) return finish(false);
      if (w + 1 < compacted_) {
        out += eventLine(
            "ERROR", statusJson(410, "Expired",
                                fmt::format("too old resource version: {} ({})", w, compacted_)));
        lock.unlock();
        writeChunk(stream, out);
        lock.lock();
        return finish(true);
      }
      auto it = std::upper_bound(log_.begin(), log_.end(), w,
                                 [](int64_t r, const Event& e) { return r < e.rev; });
      for (; it != log_.end(); ++it) {
        if (it->type_id == type.id() && (t.ns.empty() || it->ns == t.ns) && matches(t, it->obj)) {
          out += eventLine(it->type, it->obj);
        }
      }
      w = std::max(w, rev_);
      const auto now = std::chrono::steady_clock::now();
      if (bookmarks && now >= next_bookmark) {
        out += eventLine("BOOKMARK", Json{{"kind", type.kind},
                                          {"apiVersion", type.apiVersion()},
                                          {"metadata", {{"resourceVersion", std::to_string(w)}}}});
        next_bookmark = now + options_.bookmark_interval;
      }
      if (!out.empty()) {
        lock.unlock();
        const bool ok = writeChunk(stream, out);
        out.clear();
        lock.lock();
        if (!ok) return finish(false);
      }
      if (now >= end) return finish(true);
      cv_.wait_until(lock, std::min(end, next_bookmark), [&] {
        return stopping_ || drop_generation_ != generation || rev_ > w || w + 1 < compacted_;
      });
    }
  }

  // ---- hooks ----

  void compact(int64_t revision) {
    std::lock_guard lock(mu_);
    compacted_ = std::max(compacted_, revision);
    while (!log_.empty() && log_.front().rev < compacted_) log_.pop_front();
    for (auto it = store_.begin(); it != store_.end();) {
      auto& versions = it->second;
      // Keep the newest version at or before the compaction, and everything after it.
      size_t keep_from = 0;
      for (size_t i = 0; i < versions.size(); ++i) {
        if (versions[i].rev <= compacted_) keep_from = i;
      }
      versions.erase(versions.begin(), versions.begin() + static_cast<long>(keep_from));
      if (versions.size() == 1 && !versions[0].obj) {
        it = store_.erase(it);
      } else {
        ++it;
      }
    }
    cv_.notify_all();
  }

  void dropWatches() {
    std::lock_guard lock(mu_);
    ++drop_generation_;
    for (int fd : watch_fds_) ::shutdown(fd, SHUT_RDWR);
    cv_.notify_all();
  }

  const ResourceType* typeForCollection(const std::string& collection) {
    auto t = parseTarget(collection);
    return t ? t->type : nullptr;
  }

  Options options_;
  std::string dir_;
  int port_ = 0;
  ssl::context ssl_;
  net::io_context ioc_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t rev_ = 1000;
  int64_t compacted_ = 0;
  std::map<std::string, std::vector<Version>> store_;
  std::deque<Event> log_;
  std::set<std::string> tokens_;
  std::set<std::tuple<std::string, std::string, std::string>> denied_;
  bool expire_next_continue_ = false;
  int fail_count_ = 0;
  int fail_status_ = 0;
  int fail_retry_after_ = -1;
  int64_t drop_generation_ = 0;
  int64_t requests_ = 0;
  int active_watches_ = 0;
  std::set<int> conn_fds_;
  std::set<int> watch_fds_;
  std::vector<std::thread> threads_;
};

FakeKubeApiServer::FakeKubeApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeKubeApiServer::~FakeKubeApiServer() = default;

absl::StatusOr<std::unique_ptr<FakeKubeApiServer>> FakeKubeApiServer::start(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->start(); !s.ok()) return s;
  return std::unique_ptr<FakeKubeApiServer>(new FakeKubeApiServer(std::move(impl)));
}

int FakeKubeApiServer::port() const { return impl_->port_; }
std::string FakeKubeApiServer::server() const {
  return fmt::format("https://127.0.0.1:{}", impl_->port_);
}
std::string FakeKubeApiServer::caPath() const { return impl_->dir_ + "/ca.pem"; }
std::string FakeKubeApiServer::dir() const { return impl_->dir_; }

std::string FakeKubeApiServer::writeKubeconfig(const std::string& name,
                                               const std::string& token) const {
  const std::string path = impl_->dir_ + "/" + name;
  std::ofstream(path) << fmt::format(
      "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
      "clusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority: {}\n"
      "users:\n- name: coral\n  user:\n    token: {}\n"
      "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: coral\n"
      "    namespace: coral-system\n",
      server(), caPath(), token.empty() ? impl_->options_.token : token);
  return path;
}

std::string FakeKubeApiServer::writeClientCertKubeconfig(const std::string& name) const {
  auto data = [&](const std::string& file) {
    std::ifstream in(impl_->dir_ + "/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    return absl::Base64Escape(ss.str());
  };
  const std::string path = impl_->dir_ + "/" + name;
  std::ofstream(path) << fmt::format(
      "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
      "clusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n"
      "users:\n- name: node\n  user:\n    client-certificate-data: {}\n"
      "    client-key-data: {}\n"
      "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: node\n",
      server(), data("ca.pem"), data("client.pem"), data("client.key"));
  return path;
}

void FakeKubeApiServer::setTokens(std::set<std::string> tokens) {
  std::lock_guard lock(impl_->mu_);
  impl_->tokens_ = std::move(tokens);
}
void FakeKubeApiServer::deny(const std::string& verb, const std::string& group,
                             const std::string& resource) {
  std::lock_guard lock(impl_->mu_);
  impl_->denied_.insert({verb, group, resource});
}
void FakeKubeApiServer::failNext(int count, int status, int retry_after_s) {
  std::lock_guard lock(impl_->mu_);
  impl_->fail_count_ = count;
  impl_->fail_status_ = status;
  impl_->fail_retry_after_ = retry_after_s;
}
void FakeKubeApiServer::dropWatches() { impl_->dropWatches(); }
void FakeKubeApiServer::expireNextContinue() {
  std::lock_guard lock(impl_->mu_);
  impl_->expire_next_continue_ = true;
}
void FakeKubeApiServer::compact(int64_t revision) { impl_->compact(revision); }
int64_t FakeKubeApiServer::revision() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->rev_;
}
int64_t FakeKubeApiServer::requestCount() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->requests_;
}
int FakeKubeApiServer::activeWatches() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->active_watches_;
}

absl::StatusOr<Json> FakeKubeApiServer::create(const std::string& collection, Json object) {
  const auto* type = impl_->typeForCollection(collection);
  if (type == nullptr) return absl::NotFoundError("no collection " + collection);
  const std::string ns = object["metadata"].value("namespace", "");
  auto [code, body] = impl_->create(*type, ns, std::move(object));
  if (code >= 300) return absl::InternalError(body.dump());
  return body;
}

absl::StatusOr<Json> FakeKubeApiServer::update(const std::string& collection, Json object) {
  const auto* type = impl_->typeForCollection(collection);
  if (type == nullptr) return absl::NotFoundError("no collection " + collection);
  const std::string ns = object["metadata"].value("namespace", "");
  const std::string name = object["metadata"].value("name", "");
  auto [code, body] = impl_->update(*type, ns, name, std::move(object));
  if (code >= 300) return absl::InternalError(body.dump());
  return body;
}

absl::Status FakeKubeApiServer::remove(const std::string& collection, const std::string& ns,
                                       const std::string& name) {
  const auto* type = impl_->typeForCollection(collection);
  if (type == nullptr) return absl::NotFoundError("no collection " + collection);
  auto [code, body] = impl_->remove(*type, ns, name, Json());
  if (code >= 300) return absl::NotFoundError(body.dump());
  return absl::OkStatus();
}

}  // namespace coral::testing
