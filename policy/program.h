// The abstract rule program: what the compiler produces for one node and what the
// renderers (nftables.h, iptables.h) and the trace evaluator (evaluate.h) consume.
//
//   sets            named address sets, referenced by rules; members come from
//                   computeMembers() (ipsets.h) and change without touching rules
//   policy chains   one per (policy, direction), shared by every local endpoint it selects
//   endpoint chains one per (local endpoint, direction): node allow (ingress), the
//                   selecting policies in order, then default deny — or, when no policy
//                   selects the endpoint for that direction, the profile's allow
//
// Verdict semantics inside a policy chain (first match wins):
//   allow → the direction is allowed; no later policy is consulted
//   deny  → the packet is dropped
//   pass  → no later policy is consulted; the namespace profile decides, and Coral's
//           profile allows (as Calico's kns.<namespace> profile does)
//   log   → log with a prefix and continue with the next rule
// A policy chain that ends without a verdict falls through to the next policy.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "policy/model.h"

namespace coral::policy {

enum class Side : uint8_t { kSource, kDestination };

enum class SetKind : uint8_t {
  kEndpoints,      // addresses of endpoints matching a selector (hash set)
  kNets,           // CIDRs (interval set), static members
  kNamedPorts,     // (address, protocol, port) of a named port on matching endpoints
  kNodeAddresses,  // this node's own addresses (kubelet probes)
};

struct SetDef {
  std::string name;  // "sel4-1f2e...", "net6-...", "np4-...", "node4"
  SetKind kind = SetKind::kEndpoints;
  common::Family family = common::Family::kV4;
  std::optional<Selector> selector;  // kEndpoints, kNamedPorts
  std::string port_name;             // kNamedPorts
  std::vector<common::Prefix> nets;  // kNets, sorted
  // One line for comments: the selector, the port name, the CIDRs.
  std::string describe() const;
  bool operator==(const SetDef&) const = default;
};

struct AddressCond {
  Side side = Side::kSource;
  std::string set;
  bool negate = false;
  bool operator==(const AddressCond&) const = default;
};
struct PortCond {
  Side side = Side::kDestination;
  std::vector<PortRange> ranges;
  bool negate = false;
  bool operator==(const PortCond&) const = default;
};
struct NamedPortCond {  // (side's address, protocol, side's port) in set
  Side side = Side::kDestination;
  std::string set;
  bool negate = false;
  bool operator==(const NamedPortCond&) const = default;
};

// Every condition present must hold.
struct Match {
  std::optional<common::Family> family;
  std::optional<uint8_t> protocol;
  std::optional<uint8_t> not_protocol;
  std::optional<IcmpSpec> icmp;
  std::optional<IcmpSpec> not_icmp;
  std::vector<AddressCond> addresses;
  std::vector<PortCond> ports;
  std::vector<NamedPortCond> named_ports;
  bool operator==(const Match&) const = default;
};

struct ProgramRule {
  Match match;
  Action action = Action::kAllow;
  std::string log_prefix;  // kLog: "coral np:x/p ingress[2] " (≤ 127 bytes)
  std::string comment;     // "np:x/p ingress[2]" (+ " from[1] tcp" for Kubernetes splits)
  bool operator==(const ProgramRule&) const = default;
};

struct PolicyChain {
  std::string name;  // "pi-np.x.allow-web" (ingress) / "pe-..." (egress)
  std::string policy_id;
  double order = kNoOrder;
  Direction direction = Direction::kIngress;
  std::vector<ProgramRule> rules;
  bool operator==(const PolicyChain&) const = default;
};

struct EndpointChain {
  std::string name;  // "wi-x.a" / "we-x.a"
  Direction direction = Direction::kIngress;
  // Ingress only: allow sources in the node-address sets (node4/node6) first.
  bool allow_from_node = false;
  std::vector<std::string> policy_chains;  // in evaluation order
  std::vector<std::string> policy_ids;     // same order
  bool isolated() const { return !policy_chains.empty(); }
  bool operator==(const EndpointChain&) const = default;
};

struct EndpointProgram {
  std::string endpoint_id;  // "ns/pod"
  std::string interface_name;
  std::vector<common::IpAddress> addresses;
  EndpointChain ingress;
  EndpointChain egress;
  const EndpointChain& chain(Direction d) const {
    return d == Direction::kIngress ? ingress : egress;
  }
  bool operator==(const EndpointProgram&) const = default;
};

struct Program {
  std::string node;
  std::map<std::string, SetDef> sets;
  std::map<std::string, PolicyChain> policy_chains;
  std::vector<EndpointProgram> endpoints;  // sorted by endpoint_id
  const EndpointProgram* findEndpoint(std::string_view id) const;
  bool operator==(const Program&) const = default;
};

// Names of the node-address sets.
inline constexpr const char* kNodeSetV4 = "node4";
inline constexpr const char* kNodeSetV6 = "node6";

// Members of one set. Exactly one vector is used, by kind: addresses (kEndpoints,
// kNodeAddresses), nets (kNets), named (kNamedPorts). All sorted and unique.
struct NamedPortMember {
  common::IpAddress address;
  uint8_t protocol = 0;
  uint16_t port = 0;
  friend auto operator<=>(const NamedPortMember&, const NamedPortMember&) = default;
};
struct SetMembers {
  std::vector<common::IpAddress> addresses;
  std::vector<common::Prefix> nets;
  std::vector<NamedPortMember> named;
  bool empty() const { return addresses.empty() && nets.empty() && named.empty(); }
  bool operator==(const SetMembers&) const = default;
};
using MemberMap = std::map<std::string, SetMembers>;

}  // namespace coral::policy
