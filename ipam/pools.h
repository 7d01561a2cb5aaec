// IP pools as IPAM sees them: the IPPool resources parsed once (CIDR, block size,
// compiled nodeSelector), the overlap rule between pools, and which pools serve a node.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"
#include "common/labels.h"
#include "model/kinds/ipam.h"
#include "policy/selector/selector.h"

namespace coral::ipam {

struct Pool {
  std::string name;
  common::Prefix cidr;
  int block_size = 26;
  bool disabled = false;
  policy::Selector node_selector;

  common::Family family() const { return cidr.family(); }
  // Number of blocks the pool holds (saturated for huge IPv6 pools).
  uint64_t numBlocks() const { return cidr.numSubPrefixes(block_size); }
  // The block of this pool that contains `address` (which must be inside the pool).
  common::Prefix blockOf(const common::IpAddress& address) const;
};

// Parses one IPPool (already defaulted by the model); errors name the pool and the field.
absl::StatusOr<Pool> parsePool(const model::IPPool& pool);

// Two pools overlap when their CIDRs share an address: rejected, because a block of one
// would hold addresses of the other and one address could be handed out twice.
// Returns InvalidArgument naming both pools, or OK. `pools` need not be sorted.
absl::Status checkNoOverlap(const std::vector<Pool>& pools);
// The same rule is enforced on write by the ResourceStore (model::checkPoolOverlap).

// Enabled pools of `family` whose nodeSelector matches `node_labels`, sorted by CIDR so
// that the allocator's choice is predictable.
std::vector<const Pool*> poolsForNode(const std::vector<Pool>& pools, common::Family family,
                                      const common::Labels& node_labels);
// The pool containing `address`, or nullptr.
const Pool* poolContaining(const std::vector<Pool>& pools, const common::IpAddress& address);
// The pool containing `block`, or nullptr.
const Pool* poolContaining(const std::vector<Pool>& pools, const common::Prefix& block);

}  // namespace coral::ipam
