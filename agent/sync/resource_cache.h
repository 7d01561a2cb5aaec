// ResourceCache: an always-current copy of every resource of one kind, felix's "syncer"
// for one kind. It lists, then watches from the list's revision, applies events to its
// map, and relists when the watch reports compaction or fails. It runs a thread of its
// own; `on_change` runs on that thread after every batch (keep it short: mark dirty).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datastore/resource_store.h"

namespace coral::agent {

class ResourceCache {
 public:
  ResourceCache(datastore::ResourceStore& store, const model::KindInfo& kind,
                std::function<void()> on_change);
  ~ResourceCache();
  ResourceCache(const ResourceCache&) = delete;
  ResourceCache& operator=(const ResourceCache&) = delete;

  void start();
  // Asks the thread to finish without waiting for it: stopping many caches is one wait
  // (a watch poll) rather than one per cache.
  void requestStop();
  void stop();  // requestStop() and join
  // True once the first list has been loaded.
  bool synced() const { return synced_.load(); }
  // Copies of every resource, ordered by namespace/name.
  std::vector<model::Resource> snapshot() const;
  // Typed copies; resources that do not decode are skipped.
  template <typename T>
  std::vector<T> typed() const {
    std::vector<T> out;
    for (const auto& r : snapshot()) {
      if (auto t = model::fromResource<T>(r); t.ok()) out.push_back(std::move(*t));
    }
    return out;
  }
  // Seconds since the last successful list or watch poll (datastore watch lag).
  double secondsSinceContact() const;

 private:
  void run();
  void sleepUnlessStopping(std::chrono::milliseconds duration);
  absl::Status relist(datastore::Revision* revision);

  datastore::ResourceStore& store_;
  const model::KindInfo& kind_;
  std::function<void()> on_change_;
  mutable std::mutex mu_;
  std::map<std::string, model::Resource> items_;  // key: namespace/name
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;  // with stop_cv_: backoff sleeps end at once on stop
  std::condition_variable stop_cv_;
  std::atomic<int64_t> last_contact_ms_{0};
  std::thread thread_;
};

}  // namespace coral::agent
