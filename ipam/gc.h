// GarbageCollector: releases what the check finds, carefully. Every finding is first a
// candidate with the time it was first seen (on an injected Clock); only when it is still
// a finding after its grace period, AND a fresh re-read right before the write confirms
// it, is it released — with CAS, so that a concurrent change wins over the collector.
// A live pod's address is never released: its Pod or WorkloadEndpoint makes it live.
//
// One collector per cluster (a leader, or `coralctl ipam gc`) calls runOnce() periodically;
// candidates live in memory, so a restarted collector waits a full grace period again.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "ipam/check.h"
#include "ipam/ipam.h"

namespace coral::ipam {

struct GcOptions {
  // How long an allocation without a workload waits before it is released.
  std::chrono::seconds leak_grace{std::chrono::minutes(15)};
  // How long an empty block, a dangling affinity or a stale handle waits.
  std::chrono::seconds block_grace{std::chrono::minutes(5)};
  // Release empty blocks that a node still owns (they return to the pool).
  bool release_empty_blocks = true;
  // Test seam: called for a ripe leak right before its re-check (a pod can appear here).
  std::function<void(const AllocationRef&)> before_recheck{};
};

struct GcRound {
  CheckReport report;                        // what this round saw
  std::vector<AllocationRef> released;       // leaked allocations released
  std::vector<std::string> released_blocks;  // empty blocks deleted
  std::vector<std::string> released_nodes;   // nodes whose affinities were released
  std::vector<std::string> removed_affinities;
  std::vector<std::string> repaired_handles;
  std::vector<AllocationRef> spared;  // candidates the re-check found alive
  size_t waiting = 0;                 // candidates still inside their grace period
};

// Fresh reads: is this allocation still held by its handle, and is its workload still gone?
// False when the address was released or re-used meanwhile, or its workload exists.
absl::StatusOr<bool> stillLeaked(datastore::ResourceStore& store, const AllocationRef& ref);

class GarbageCollector {
 public:
  GarbageCollector(Ipam& ipam, const common::Clock& clock, GcOptions options = {})
      : ipam_(ipam), clock_(clock), options_(options) {}

  absl::StatusOr<GcRound> runOnce();

 private:
  // True when `key` has been a candidate for at least `grace`; records it otherwise.
  bool ripe(const std::string& key, std::chrono::seconds grace);
  absl::StatusOr<bool> removeDanglingAffinity(const BlockRef& ref);
  absl::StatusOr<bool> repairHandle(const std::string& handle_id);

  Ipam& ipam_;
  const common::Clock& clock_;
  GcOptions options_;
  std::map<std::string, common::Clock::Steady::time_point> first_seen_;
  std::map<std::string, common::Clock::Steady::time_point> seen_this_round_;
};

}  // namespace coral::ipam
