// The iptables fallback of PolicyDataplane (config `policyBackend: iptables`), for hosts
// without nftables: the iptables-restore renderer's text applied with
// `iptables-restore --noflush` and `ip6tables-restore --noflush`. Coral owns only the
// CORAL-* chains of the filter table plus one jump each from FORWARD, INPUT and OUTPUT;
// every other chain and rule is left as it is. Each write redeclares (flushes) every
// CORAL-* chain it renders and deletes CORAL-* chains nobody renders any more, in the
// same restore, so a write is one transaction per family. There is no incremental form:
// every change rewrites the CORAL-* chains (iptables has no sets to update here, see
// policy/iptables.h).
#pragma once

#include <string>

#include "agent/policy/policy_dataplane.h"

namespace coral::agent {

// With a netns path, every command runs inside that namespace.
absl::StatusOr<PolicyDataplanePtr> makeIptablesPolicyDataplane(std::string node,
                                                               const std::string& netns_path = "");

// Both backends by configuration: "nftables" | "iptables".
absl::StatusOr<PolicyDataplanePtr> makePolicyDataplane(const std::string& backend, std::string node,
                                                       const std::string& netns_path = "");

}  // namespace coral::agent
