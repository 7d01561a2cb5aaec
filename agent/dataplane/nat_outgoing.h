// NAT outgoing: pods of pools with natOutgoing masquerade to destinations outside every
// Coral pool, as Calico's natOutgoing does. Coral's own nftables tables, one per family
// (`ip coral-nat`, `ip6 coral-nat`), separate from the policy table `inet coral`: a set of
// every pool CIDR, a set of the natOutgoing pool CIDRs and one postrouting (srcnat) rule.
// Traffic between pods (destination inside a pool) is never NATed. Rendering is pure;
// applying is one libnftables transaction that replaces both tables atomically.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/ip.h"

namespace coral::agent {

inline constexpr const char* kNatTable = "coral-nat";

struct NatOutgoingSpec {
  std::vector<common::Prefix> pools;      // every pool (both families)
  std::vector<common::Prefix> nat_pools;  // pools with natOutgoing
  bool operator==(const NatOutgoingSpec&) const = default;
};

// The nft script that makes the kernel hold exactly `spec`: a family's table exists only
// when one of its pools has natOutgoing; a table that should not exist is deleted.
std::string renderNatOutgoing(const NatOutgoingSpec& spec);

// Applies `spec` when it differs from the last one applied (or `force`), in the calling
// thread's network namespace.
class NatOutgoing {
 public:
  absl::Status apply(const NatOutgoingSpec& spec, bool force = false);

 private:
  bool applied_ = false;
  NatOutgoingSpec last_;
};

}  // namespace coral::agent
