// nftables renderer: Program + set members → text for `nft -f`. Coral owns exactly one
// table, `table inet coral`:
//
//   sets      node4/node6, sel4-*/sel6-* (hash sets of endpoint addresses), net4-*/net6-*
//             (interval sets of CIDRs), np4-*/np6-* (address . protocol . port, named ports)
//   maps      from-wl / to-wl: ifname → jump to the endpoint's egress / ingress chain
//   chains    forward (iifname vmap @from-wl, oifname vmap @to-wl), input (from-wl: pod →
//             host), output (to-wl: host → pod); we-*/wi-* per endpoint; pe-*/pi-* per policy
//   staging   staged-in/-out, staged-deny-in/-out and s-<policy chain> (ifname sets) and the
//             chains staged-ingress / staged-egress, for pods not yet given their own chains
//             (staging.h); each base chain jumps there for staged interfaces after its vmap
//
// A policy chain cannot end its caller's chain, so allow and pass set a mark bit and return
// (kAcceptMark / kPassMark); the endpoint chain returns after each policy when a bit is set,
// and clears both bits on entry. An endpoint chain that returns lets the packet on to the
// next check (a forwarded pod-to-pod packet meets the sender's egress chain, then the
// receiver's ingress chain); an endpoint chain that ends in drop drops it. Established and
// related packets are accepted, invalid ones dropped, at the top of every endpoint chain,
// then IPv6 neighbour discovery (ICMPv6 133-136) is accepted: the node resolves its pods
// and they their gateway from link-local addresses no policy names (IPv4's ARP is not IP).
// Every rule carries a counter and a comment naming the endpoint or policy and rule.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/program.h"
#include "policy/program_change.h"
#include "policy/staging.h"

namespace coral::policy {

inline constexpr uint32_t kAcceptMark = 0x00010000;
inline constexpr uint32_t kPassMark = 0x00020000;
inline constexpr const char* kNftTable = "coral";

// An endpoint chain's rules as data, in order: rendered to nft text by renderEndpointRule
// and written over netlink by the agent's fast path (agent/policy/nftnl_writer.h), so both
// produce the same rules.
struct EndpointRule {
  enum class Kind : uint8_t {
    kAcceptEstablished,         // ct state established,related counter accept
    kDropInvalid,               // ct state invalid counter drop
    kAcceptNeighbourDiscovery,  // meta l4proto ipv6-icmp icmpv6 type 133-136 counter accept
    kClearMarks,                // counter meta mark set meta mark & ~(accept|pass)
    kReturnFromNode4,           // ip saddr @node4 counter return
    kReturnFromNode6,           // ip6 saddr @node6 counter return
    kReturn,                    // counter return (no policy selects the endpoint)
    kJump,                      // counter jump <chain>
    kReturnIfMarked,            // meta mark & (accept|pass) != 0 counter return
    kDrop,                      // counter drop (default deny)
  };
  Kind kind;
  std::string chain;    // kJump
  std::string comment;  // already sanitized (commentText)
  bool operator==(const EndpointRule&) const = default;
};
std::vector<EndpointRule> endpointRules(const EndpointProgram& ep, const EndpointChain& chain);
std::string renderEndpointRule(const EndpointRule& rule);
// A rule comment as nft stores it: at most 127 bytes, double quotes made single.
std::string commentText(std::string_view text);

// The whole table, replacing any previous one in the same transaction:
// `table inet coral` / `delete table inet coral` / `table inet coral { ... }`.
// `staged` names endpoints written in staged form instead (staging.h): no chains or
// dispatch entries of their own, their interfaces in the staging sets.
std::string renderNftables(const Program& program, const MemberMap& members,
                           const std::set<std::string>& staged = {});

// The commands that turn the table rendered from (before, before_members) into the one
// from (after, after_members) in one `nft -f` transaction: new sets and chains first, set
// elements added and deleted, changed chains flushed and rewritten, dispatch map elements
// updated, then chains and sets nobody references any more deleted. Empty when equal.
std::string renderNftablesUpdate(const Program& before, const MemberMap& before_members,
                                 const Program& after, const MemberMap& after_members);

}  // namespace coral::policy

namespace coral::policy {

// The commands that apply `change` to the table holding the state before it, leaving the
// one rendered from `after` and its members: the update above, from a change computed
// elsewhere (IncrementalCompiler). Empty when the change is empty.
// `staging` adds and deletes interfaces of the staging sets in the same transaction.
std::string renderNftablesChange(const Program& after, const ProgramChange& change,
                                 const StagingChange& staging = {});
// The rules of staged-ingress / staged-egress for the program's policy chains.
std::vector<std::string> stagedChainRules(const Program& program, Direction d);

}  // namespace coral::policy
