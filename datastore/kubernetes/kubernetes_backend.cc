// KubernetesBackend: the key-value seam over the API server (see kubernetes_backend.h).
#include "datastore/kubernetes/kubernetes_backend.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "datastore/kubernetes/kube_client.h"
#include "datastore/kubernetes/resource_map.h"

namespace coral::datastore {
namespace kubernetes {
namespace {

using model::Json;
using namespace std::chrono_literals;

constexpr int kPageSize = 500;
constexpr int kWriteAttempts = 8;
constexpr std::string_view kKvLeaseLabel = "coral.network/kv-lease";

std::string urlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

RequestInfo infoFor(std::string verb, const Collection& c, std::string ns = {},
                    std::string name = {}) {
  return {std::move(verb), c.group, c.resource, std::move(ns), std::move(name)};
}

const Collection& leaseCollection() {
  static const Collection c{.group = "coordination.k8s.io",
                            .version = "v1",
                            .resource = "leases",
                            .kind = "Lease",
                            .namespaced = true};
  return c;
}

std::string microTime(std::chrono::system_clock::time_point t) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

std::optional<std::chrono::system_clock::time_point> parseMicroTime(std::string_view s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  long frac = 0;
  const std::string str(s);
  const int n = std::sscanf(str.c_str(), "%d-%d-%dT%d:%d:%d.%ld", &year, &mon, &day, &hour, &min,
                            &sec, &frac);
  if (n < 6) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (n == 7) {
    // Fractions are written with 6 digits (MicroTime); scale others.
    const auto dot = str.find('.');
    size_t digits = 0;
    while (dot + 1 + digits < str.size() && std::isdigit(str[dot + 1 + digits])) ++digits;
    long us = frac;
    for (size_t i = digits; i < 6; ++i) us *= 10;
    for (size_t i = 6; i < digits; ++i) us /= 10;
    t += std::chrono::microseconds(us);
  }
  return t;
}

// A watch of one collection, run on a thread of its own.
class KubeWatch : public Watch {
 public:
  KubeWatch(KubeClient& client, PrefixScope scope, std::string prefix, Revision after)
      : client_(client), scope_(scope), prefix_(std::move(prefix)), last_(after) {
    thread_ = std::thread([this] { run(); });
  }
  ~KubeWatch() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  absl::StatusOr<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty() || !error_.ok(); });
    if (!events_.empty()) {
      std::vector<WatchEvent> out(std::make_move_iterator(events_.begin()),
                                  std::make_move_iterator(events_.end()));
      events_.clear();
      return out;
    }
    if (!error_.ok()) return error_;
    return std::vector<WatchEvent>{};
  }

 private:
  void fail(absl::Status s) {
    std::lock_guard lock(mu_);
    error_ = std::move(s);
    cv_.notify_all();
  }
  bool sleepOrStop(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return stop_; });
  }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stop_;
  }

  void run() {
    const Collection& c = *scope_.collection;
    int failures = 0;
    while (!stopping()) {
      const std::string target = fmt::format(
          "{}?watch=1&allowWatchBookmarks=true&resourceVersion={}&timeoutSeconds={}",
          c.path(scope_.ns), last_, 240 + std::uniform_int_distribution<int>(0, 120)(rng_));
      auto stream = client_.stream(target, infoFor("watch", c, scope_.ns));
      if (!stream.ok()) {
        const auto code = stream.status().code();
        if (code == absl::StatusCode::kOutOfRange || code == absl::StatusCode::kPermissionDenied ||
            code == absl::StatusCode::kNotFound) {
          fail(stream.status());
          return;
        }
        if (++failures % 10 == 0) {
          // Not fatal (a token may be mid-rotation, the server restarting), but visible.
          log::warn(fmt::format("kubernetes watch {}: {} failed attempts, still retrying: {}",
                                c.resource, failures, errorMessage(stream.status())));
        }
        if (sleepOrStop(KubeClient::backoff(failures))) return;
        continue;
      }
      failures = 0;
      while (!stopping()) {
        auto lines = (*stream)->next(200ms);
        if (!lines.ok()) break;  // dropped: resume from last_
        std::vector<WatchEvent> batch;
        for (const std::string& line : *lines) {
          auto ev = Json::parse(line, nullptr, false);
          if (ev.is_discarded()) continue;
          const std::string type = ev.value("type", "");
          const Json& obj = ev["object"];
          if (type == "ERROR") {
            if (obj.value("code", 0) == 410) {
              pushAll(std::move(batch));
              fail(absl::OutOfRangeError(
                  fmt::format("kubernetes watch {} from resourceVersion {}: 410 Gone ({}): relist",
                              c.resource, last_, obj.value("message", ""))));
              return;
            }
            break;  // another error: start a new watch from last_
          }
          auto rev = revisionOf(obj);
          if (!rev.ok()) continue;
          if (type == "BOOKMARK") {
            last_ = *rev;
            continue;
          }
          auto kv = decodeObject(c, obj);
          last_ = *rev;
          if (!kv.ok() || !kv->key.starts_with(prefix_)) continue;
          WatchEvent we;
          we.type = type == "DELETED" ? EventType::kDelete : EventType::kPut;
          we.kv = std::move(*kv);
          if (type == "ADDED") {
            we.kv.create_revision = we.kv.mod_revision;
          } else if (type == "MODIFIED" && !obj["metadata"]
                                                .value("annotations", Json::object())
                                                .contains(std::string(kCreateRevisionAnnotation))) {
            // Changed by someone other than Coral (a kubelet, kubectl): the create
            // revision is unknown, and certainly not this one.
            we.kv.create_revision = 0;
          }
          batch.push_back(std::move(we));
        }
        pushAll(std::move(batch));
        if ((*stream)->ended()) break;
      }
    }
  }

  void pushAll(std::vector<WatchEvent> batch) {
    if (batch.empty()) return;
    std::lock_guard lock(mu_);
    for (auto& e : batch) events_.push_back(std::move(e));
    cv_.notify_all();
  }

  KubeClient& client_;
  PrefixScope scope_;
  std::string prefix_;
  Revision last_;
  std::mt19937 rng_{std::random_device{}()};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> events_;
  absl::Status error_;
  bool stop_ = false;
  std::thread thread_;
};

class KubernetesBackend : public Backend {
 public:
  KubernetesBackend(std::unique_ptr<KubeClient> client, KubernetesBackendOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}
  ~KubernetesBackend() override {
    {
      std::lock_guard lock(sweep_mu_);
      sweep_stop_ = true;
    }
    sweep_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  absl::StatusOr<KeyValue> get(std::string_view key) override {
    const ObjectRef ref = refForKey(key);
    CORAL_ASSIGN_OR_RETURN(Json obj, getObject(ref, key));
    return decodeObject(*ref.collection, obj);
  }

  absl::StatusOr<ListResult> list(std::string_view prefix) override {
    ListResult out;
    bool first = true;
    for (const PrefixScope& scope : scopesForPrefix(prefix)) {
      auto items = listAll(*scope.collection, scope.ns);
      if (!items.ok()) {
        // A collection that does not exist (CRD not installed) holds no keys, unless the
        // prefix is that collection's alone.
        if (isNotFound(items.status()) && scopesForPrefix(prefix).size() > 1) continue;
        return items.status();
      }
      out.revision = first ? items->second : std::min(out.revision, items->second);
      first = false;
      for (const Json& item : items->first) {
        auto kv = decodeObject(*scope.collection, item);
        if (!kv.ok()) {
          log::warn(std::string(errorMessage(kv.status())));
          continue;
        }
        if (kv->key.starts_with(prefix)) out.kvs.push_back(std::move(*kv));
      }
    }
    std::sort(out.kvs.begin(), out.kvs.end(),
              [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
    return out;
  }

  absl::StatusOr<Revision> create(std::string_view key, std::string_view value,
                                  LeaseId lease) override {
    const ObjectRef ref = refForKey(key);
    CORAL_ASSIGN_OR_RETURN(Json obj, encodeObject(ref, key, value, lease, std::nullopt));
    if (lease != 0) {
      CORAL_RETURN_IF_ERROR(checkLease(lease));
    }
    const Collection& c = *ref.collection;
    CORAL_ASSIGN_OR_RETURN(Response res,
                           client_->request("POST", c.path(ref.ns),
                                            infoFor("create", c, ref.ns, ref.name), obj.dump()));
    if (res.status == 200 || res.status == 201) return revisionOf(Json::parse(res.body));
    if (res.status == 404) {
      return absl::FailedPreconditionError(fmt::format(
          "{}: kubernetes create {}: 404 (is the CRD {}.{} installed, and the namespace?)", key,
          c.resource, c.resource, c.group));
    }
    return annotate(errorFromResponse(infoFor("create", c, ref.ns, ref.name), res.status, res.body),
                    key);
  }

  absl::StatusOr<Revision> update(std::string_view key, std::string_view value, Revision expected,
                                  LeaseId lease) override {
    const ObjectRef ref = refForKey(key);
    CORAL_ASSIGN_OR_RETURN(Json current, getObject(ref, key));
    CORAL_ASSIGN_OR_RETURN(KeyValue kv, decodeObject(*ref.collection, current));
    if (kv.mod_revision != expected) {
      return absl::AbortedError(
          fmt::format("{}: revision is {}, not the expected {}", key, kv.mod_revision, expected));
    }
    return replace(ref, key, value, expected, kv.create_revision, lease);
  }

  absl::StatusOr<Revision> put(std::string_view key, std::string_view value,
                               LeaseId lease) override {
    const ObjectRef ref = refForKey(key);
    absl::Status last;
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      auto current = getObject(ref, key);
      if (isNotFound(current.status())) {
        auto created = create(key, value, lease);
        if (created.ok() || !isAlreadyExists(created.status())) return created;
        last = created.status();
        continue;
      }
      if (!current.ok()) return current.status();
      CORAL_ASSIGN_OR_RETURN(KeyValue kv, decodeObject(*ref.collection, *current));
      auto replaced = replace(ref, key, value, kv.mod_revision, kv.create_revision, lease);
      if (replaced.ok() || (!isConflict(replaced.status()) && !isNotFound(replaced.status()))) {
        return replaced;
      }
      last = replaced.status();
    }
    return annotate(last, fmt::format("put gave up after {} attempts", kWriteAttempts));
  }

  absl::StatusOr<Revision> remove(std::string_view key, std::optional<Revision> expected) override {
    const ObjectRef ref = refForKey(key);
    const Collection& c = *ref.collection;
    if (c.read_only) {
      CORAL_RETURN_IF_ERROR(encodeObject(ref, key, "{}", 0, std::nullopt).status());
    }
    if (c.generic) {
      // The object's name is a hash: make sure it holds this key (and exists).
      CORAL_RETURN_IF_ERROR(getObject(ref, key).status());
    }
    Json opts = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
    if (expected) opts["preconditions"] = {{"resourceVersion", std::to_string(*expected)}};
    const RequestInfo info = infoFor("delete", c, ref.ns, ref.name);
    CORAL_ASSIGN_OR_RETURN(Response res, client_->request("DELETE", ref.path(), info, opts.dump()));
    if (res.status == 200 || res.status == 202) {
      auto body = Json::parse(res.body, nullptr, false);
      // Servers that answer a delete with a Status instead of the object do not say the
      // revision of the deletion: the current revision is an upper bound of it.
      if (body.is_discarded() || body.value("kind", "") == "Status") return currentRevision();
      return revisionOf(body);
    }
    if (res.status == 409) {
      return absl::AbortedError(
          fmt::format("{}: changed since revision {}", key, expected ? *expected : 0));
    }
    return annotate(errorFromResponse(info, res.status, res.body), key);
  }

  absl::StatusOr<WatchPtr> watch(std::string_view prefix, Revision from_revision) override {
    const std::vector<PrefixScope> scopes = scopesForPrefix(prefix);
    if (scopes.size() != 1) {
      return absl::InvalidArgumentError(fmt::format(
          "kubernetes datastore: watch \"{}\" spans several kinds; watch one kind's prefix "
          "(/coral/v1/<Kind>/) at a time",
          prefix));
    }
    Revision after = from_revision - 1;
    if (from_revision <= 0) {
      CORAL_ASSIGN_OR_RETURN(after, currentRevision());
    }
    return WatchPtr(
        std::make_unique<KubeWatch>(*client_, scopes.front(), std::string(prefix), after));
  }

  absl::StatusOr<LeaseId> grantLease(std::chrono::seconds ttl) override {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    const LeaseId id = static_cast<LeaseId>(rng() >> 12) | 1;
    const auto now = std::chrono::system_clock::now();
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata",
                   {{"name", leaseName(id)},
                    {"namespace", ns()},
                    {"labels", {{std::string(kKvLeaseLabel), "true"}}}}},
                  {"spec",
                   {{"holderIdentity", host},
                    {"leaseDurationSeconds", std::max<int64_t>(1, ttl.count())},
                    {"acquireTime", microTime(now)},
                    {"renewTime", microTime(now)}}}};
    const RequestInfo info = infoFor("create", leaseCollection(), ns(), leaseName(id));
    CORAL_ASSIGN_OR_RETURN(
        Response res, client_->request("POST", leaseCollection().path(ns()), info, lease.dump()));
    if (res.status != 200 && res.status != 201) {
      return errorFromResponse(info, res.status, res.body);
    }
    startSweeper();
    return id;
  }

  absl::Status keepAlive(LeaseId id) override {
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
      CORAL_ASSIGN_OR_RETURN(Json lease, liveLease(id));
      lease["spec"]["renewTime"] = microTime(std::chrono::system_clock::now());
      const RequestInfo info = infoFor("update", leaseCollection(), ns(), leaseName(id));
      CORAL_ASSIGN_OR_RETURN(Response res,
                             client_->request("PUT", leasePath(id), info, lease.dump()));
      if (res.status == 200) return absl::OkStatus();
      if (res.status != 409) return errorFromResponse(info, res.status, res.body);
    }
    return absl::AbortedError(fmt::format("lease {}: keepalive kept conflicting", id));
  }

  absl::Status revokeLease(LeaseId id) override {
    CORAL_ASSIGN_OR_RETURN(Json lease, leaseObject(id));
    return expire(id, lease);
  }

  absl::StatusOr<Revision> currentRevision() override {
    static const Collection namespaces{
        .group = "", .version = "v1", .resource = "namespaces", .kind = "Namespace"};
    const RequestInfo info = infoFor("list", namespaces);
    CORAL_ASSIGN_OR_RETURN(Response res,
                           client_->request("GET", "/api/v1/namespaces?limit=1", info));
    if (res.status != 200) return errorFromResponse(info, res.status, res.body);
    auto body = Json::parse(res.body, nullptr, false);
    if (body.is_discarded()) return absl::DataLossError("namespaces list: not JSON");
    return revisionOf(body);
  }

  absl::Status compact(Revision revision) override {
    if (options_.compact) return options_.compact(revision);
    return absl::UnimplementedError(
        "kubernetes datastore: the API server compacts its own history (etcd "
        "--auto-compaction); clients cannot");
  }

 private:
  std::string ns() const { return client_->config().namespace_; }
  static std::string leaseName(LeaseId id) { return fmt::format("coral-kv-{:x}", id); }
  std::string leasePath(LeaseId id) const {
    return leaseCollection().path(ns()) + "/" + leaseName(id);
  }

  absl::StatusOr<Json> getObject(const ObjectRef& ref, std::string_view key) {
    const RequestInfo info = infoFor("get", *ref.collection, ref.ns, ref.name);
    CORAL_ASSIGN_OR_RETURN(Response res, client_->request("GET", ref.path(), info));
    if (res.status == 404) return absl::NotFoundError(fmt::format("{}: not found", key));
    if (res.status != 200) return annotate(errorFromResponse(info, res.status, res.body), key);
    auto obj = Json::parse(res.body, nullptr, false);
    if (obj.is_discarded())
      return absl::DataLossError(fmt::format("{}: response is not JSON", key));
    if (ref.collection->generic) {
      auto kv = decodeObject(*ref.collection, obj);
      if (!kv.ok() || kv->key != key) {
        return absl::NotFoundError(fmt::format("{}: not found", key));
      }
    }
    return obj;
  }

  absl::StatusOr<Revision> replace(const ObjectRef& ref, std::string_view key,
                                   std::string_view value, Revision expected, Revision create_rev,
                                   LeaseId lease) {
    CORAL_ASSIGN_OR_RETURN(Json obj, encodeObject(ref, key, value, lease, create_rev));
    if (lease != 0) {
      CORAL_RETURN_IF_ERROR(checkLease(lease));
    }
    obj["metadata"]["resourceVersion"] = std::to_string(expected);
    const RequestInfo info = infoFor("update", *ref.collection, ref.ns, ref.name);
    CORAL_ASSIGN_OR_RETURN(Response res, client_->request("PUT", ref.path(), info, obj.dump()));
    if (res.status == 200 || res.status == 201) return revisionOf(Json::parse(res.body));
    if (res.status == 409) {
      return absl::AbortedError(fmt::format("{}: changed since revision {}", key, expected));
    }
    if (res.status == 404) return absl::NotFoundError(fmt::format("{}: not found", key));
    return annotate(errorFromResponse(info, res.status, res.body), key);
  }

  // Every item of a collection (paginated), and the list's resourceVersion.
  absl::StatusOr<std::pair<std::vector<Json>, Revision>> listAll(const Collection& c,
                                                                 const std::string& ns,
                                                                 std::string_view selector = {}) {
    const RequestInfo info = infoFor("list", c, ns);
    for (int restart = 0; restart < 3; ++restart) {
      std::vector<Json> items;
      Revision revision = 0;
      std::string cont;
      bool expired = false;
      do {
        std::string target = fmt::format("{}?limit={}", c.path(ns), kPageSize);
        if (!cont.empty()) target += "&continue=" + urlEncode(cont);
        if (!selector.empty()) target += "&labelSelector=" + urlEncode(selector);
        CORAL_ASSIGN_OR_RETURN(Response res, client_->request("GET", target, info));
        if (res.status == 410 && !cont.empty()) {
          expired = true;  // the snapshot was compacted mid-list: start over
          break;
        }
        if (res.status != 200) return errorFromResponse(info, res.status, res.body);
        auto body = Json::parse(res.body, nullptr, false);
        if (body.is_discarded()) {
          return absl::DataLossError(fmt::format("list {}: response is not JSON", c.resource));
        }
        if (cont.empty()) {
          CORAL_ASSIGN_OR_RETURN(revision, revisionOf(body));
        }
        for (Json& item : body["items"]) items.push_back(std::move(item));
        cont = body["metadata"].value("continue", "");
      } while (!cont.empty());
      if (!expired) return std::make_pair(std::move(items), revision);
    }
    return absl::UnavailableError(fmt::format("list {}: continue token kept expiring", c.resource));
  }

  absl::StatusOr<Json> leaseObject(LeaseId id) {
    const RequestInfo info = infoFor("get", leaseCollection(), ns(), leaseName(id));
    CORAL_ASSIGN_OR_RETURN(Response res, client_->request("GET", leasePath(id), info));
    if (res.status == 404) {
      return absl::NotFoundError(fmt::format("lease {} not found (expired or revoked)", id));
    }
    if (res.status != 200) return errorFromResponse(info, res.status, res.body);
    return Json::parse(res.body);
  }

  static bool expired(const Json& lease) {
    const Json spec = lease.value("spec", Json::object());
    auto renewed = parseMicroTime(spec.value("renewTime", ""));
    const int64_t ttl = spec.value("leaseDurationSeconds", 0);
    if (!renewed) return true;
    return std::chrono::system_clock::now() > *renewed + std::chrono::seconds(ttl);
  }

  // The lease, unless it is gone or expired (then it is swept now).
  absl::StatusOr<Json> liveLease(LeaseId id) {
    CORAL_ASSIGN_OR_RETURN(Json lease, leaseObject(id));
    if (expired(lease)) {
      (void)expire(id, lease);
      return absl::NotFoundError(fmt::format("lease {} expired", id));
    }
    return lease;
  }
  absl::Status checkLease(LeaseId id) { return liveLease(id).status(); }

  // Deletes the keys of a lease, then the lease (only if unchanged since read).
  absl::Status expire(LeaseId id, const Json& lease) {
    const std::string selector = fmt::format("{}={}", kLeaseLabel, id);
    for (const Collection& c : allCollections()) {
      if (c.read_only) continue;
      auto items = listAll(c, "", selector);
      if (!items.ok()) continue;  // CRD not installed: no keys there
      for (const Json& item : items->first) {
        const Json& meta = item["metadata"];
        ObjectRef ref{&c, meta.value("namespace", ""), meta.value("name", "")};
        const RequestInfo info = infoFor("delete", c, ref.ns, ref.name);
        auto res = client_->request("DELETE", ref.path(), info, "");
        if (!res.ok()) return res.status();
      }
    }
    Json opts = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
    if (lease.contains("metadata") && lease["metadata"].contains("resourceVersion")) {
      opts["preconditions"] = {{"resourceVersion", lease["metadata"]["resourceVersion"]}};
    }
    const RequestInfo info = infoFor("delete", leaseCollection(), ns(), leaseName(id));
    CORAL_ASSIGN_OR_RETURN(Response res,
                           client_->request("DELETE", leasePath(id), info, opts.dump()));
    if (res.status == 200 || res.status == 202 || res.status == 404 || res.status == 409) {
      return absl::OkStatus();  // 404/409: another sweeper or a keepalive got there first
    }
    return errorFromResponse(info, res.status, res.body);
  }

  void startSweeper() {
    std::lock_guard lock(sweep_mu_);
    if (sweeper_.joinable() || sweep_stop_) return;
    sweeper_ = std::thread([this] {
      std::unique_lock lock(sweep_mu_);
      while (
          !sweep_cv_.wait_for(lock, client_->config().lease_sweep, [&] { return sweep_stop_; })) {
        lock.unlock();
        sweepOnce();
        lock.lock();
      }
    });
  }

  void sweepOnce() {
    auto leases = listAll(leaseCollection(), ns(), fmt::format("{}=true", kKvLeaseLabel));
    if (!leases.ok()) {
      log::warn(
          fmt::format("kubernetes datastore: lease sweep: {}", errorMessage(leases.status())));
      return;
    }
    for (const Json& lease : leases->first) {
      if (!expired(lease)) continue;
      const std::string name = lease["metadata"].value("name", "");
      auto id =
          std::strtoll(name.substr(std::string_view("coral-kv-").size()).c_str(), nullptr, 16);
      if (id != 0) (void)expire(id, lease);
    }
  }

  std::unique_ptr<KubeClient> client_;
  KubernetesBackendOptions options_;
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool sweep_stop_ = false;
  std::thread sweeper_;
};

}  // namespace
}  // namespace kubernetes

absl::StatusOr<BackendPtr> openKubernetesBackend(std::string_view url,
                                                 KubernetesBackendOptions options) {
  CORAL_ASSIGN_OR_RETURN(kubernetes::ClientConfig config, kubernetes::configFromUrl(url));
  CORAL_ASSIGN_OR_RETURN(auto client, kubernetes::KubeClient::create(std::move(config)));
  return BackendPtr(
      std::make_unique<kubernetes::KubernetesBackend>(std::move(client), std::move(options)));
}

}  // namespace coral::datastore
