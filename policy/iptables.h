// iptables fallback renderer: Program + set members → `iptables-restore --noflush` input
// (`ip6tables-restore` for IPv6) touching only CORAL-* chains of the filter table.
//
// No ipsets: this kernel runs iptables on the nf_tables backend, where ipset is a separate
// subsystem we would have to manage too, so set references are expanded into plain rules,
// one per member (the cartesian product when a rule names several sets). Negated sets
// become a per-rule chain CORAL-R-* that RETURNs for every member and then applies the
// verdict. Allow and pass set mark bits and RETURN, as in nftables.h; the endpoint chain
// returns after a policy that set one. Chain names are CORAL-<kind>-<16 hex> (≤ 28 chars);
// comments carry the readable names. LOG prefixes are cut to iptables' 29 bytes.
//
// The agent hooks the chains in once, outside this text: `-I FORWARD -j CORAL-FORWARD`,
// `-I INPUT -j CORAL-INPUT`, `-I OUTPUT -j CORAL-OUTPUT` after an `iptables -C` check.
#pragma once

#include <string>
#include <string_view>

#include "policy/program.h"

namespace coral::policy {

std::string renderIptablesRestore(const Program& program, const MemberMap& members,
                                  common::Family family);

// The iptables chain for a program chain: CORAL-<kind>-<16 hex of a hash of its name>.
std::string iptablesChainName(std::string_view kind, std::string_view name);

}  // namespace coral::policy
