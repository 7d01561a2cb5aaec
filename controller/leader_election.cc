// LeaderElector and its two locks (see leader_election.h).
#include "controller/leader_election.h"

#include <fmt/format.h>

#include <ctime>
#include <random>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/codec.h"

namespace coral::controller {
namespace {

using datastore::kubernetes::KubeClient;
using datastore::kubernetes::RequestInfo;
using model::Json;

LeaderRecord recordFromLease(const Json& lease) {
  LeaderRecord r;
  const Json spec = lease.value("spec", Json::object());
  r.holder = spec.value("holderIdentity", "");
  r.lease_duration_s = spec.value("leaseDurationSeconds", 15);
  r.acquire_time = spec.value("acquireTime", "");
  r.renew_time = spec.value("renewTime", "");
  r.transitions = spec.value("leaseTransitions", 0);
  r.version = lease["metadata"].value("resourceVersion", "");
  return r;
}

Json specOf(const LeaderRecord& r) {
  Json spec = {{"holderIdentity", r.holder},
               {"leaseDurationSeconds", r.lease_duration_s},
               {"leaseTransitions", r.transitions}};
  if (!r.acquire_time.empty()) spec["acquireTime"] = r.acquire_time;
  if (!r.renew_time.empty()) spec["renewTime"] = r.renew_time;
  return spec;
}

class KubernetesLeaseLock : public LeaderLock {
 public:
  KubernetesLeaseLock(KubeClient& client, std::string ns, std::string name)
      : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

  absl::StatusOr<std::optional<LeaderRecord>> read() override {
    const RequestInfo info{"get", "coordination.k8s.io", "leases", ns_, name_};
    CORAL_ASSIGN_OR_RETURN(auto res, client_.request("GET", path(), info));
    if (res.status == 404) return std::optional<LeaderRecord>();
    if (res.status != 200) {
      return datastore::kubernetes::errorFromResponse(info, res.status, res.body);
    }
    return std::optional<LeaderRecord>(recordFromLease(Json::parse(res.body)));
  }

  absl::Status create(const LeaderRecord& r) override {
    const RequestInfo info{"create", "coordination.k8s.io", "leases", ns_, name_};
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", name_}, {"namespace", ns_}}},
                  {"spec", specOf(r)}};
    CORAL_ASSIGN_OR_RETURN(auto res, client_.request("POST", collection(), info, lease.dump()));
    if (res.status == 200 || res.status == 201) return absl::OkStatus();
    return datastore::kubernetes::errorFromResponse(info, res.status, res.body);
  }

  absl::Status update(const LeaderRecord& r) override {
    const RequestInfo info{"update", "coordination.k8s.io", "leases", ns_, name_};
    Json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", name_}, {"namespace", ns_}, {"resourceVersion", r.version}}},
        {"spec", specOf(r)}};
    CORAL_ASSIGN_OR_RETURN(auto res, client_.request("PUT", path(), info, lease.dump()));
    if (res.status == 200) return absl::OkStatus();
    return datastore::kubernetes::errorFromResponse(info, res.status, res.body);
  }

  std::string describe() const override {
    return fmt::format("Lease {}/{} (coordination.k8s.io/v1)", ns_, name_);
  }

 private:
  std::string collection() const {
    return fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases", ns_);
  }
  std::string path() const { return collection() + "/" + name_; }

  KubeClient& client_;
  std::string ns_;
  std::string name_;
};

class DatastoreLeaderLock : public LeaderLock {
 public:
  DatastoreLeaderLock(datastore::Backend& backend, std::string key)
      : backend_(backend), key_(std::move(key)) {}

  absl::StatusOr<std::optional<LeaderRecord>> read() override {
    auto kv = backend_.get(key_);
    if (datastore::isNotFound(kv.status())) return std::optional<LeaderRecord>();
    if (!kv.ok()) return kv.status();
    auto json = Json::parse(kv->value, nullptr, false);
    if (json.is_discarded()) return absl::DataLossError(fmt::format("{}: not JSON", key_));
    LeaderRecord r = recordFromLease(Json{{"spec", json}, {"metadata", Json::object()}});
    r.version = std::to_string(kv->mod_revision);
    return std::optional<LeaderRecord>(r);
  }
  absl::Status create(const LeaderRecord& r) override {
    return backend_.create(key_, specOf(r).dump()).status();
  }
  absl::Status update(const LeaderRecord& r) override {
    auto expected = parseInt<datastore::Revision>(r.version);
    if (!expected) return absl::InvalidArgumentError("leader record without a version");
    return backend_.update(key_, specOf(r).dump(), *expected).status();
  }
  std::string describe() const override { return fmt::format("datastore key {}", key_); }

 private:
  datastore::Backend& backend_;
  std::string key_;
};

}  // namespace

std::string nowMicroTime() {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

std::unique_ptr<LeaderLock> kubernetesLeaseLock(KubeClient& client, std::string ns,
                                                std::string name) {
  return std::make_unique<KubernetesLeaseLock>(client, std::move(ns), std::move(name));
}

std::unique_ptr<LeaderLock> datastoreLeaderLock(datastore::Backend& backend, std::string key) {
  return std::make_unique<DatastoreLeaderLock>(backend, std::move(key));
}

LeaderElector::LeaderElector(LeaderLock& lock, ElectionOptions options)
    : lock_(lock), options_(std::move(options)) {}

LeaderElector::~LeaderElector() { stop(true); }

void LeaderElector::start() {
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::stop(bool release) {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    release_ = release;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::tryAcquireOrRenew() {
  const auto now = std::chrono::steady_clock::now();
  const std::string stamp = nowMicroTime();
  const int duration_s = static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count()));
  auto current = lock_.read();
  if (!current.ok()) {
    log::warn(fmt::format("leader election: reading {}: {}", lock_.describe(),
                          errorMessage(current.status())));
    return false;
  }
  if (!current->has_value()) {
    LeaderRecord mine{options_.identity, duration_s, stamp, stamp, 0, ""};
    const absl::Status s = lock_.create(mine);
    if (!s.ok()) return false;
    observed_ = mine;
    observed_at_ = now;
    return true;
  }
  LeaderRecord rec = **current;
  if (!observed_ || *observed_ != rec) {
    observed_ = rec;
    observed_at_ = now;
  }
  LeaderRecord next = rec;
  if (rec.holder != options_.identity) {
    const bool expired =
        rec.holder.empty() || now >= observed_at_ + std::chrono::seconds(rec.lease_duration_s);
    if (!expired) return false;
    next.holder = options_.identity;
    next.acquire_time = stamp;
    next.transitions = rec.transitions + 1;
  }
  next.renew_time = stamp;
  next.lease_duration_s = duration_s;
  const absl::Status s = lock_.update(next);
  if (!s.ok()) return false;
  return true;
}

void LeaderElector::run() {
  static thread_local std::mt19937 rng(std::random_device{}());
  auto wait = [&](std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [&] { return stop_.load(); });
  };
  while (!stop_) {
    if (tryAcquireOrRenew()) {
      log::info(fmt::format("leader election: {} is the leader ({})", options_.identity,
                            lock_.describe()));
      leader_ = true;
      lead();
      leader_ = false;
      if (options_.on_stopped_leading) options_.on_stopped_leading();
      if (stop_) break;
      continue;
    }
    // client-go's JitterFactor 1.2: retry in [period, 2.2 * period].
    const auto period = options_.retry_period;
    const auto jitter = std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(0, period.count() * 6 / 5)(rng));
    if (wait(period + jitter)) break;
  }
}

// Runs on_started_leading on a thread while renewing; returns when leadership is lost or
// the elector stops.
void LeaderElector::lead() {
  std::atomic<bool> work_stop{false};
  std::thread worker;
  if (options_.on_started_leading) {
    worker = std::thread([&] { options_.on_started_leading(work_stop); });
  }
  auto last_renew = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.retry_period, [&] { return stop_.load(); })) break;
    }
    if (tryAcquireOrRenew()) {
      last_renew = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_renew > options_.renew_deadline) {
      log::warn(fmt::format("leader election: {} lost {}", options_.identity, lock_.describe()));
      break;
    }
  }
  work_stop = true;
  if (worker.joinable()) worker.join();
  if (stop_ && release_) {
    // Hand over at once: an empty holder is free for the next candidate.
    auto current = lock_.read();
    if (current.ok() && current->has_value() && (*current)->holder == options_.identity) {
      LeaderRecord rec = **current;
      rec.holder.clear();
      rec.lease_duration_s = 1;
      rec.renew_time = nowMicroTime();
      (void)lock_.update(rec);
    }
  }
}

}  // namespace coral::controller
