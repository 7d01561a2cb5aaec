// Leader election for coral-controller, as client-go's leaderelection does it: a lock
// record (holder, lease duration, acquire/renew times, transitions) that candidates
// compare-and-swap. A record is expired when it has not changed for its lease duration
// *as observed by this candidate's own clock* (no clock sync needed between candidates).
//
// Locks: KubernetesLeaseLock (a coordination.k8s.io/v1 Lease; kubectl get lease shows the
// holder) and DatastoreLeaderLock (a key in any datastore backend: etcd, file).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "datastore/backend.h"
#include "datastore/kubernetes/kube_client.h"

namespace coral::controller {

struct LeaderRecord {
  std::string holder;
  int lease_duration_s = 15;
  std::string acquire_time;  // RFC 3339 with microseconds
  std::string renew_time;
  int transitions = 0;
  std::string version;  // the lock's CAS token (resourceVersion / mod revision)
  bool operator==(const LeaderRecord&) const = default;
};

class LeaderLock {
 public:
  virtual ~LeaderLock() = default;
  // nullopt when there is no record yet.
  virtual absl::StatusOr<std::optional<LeaderRecord>> read() = 0;
  // kAlreadyExists when someone created it first.
  virtual absl::Status create(const LeaderRecord& record) = 0;
  // CAS on record.version; kAborted when it changed.
  virtual absl::Status update(const LeaderRecord& record) = 0;
  virtual std::string describe() const = 0;
};

// coordination.k8s.io/v1 Lease `name` in `ns`.
std::unique_ptr<LeaderLock> kubernetesLeaseLock(datastore::kubernetes::KubeClient& client,
                                                std::string ns, std::string name);
// A JSON record at `key` of a datastore backend.
std::unique_ptr<LeaderLock> datastoreLeaderLock(datastore::Backend& backend, std::string key);

struct ElectionOptions {
  std::string identity;
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};  // leader gives up if it cannot renew
  std::chrono::milliseconds retry_period{2000};
  // On the elector's thread; on_started_leading may block until `stop` is set: the
  // elector sets it when leadership is lost or the elector stops.
  std::function<void(const std::atomic<bool>& stop)> on_started_leading;
  std::function<void()> on_stopped_leading;
};

class LeaderElector {
 public:
  LeaderElector(LeaderLock& lock, ElectionOptions options);
  ~LeaderElector();  // stop(true)

  void start();
  // Stops campaigning; with release, a leader empties the record so that another
  // candidate takes over at once instead of after the lease duration.
  void stop(bool release = true);
  bool isLeader() const { return leader_.load(); }
  // One acquire-or-renew attempt (exposed for tests). True when this candidate holds it.
  bool tryAcquireOrRenew();

 private:
  void run();
  void lead();

  LeaderLock& lock_;
  ElectionOptions options_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> lost_{false};
  bool release_ = true;
  std::optional<LeaderRecord> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

std::string nowMicroTime();

}  // namespace coral::controller
