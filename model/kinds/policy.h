// Coral policy kinds: NetworkPolicy (namespaced) and GlobalNetworkPolicy, with Calico's
// rule model (Allow/Deny/Pass/Log; nets, selectors, ports, ICMP; negations).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/meta.h"

namespace coral::model {

struct IcmpMatch {
  std::optional<int> type;
  std::optional<int> code;
  template <class V>
  void describe(V& v) {
    v("type", type, {.minimum = 0, .maximum = 254});
    v("code", code, {.minimum = 0, .maximum = 255});
  }
  void validate(Validation& v) const;
  bool operator==(const IcmpMatch&) const = default;
};

struct EntityRule {
  std::vector<std::string> nets;
  std::vector<std::string> not_nets;
  std::string selector;
  std::string not_selector;
  std::string namespace_selector;
  // 80, "8080:8090" (a range), or "http" (a named port)
  std::vector<IntOrString> ports;
  std::vector<IntOrString> not_ports;

  template <class V>
  void describe(V& v) {
    v("nets", nets);
    v("notNets", not_nets);
    v("selector", selector);
    v("notSelector", not_selector);
    v("namespaceSelector", namespace_selector);
    v("ports", ports);
    v("notPorts", not_ports);
  }
  void validate(Validation& v) const;
  bool operator==(const EntityRule&) const = default;
};

struct Rule {
  std::string action;                   // Allow | Deny | Pass | Log
  std::optional<IntOrString> protocol;  // TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255
  std::optional<IntOrString> not_protocol;
  std::optional<int> ip_version;  // 4 | 6
  std::optional<IcmpMatch> icmp;
  std::optional<IcmpMatch> not_icmp;
  EntityRule source;
  EntityRule destination;

  template <class V>
  void describe(V& v) {
    v("action", action, {.required = true, .enum_values = {"Allow", "Deny", "Pass", "Log"}});
    v("protocol", protocol);
    v("notProtocol", not_protocol);
    v("ipVersion", ip_version, {.minimum = 4, .maximum = 6});
    v("icmp", icmp);
    v("notICMP", not_icmp);
    v("source", source);
    v("destination", destination);
  }
  void validate(Validation& v) const;
  bool operator==(const Rule&) const = default;
};

struct NetworkPolicySpec {
  std::optional<double> order;     // lower applies first; absent = after all ordered ones
  std::string selector;            // endpoints it applies to; empty = all()
  std::vector<std::string> types;  // Ingress, Egress; inferred when absent
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
  std::string namespace_selector;  // GlobalNetworkPolicy only

  template <class V>
  void describe(V& v) {
    v("order", order);
    v("selector", selector);
    v("types", types, {.enum_values = {"Ingress", "Egress"}});
    v("ingress", ingress);
    v("egress", egress);
    v("namespaceSelector", namespace_selector);
  }
  void validate(Validation& v) const;
  bool operator==(const NetworkPolicySpec&) const = default;
};

// Both kinds share a spec; a namespaced policy has no namespaceSelector.
struct NetworkPolicy {
  static constexpr const char* kKind = "NetworkPolicy";
  ObjectMeta metadata;
  NetworkPolicySpec spec;
  static void applyDefaults(NetworkPolicy& policy);
  static void validateObject(const NetworkPolicy& policy, Validation& v);
  bool operator==(const NetworkPolicy&) const = default;
};

struct GlobalNetworkPolicy {
  static constexpr const char* kKind = "GlobalNetworkPolicy";
  ObjectMeta metadata;
  NetworkPolicySpec spec;
  static void applyDefaults(GlobalNetworkPolicy& policy);
  bool operator==(const GlobalNetworkPolicy&) const = default;
};

// Calico's inference: Ingress always, Egress when egress rules exist.
std::vector<std::string> inferPolicyTypes(const NetworkPolicySpec& spec);

}  // namespace coral::model
