// IP address management kinds: IPPool (what operators write), IPAMConfiguration, and
// the records IPAM keeps for itself: IPAMBlock, BlockAffinity, IPAMHandle.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/meta.h"

namespace coral::model {

struct IPPoolSpec {
  std::string cidr;
  std::optional<int> block_size;  // default 26 (IPv4) / 122 (IPv6)
  std::string encapsulation;      // None (default) | VXLAN | VXLANCrossSubnet
  bool nat_outgoing = false;
  bool disabled = false;
  std::string node_selector;  // Calico selector over node labels; empty = all()

  template <class V>
  void describe(V& v) {
    v("cidr", cidr,
      {.required = true, .doc = "Pool range, e.g. 10.244.0.0/16", .pattern = kCidrShape});
    v("blockSize", block_size,
      {.minimum = 0, .maximum = 128, .doc = "Prefix length of per-node blocks"});
    v("encapsulation", encapsulation,
      {.enum_values = {"None", "VXLAN", "VXLANCrossSubnet"}, .default_json = "\"None\""});
    v("natOutgoing", nat_outgoing);
    v("disabled", disabled);
    v("nodeSelector", node_selector, {.default_json = "\"all()\""});
  }
  void validate(Validation& v) const;
  bool operator==(const IPPoolSpec&) const = default;
};

struct IPPool {
  static constexpr const char* kKind = "IPPool";
  ObjectMeta metadata;
  IPPoolSpec spec;
  static void applyDefaults(IPPool& pool);
  bool operator==(const IPPool&) const = default;
};

// Pools must not share addresses: a block of one would hold addresses of the other and one
// address could be handed out twice. `candidate` (about to be written) is checked against
// the stored `pools`, itself excluded by name. The ResourceStore calls this on every write
// of an IPPool; IPAM re-checks all pools before it allocates (a racing write can slip by).
absl::Status checkPoolOverlap(const IPPool& candidate, const std::vector<IPPool>& pools);

struct IPAMConfigurationSpec {
  bool strict_affinity = false;              // never borrow from other nodes' blocks
  int max_blocks_per_host = 0;               // 0 = unlimited
  std::optional<bool> auto_allocate_blocks;  // default true

  template <class V>
  void describe(V& v) {
    v("strictAffinity", strict_affinity);
    v("maxBlocksPerHost", max_blocks_per_host, {.minimum = 0});
    v("autoAllocateBlocks", auto_allocate_blocks);
  }
  bool operator==(const IPAMConfigurationSpec&) const = default;
};

struct IPAMConfiguration {
  static constexpr const char* kKind = "IPAMConfiguration";
  ObjectMeta metadata;
  IPAMConfigurationSpec spec;
  static void applyDefaults(IPAMConfiguration& config);
  static void validateObject(const IPAMConfiguration& config, Validation& v);
  bool operator==(const IPAMConfiguration&) const = default;
};

struct BlockAllocation {
  int64_t ordinal = 0;  // offset of the address inside the block
  std::string handle_id;
  std::map<std::string, std::string> attributes;  // namespace, pod, node, ...

  template <class V>
  void describe(V& v) {
    v("ordinal", ordinal, {.required = true, .minimum = 0});
    v("handleID", handle_id, {.required = true});
    v("attributes", attributes);
  }
  bool operator==(const BlockAllocation&) const = default;
};

struct IPAMBlockSpec {
  std::string cidr;
  std::string affinity;  // "host:<node>", or empty when the block has no owner
  std::vector<BlockAllocation> allocations;
  bool deleted = false;

  template <class V>
  void describe(V& v) {
    v("cidr", cidr, {.required = true, .pattern = kCidrShape});
    v("affinity", affinity);
    v("allocations", allocations);
    v("deleted", deleted);
  }
  void validate(Validation& v) const;
  bool operator==(const IPAMBlockSpec&) const = default;
};

struct IPAMBlock {
  static constexpr const char* kKind = "IPAMBlock";
  ObjectMeta metadata;
  IPAMBlockSpec spec;
  bool operator==(const IPAMBlock&) const = default;
};

struct BlockAffinitySpec {
  std::string node;
  std::string cidr;
  std::string state;  // confirmed (default) | pending | pendingDeletion
  bool deleted = false;

  template <class V>
  void describe(V& v) {
    v("node", node, {.required = true});
    v("cidr", cidr, {.required = true, .pattern = kCidrShape});
    v("state", state,
      {.enum_values = {"confirmed", "pending", "pendingDeletion"},
       .default_json = "\"confirmed\""});
    v("deleted", deleted);
  }
  void validate(Validation& v) const;
  bool operator==(const BlockAffinitySpec&) const = default;
};

struct BlockAffinity {
  static constexpr const char* kKind = "BlockAffinity";
  ObjectMeta metadata;
  BlockAffinitySpec spec;
  static void applyDefaults(BlockAffinity& affinity);
  bool operator==(const BlockAffinity&) const = default;
};

struct IPAMHandleSpec {
  std::string handle_id;
  std::map<std::string, int64_t> blocks;  // block CIDR → number of addresses held there
  bool deleted = false;

  template <class V>
  void describe(V& v) {
    v("handleID", handle_id, {.required = true});
    v("blocks", blocks);
    v("deleted", deleted);
  }
  bool operator==(const IPAMHandleSpec&) const = default;
};

struct IPAMHandle {
  static constexpr const char* kKind = "IPAMHandle";
  ObjectMeta metadata;
  IPAMHandleSpec spec;
  bool operator==(const IPAMHandle&) const = default;
};

}  // namespace coral::model
