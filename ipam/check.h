// The IPAM consistency check: one consistent-enough read of every IPAM record and of the
// workloads (Pods, WorkloadEndpoints, Nodes), and a report of what is wrong: leaked
// allocations, orphaned blocks, dangling affinities, duplicates, out-of-pool allocations,
// stale handles, overlapping pools. The report has a JSON form that `coralctl ipam
// release --from-report` reads back. Also the usage numbers of `coralctl ipam show`.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datastore/resource_store.h"
#include "ipam/pools.h"
#include "model/codec.h"
#include "model/kinds/ipam.h"

namespace coral::ipam {

// Everything the check reads, once.
struct Snapshot {
  std::vector<model::IPPool> pool_resources;
  std::vector<Pool> pools;  // the ones that parsed
  std::vector<model::IPAMBlock> blocks;
  std::vector<model::BlockAffinity> affinities;
  std::vector<model::IPAMHandle> handles;
  std::set<std::string> nodes;
  std::set<std::pair<std::string, std::string>> pods;  // (namespace, name), Pods and WEPs
  std::set<std::string> container_ids;                 // of WorkloadEndpoints
};
absl::StatusOr<Snapshot> readSnapshot(datastore::ResourceStore& store);

// An allocation named by the address and the handle holding it.
struct AllocationRef {
  std::string ip;
  std::string handle;
  std::string block;
  std::string ns;
  std::string pod;
  std::string node;
  bool operator==(const AllocationRef&) const = default;
  auto operator<=>(const AllocationRef&) const = default;
};

struct BlockRef {
  std::string block;  // CIDR
  std::string node;   // owner ("" when none)
  std::string reason;
  bool operator==(const BlockRef&) const = default;
};

struct CheckReport {
  // No Pod and no WorkloadEndpoint for the allocation's namespace/pod attributes (or,
  // without those attributes, its node is gone). Candidates for release, not proof.
  std::vector<AllocationRef> leaks;
  // Blocks affine to a node that does not exist.
  std::vector<BlockRef> orphaned_blocks;
  // BlockAffinities whose block is missing or belongs to someone else.
  std::vector<BlockRef> dangling_affinities;
  // Addresses allocated more than once (only possible with overlapping blocks).
  std::vector<AllocationRef> duplicates;
  // Allocations in blocks that no pool contains any more.
  std::vector<AllocationRef> out_of_pool;
  // Handles that count addresses no block holds for them (interrupted writes).
  std::vector<std::string> stale_handles;
  // Allocations whose handle does not count their block (should never happen).
  std::vector<AllocationRef> untracked;
  std::vector<std::string> overlapping_pools;  // error messages
  int64_t allocations = 0;
  int64_t blocks = 0;
  bool clean() const;
};

CheckReport analyze(const Snapshot& snapshot);
// Does the allocation's workload exist (a Pod or a WorkloadEndpoint, or, without pod
// attributes, a Node)? Shared by the check and the GC's re-check.
bool workloadExists(const Snapshot& snapshot, const std::map<std::string, std::string>& attrs);

model::Json reportToJson(const CheckReport& report);
absl::StatusOr<CheckReport> reportFromJson(const model::Json& json);
std::string formatReport(const CheckReport& report);  // human-readable

// Usage for `coralctl ipam show`.
struct BlockUsage {
  std::string cidr;
  std::string pool;
  std::string owner;  // node, or "" when the block has no affinity
  uint64_t size = 0;
  uint64_t in_use = 0;
};
struct PoolUsage {
  std::string name;
  std::string cidr;
  bool disabled = false;
  uint64_t total = 0;  // saturated for huge IPv6 pools
  uint64_t in_use = 0;
  uint64_t blocks = 0;
};
struct Usage {
  std::vector<PoolUsage> pools;
  std::vector<BlockUsage> blocks;
};
Usage usage(const Snapshot& snapshot);

}  // namespace coral::ipam
