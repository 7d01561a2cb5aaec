// Agent: corald's core, wiring the pieces together. It opens the datastore, registers
// this node (its underlay addresses), keeps caches of the resources it needs, reconciles
// the kernel's routes (at start, on every change and periodically), serves the CNI and
// status gRPC services on a unix socket and /livez /readyz /metrics over HTTP.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "agent/config.h"
#include "agent/metrics.h"
#include "agent/underlay.h"

namespace coral::agent {

class ResourceCache;

class Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts everything; returns once the gRPC socket and HTTP port are serving.
  absl::Status start();
  // Stops serving and joins threads. Kernel state is left as it is: pods keep working
  // while corald restarts.
  void stop();
  // Ready: caches synced and the dataplane programmed at least once.
  bool ready() const;
  const AgentConfig& config() const { return config_; }
  Metrics& metrics() { return metrics_; }

  // Asks the route reconciler to run soon (cheap; coalesces).
  void requestReconcile();

  struct Impl;

 private:
  void reconcileLoop();
  absl::Status reconcileOnce();
  absl::Status reconcilePolicy();
  std::vector<ResourceCache*> caches() const;
  bool cachesSynced() const;

  AgentConfig config_;
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> programmed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true;
  std::thread reconcile_thread_;
};

}  // namespace coral::agent
