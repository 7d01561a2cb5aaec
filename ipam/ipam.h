// Ipam: address allocation for pods over the datastore. This is what corald calls on a
// CNI ADD/DEL, and what coralctl and coral-ipam use:
//
//   ipam::Ipam ipam(store);
//   auto r = ipam.autoAssign({.handle_id = ipam::handleIdFor(cid, "eth0"), .node = "n1",
//                             .ipv4 = true, .ipv6 = true,
//                             .attributes = {{"namespace", "shop"}, {"pod", "web-1"}}});
//   ...
//   ipam.releaseHandle(ipam::handleIdFor(cid, "eth0"));   // CNI DEL, idempotent
//   ipam.nodeBlocks("n1");                                // blocks to advertise by BGP
//
// Every change is a create or a compare-and-swap update of one record; no locks. The
// order of those writes is what keeps a crash from ever producing a duplicate: see
// ipam/README.md. Thread-safe: one Ipam may be shared by threads.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"
#include "common/labels.h"
#include "datastore/resource_store.h"
#include "ipam/names.h"
#include "ipam/pools.h"
#include "model/kinds/ipam.h"

namespace coral::ipam {

// Attribute keys of an allocation.
inline constexpr const char* kAttrNamespace = "namespace";
inline constexpr const char* kAttrPod = "pod";
inline constexpr const char* kAttrNode = "node";
inline constexpr const char* kAttrContainerId = "containerID";
// Who made the allocation, when it is not Coral's own CNI: coral-ipam writes
// owner=coral-ipam, because no Pod or WorkloadEndpoint is ever written for its pods.
inline constexpr const char* kAttrOwner = "owner";
inline constexpr const char* kOwnerCoralIpam = "coral-ipam";

struct Assignment {
  common::IpAddress address;
  common::Prefix block;        // the block the address lives in
  std::string pool;            // the IPPool's name
  common::Prefix pool_cidr{};  // the IPPool's CIDR (its prefix length suits L2 plugins)
  bool borrowed = false;       // the block is affine to another node: advertise a /32 (/128)
  bool operator==(const Assignment&) const = default;
};

struct AssignRequest {
  std::string handle_id{};  // handleIdFor(container id, interface)
  std::string node{};
  bool ipv4 = true;
  bool ipv6 = false;
  std::map<std::string, std::string> attributes{};  // namespace, pod, ...; node is added
  // Restrict to these pools (by name); empty: every enabled pool that selects the node.
  std::vector<std::string> ipv4_pools{};
  std::vector<std::string> ipv6_pools{};
  // Addresses (host prefixes) and prefixes never handed out to this request: coral-ipam's
  // `gateway` and `exclude`. Checked inside the CAS loop, like every other choice.
  std::vector<common::Prefix> reserved{};
  // Never hand out the pool's network and broadcast addresses (IPv6: the subnet-router
  // anycast address, host part all zero): coral-ipam's L2 plugins use the pool's prefix as
  // their subnet. /31, /32, /127 and /128 pools have no such addresses.
  bool skip_pool_edges = false;
};

struct AssignResult {
  std::optional<Assignment> ipv4;
  std::optional<Assignment> ipv6;
};

// The IPAMConfiguration "default", or its defaults when there is none.
struct IpamConfig {
  bool strict_affinity = false;
  int max_blocks_per_host = 0;  // 0: unlimited
  bool auto_allocate_blocks = true;
};

struct IpamOptions {
  // CAS conflicts tolerated by one operation before it gives up with kAborted.
  int max_conflicts = 100;
  // Test seam: called after the node's blocks were counted, right before it claims one
  // (another allocator of the node can claim here: the maxBlocksPerHost race).
  std::function<void(const std::string& node)> before_claim{};
};

class Ipam {
 public:
  explicit Ipam(datastore::ResourceStore& store, IpamOptions options = {})
      : store_(store), options_(options) {}

  // One address of each asked family for the handle. If the handle already holds an
  // address of a family (a retried ADD), that address is returned again. Dual stack is
  // all or nothing: when the second family fails, the first is released.
  // Errors: InvalidArgument (bad request), FailedPrecondition (no pool selects the node,
  // overlapping pools), ResourceExhausted (no free address), Aborted (too many conflicts).
  absl::StatusOr<AssignResult> autoAssign(const AssignRequest& request);

  // The addresses a handle holds (empty when it holds none).
  absl::StatusOr<std::vector<Assignment>> addressesOf(std::string_view handle_id);
  // Releases every address of the handle and the handle. Idempotent.
  absl::Status releaseHandle(std::string_view handle_id);
  // Releases one address; with `handle_id`, only while that handle holds it. Returns
  // false when the address was not allocated (or held by another handle).
  absl::StatusOr<bool> releaseAddress(const common::IpAddress& address,
                                      std::string_view handle_id = {});

  // The blocks affine to `node` (confirmed and owned), sorted: the routes it advertises.
  absl::StatusOr<std::vector<common::Prefix>> nodeBlocks(std::string_view node);
  // A node was deleted: its empty blocks are deleted, the others lose their affinity
  // (their allocations stay until released or collected), its affinities are deleted.
  absl::Status releaseNode(std::string_view node);
  // Deletes `block` if it is (still) empty, then its affinity. Returns whether it did.
  absl::StatusOr<bool> releaseBlockIfEmpty(const common::Prefix& block);

  absl::StatusOr<IpamConfig> config();
  absl::StatusOr<std::vector<Pool>> pools();

  datastore::ResourceStore& store() { return store_; }

 private:
  struct Context;  // one autoAssign's view: config, pools, node labels

  absl::StatusOr<std::optional<Assignment>> assignFamily(const Context& ctx, common::Family family);
  // Tries to allocate in one block; nullopt when it is full, gone, or not usable.
  absl::StatusOr<std::optional<Assignment>> allocateInBlock(const Context& ctx,
                                                            const common::Prefix& block,
                                                            const Pool& pool, bool borrow);
  // Claims the lowest unclaimed block of `pools` for the node; nullopt when all are taken,
  // or (`*at_limit` set) when racing claims of the same node reached `max_blocks` first.
  absl::StatusOr<std::optional<common::Prefix>> claimBlock(std::string_view node,
                                                           const std::vector<const Pool*>& pools,
                                                           int max_blocks, bool* at_limit);
  absl::StatusOr<std::vector<model::BlockAffinity>> affinitiesOf(std::string_view node);
  absl::Status confirmAffinity(std::string_view node, const common::Prefix& block);
  // Handle bookkeeping: +delta addresses in `block` (the handle is created/deleted as needed).
  absl::Status adjustHandle(std::string_view handle_id, const common::Prefix& block, int delta);
  absl::StatusOr<bool> removeFromBlock(const common::Prefix& block, std::string_view handle_id,
                                       std::optional<int64_t> ordinal, int* removed);

  std::vector<common::Prefix> cachedBlocks(const std::string& node);
  void setCachedBlocks(const std::string& node, std::vector<common::Prefix> blocks);

  datastore::ResourceStore& store_;
  IpamOptions options_;
  std::mutex cache_mu_;
  // Hint only: the node's blocks as last listed, tried before listing again.
  std::map<std::string, std::vector<common::Prefix>> node_blocks_cache_;
};

}  // namespace coral::ipam
