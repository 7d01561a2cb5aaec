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
#include "model/kinds/k8s.h"
#include "model/kinds/node.h"

namespace coral::ipam {

// Everything the check reads, once.
struct Snapshot {
  std::vector<model::IPPool> pool_resources;
  std::vector<Pool> pools;  // the ones that parsed
  std::vector<model::IPAMBlock> blocks;
  std::vector<model::BlockAffinity> affinities;
  std::vector<model::IPAMHandle> handles;
  std::set<std::string> nodes;
  // (namespace, name) of the Pods, and the addresses each Pod's status lists.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> pods;
  // The WorkloadEndpoints of each (namespace, pod): which container, which addresses.
  struct Endpoint {
    std::string container_id;
    std::vector<std::string> ips;  // addresses without their prefix length
  };
  std::map<std::pair<std::string, std::string>, std::vector<Endpoint>> endpoints;
  std::set<std::string> container_ids;  // of WorkloadEndpoints
};
absl::StatusOr<Snapshot> readSnapshot(datastore::ResourceStore& store);
// Adds one Pod / WorkloadEndpoint to a snapshot (readSnapshot and the GC's re-check).
void addPod(Snapshot& snapshot, const model::Pod& pod);
void addEndpoint(Snapshot& snapshot, const model::WorkloadEndpoint& endpoint);

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
  int64_t coral_ipam = 0;  // allocations made by the coral-ipam plugin (owner=coral-ipam)
  bool clean() const;
};

CheckReport analyze(const Snapshot& snapshot);
// Can the allocation of `ip` with these attributes still belong to a live workload? Shared
// by the check, the GC's re-check and `coralctl ipam release`. When in doubt: yes.
//  - a WorkloadEndpoint with the allocation's containerID: alive;
//  - made by coral-ipam (attribute owner=coral-ipam): alive while its node exists, because
//    nothing writes a Pod or WorkloadEndpoint for the pods of other CNI plugins on the
//    file and etcd stores; CNI DEL (or `coralctl ipam release --force`) releases it;
//  - with a pod attribute: alive while that Pod or a WorkloadEndpoint of it exists, except
//    that when every WorkloadEndpoint of the pod names another container and uses other
//    addresses, the allocation belongs to an earlier incarnation (a StatefulSet pod
//    re-created under the same name) and is not alive;
//  - without pod attributes: alive while its node exists.
bool workloadExists(const Snapshot& snapshot, const std::map<std::string, std::string>& attrs,
                    const std::string& ip);

model::Json reportToJson(const CheckReport& report);
absl::StatusOr<CheckReport> reportFromJson(const model::Json& json);
std::string formatReport(const CheckReport& report);  // human-readable

// Usage for `coralctl ipam show`.
struct BlockUsage {
  std::string cidr;
  std::string pool;
  std::string owner;  // node, or "" when the block has no affinity
  uint64_t size = 0;  // saturated when host_bits >= 64
  int host_bits = 0;
  uint64_t in_use = 0;
};
struct PoolUsage {
  std::string name;
  std::string cidr;
  bool disabled = false;
  uint64_t total = 0;  // saturated for huge IPv6 pools: print 2^host_bits then
  int host_bits = 0;   // total is 2^host_bits
  uint64_t in_use = 0;
  uint64_t blocks = 0;
};
struct Usage {
  std::vector<PoolUsage> pools;
  std::vector<BlockUsage> blocks;
};
Usage usage(const Snapshot& snapshot);

}  // namespace coral::ipam
