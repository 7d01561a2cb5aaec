// The internal policy model: one normalized form for Kubernetes NetworkPolicy and Coral
// NetworkPolicy / GlobalNetworkPolicy (see convert.h), and the endpoints policies apply to.
//
// Everything namespace-shaped is folded into selectors over an endpoint's *effective labels*
// (effectiveLabels below): its own labels, `coral.network/namespace=<ns>` and every label of
// its namespace as `pcns.<key>` (Calico's namespace-profile scheme). So "pods labelled
// app=a in namespaces labelled team=x" is the single selector
// `app == "a" && pcns.team == "x"`, and equal peers in different policies share one IP set.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/labels.h"
#include "policy/selector/selector.h"

namespace coral::policy {

// The label every endpoint carries naming its namespace, and the prefix under which its
// namespace's labels appear.
inline constexpr std::string_view kNamespaceLabel = "coral.network/namespace";
inline constexpr std::string_view kNamespaceLabelPrefix = "pcns.";
// The order Kubernetes NetworkPolicies get (Calico's choice): after Coral policies with a
// lower order, before those with a higher or no order.
inline constexpr double kKubernetesPolicyOrder = 1000;
inline constexpr double kNoOrder = std::numeric_limits<double>::infinity();

enum class Direction : uint8_t { kIngress, kEgress };
std::string_view directionName(Direction d);  // "ingress" | "egress"

enum class Action : uint8_t { kAllow, kDeny, kPass, kLog };
std::string_view actionName(Action a);  // "allow" | "deny" | "pass" | "log"

// IP protocol numbers Coral names.
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpV6 = 58;
// IPv6 neighbour discovery (router solicitation/advertisement, neighbour solicitation/
// advertisement, RFC 4861): accepted ahead of every policy, as IPv4's ARP is never policed.
inline constexpr int kNeighbourDiscoveryFirst = 133;
inline constexpr int kNeighbourDiscoveryLast = 136;
inline constexpr uint8_t kProtoSctp = 132;
inline constexpr uint8_t kProtoUdpLite = 136;
// "TCP", "udp", "ICMPv6", "132" → number.
std::optional<uint8_t> protocolNumber(std::string_view name);
// 6 → "tcp"; unnamed numbers as decimal (the nft and iptables spelling).
std::string protocolName(uint8_t number);
bool protocolHasPorts(uint8_t number);

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  std::string toString() const;  // "80" or "8080-8090"
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};

// A rule's ports: numeric ranges and named ports (resolved per endpoint at set time).
struct PortList {
  std::vector<PortRange> ranges;
  std::vector<std::string> names;
  bool empty() const { return ranges.empty() && names.empty(); }
  bool operator==(const PortList&) const = default;
};

struct IcmpSpec {
  int type = 0;
  std::optional<int> code;
  bool operator==(const IcmpSpec&) const = default;
};

// One side of a rule (the packet's source or destination). Every field present is ANDed.
struct EntityMatch {
  std::vector<common::Prefix> nets;      // address in any of them
  std::vector<common::Prefix> not_nets;  // address in none of them
  // Over effective labels, namespace scope already folded in.
  std::optional<Selector> selector;
  std::optional<Selector> not_selector;
  PortList ports;
  PortList not_ports;
  bool operator==(const EntityMatch&) const = default;
};

struct PolicyRule {
  Action action = Action::kAllow;
  std::optional<uint8_t> protocol;
  std::optional<uint8_t> not_protocol;
  std::optional<common::Family> ip_version;
  std::optional<IcmpSpec> icmp;
  std::optional<IcmpSpec> not_icmp;
  EntityMatch source;
  EntityMatch destination;
  // Where the rule came from, for comments and traces: the index in the policy's
  // ingress/egress list, and for Kubernetes the peer/protocol split ("from[1] TCP").
  int index = 0;
  std::string detail;
  bool operator==(const PolicyRule&) const = default;
};

enum class PolicyKind : uint8_t { kKubernetes, kCoral, kCoralGlobal };

struct Policy {
  PolicyKind kind = PolicyKind::kCoral;
  std::string namespace_;  // empty for GlobalNetworkPolicy
  std::string name;
  double order = kNoOrder;
  Selector selector;  // the endpoints it applies to, namespace scope folded in
  bool applies_ingress = false;
  bool applies_egress = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;

  // "knp:x/deny-all", "np:x/allow-web", "gnp:default-deny": unique across kinds.
  std::string id() const;
  bool applies(Direction d) const {
    return d == Direction::kIngress ? applies_ingress : applies_egress;
  }
  const std::vector<PolicyRule>& rules(Direction d) const {
    return d == Direction::kIngress ? ingress : egress;
  }
  bool operator==(const Policy&) const = default;
};

// Evaluation order: order ascending (absent last), then id.
bool policyBefore(const Policy& a, const Policy& b);

struct NamedPort {
  std::string name;
  uint8_t protocol = kProtoTcp;
  uint16_t port = 0;
  bool operator==(const NamedPort&) const = default;
};

// A workload endpoint as policy sees it.
struct Endpoint {
  std::string namespace_;
  std::string name;  // the pod's name
  std::string node;
  std::string interface_name;  // host end of the veth
  common::Labels labels;       // the pod's own labels
  std::vector<common::IpAddress> addresses;
  std::vector<NamedPort> ports;

  std::string id() const { return namespace_ + "/" + name; }
  bool operator==(const Endpoint&) const = default;
};

struct NamespaceInfo {
  std::string name;
  common::Labels labels;
  bool operator==(const NamespaceInfo&) const = default;
};

// The labels selectors see for an endpoint (see the file comment). `ns` may be null when
// the namespace is unknown: then only the namespace-name label is added.
common::Labels effectiveLabels(const Endpoint& endpoint, const NamespaceInfo* ns);

// Selector construction helpers used by the converters.
// `<sel> && coral.network/namespace == "<ns>"`
Selector scopeToNamespace(const Selector& selector, std::string_view ns);
// A selector over namespace labels rewritten over effective labels (keys get `pcns.`),
// ANDed with `selector`.
absl::StatusOr<Selector> scopeToNamespaces(const Selector& selector,
                                           const Selector& namespace_selector);
// Text of a selector tree with every key prefixed (prefix may be empty).
std::string selectorText(const SelectorNode& node, std::string_view key_prefix);

}  // namespace coral::policy
