// The Kubernetes objects Coral reads: v1 Pod and v1 Namespace (metadata and the fields
// Coral needs) and networking.k8s.io/v1 NetworkPolicy (all of it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/meta.h"

namespace coral::model {

struct ContainerPort {
  static constexpr bool kAllowUnknownFields = true;
  std::string name;
  int container_port = 0;
  std::string protocol;  // TCP (default) | UDP | SCTP
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("containerPort", container_port, {.required = true, .minimum = 1, .maximum = 65535});
    v("protocol", protocol, {.enum_values = {"TCP", "UDP", "SCTP"}});
  }
  bool operator==(const ContainerPort&) const = default;
};

struct Container {
  static constexpr bool kAllowUnknownFields = true;
  std::string name;
  std::vector<ContainerPort> ports;
  template <class V>
  void describe(V& v) {
    v("name", name, {.required = true});
    v("ports", ports);
  }
  bool operator==(const Container&) const = default;
};

struct PodSpec {
  static constexpr bool kAllowUnknownFields = true;
  std::string node_name;
  bool host_network = false;
  std::string service_account_name;
  std::vector<Container> containers;
  template <class V>
  void describe(V& v) {
    v("nodeName", node_name);
    v("hostNetwork", host_network);
    v("serviceAccountName", service_account_name);
    v("containers", containers);
  }
  bool operator==(const PodSpec&) const = default;
};

struct PodIP {
  std::string ip;
  template <class V>
  void describe(V& v) {
    v("ip", ip, {.required = true});
  }
  bool operator==(const PodIP&) const = default;
};

struct PodStatus {
  static constexpr bool kAllowUnknownFields = true;
  std::string phase;
  std::string pod_ip;
  std::vector<PodIP> pod_ips;
  template <class V>
  void describe(V& v) {
    v("phase", phase);
    v("podIP", pod_ip);
    v("podIPs", pod_ips);
  }
  bool operator==(const PodStatus&) const = default;
};

struct Pod {
  static constexpr const char* kKind = "Pod";
  static constexpr const char* kApiVersion = "v1";
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  bool operator==(const Pod&) const = default;
};

struct NamespaceSpec {
  static constexpr bool kAllowUnknownFields = true;
  template <class V>
  void describe(V&) {}
  bool operator==(const NamespaceSpec&) const = default;
};

struct Namespace {
  static constexpr const char* kKind = "Namespace";
  static constexpr const char* kApiVersion = "v1";
  ObjectMeta metadata;
  NamespaceSpec spec;
  // Kubernetes labels every namespace with its own name; Coral does the same on apply.
  static void applyDefaults(Namespace& ns);
  bool operator==(const Namespace&) const = default;
};

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
  template <class V>
  void describe(V& v) {
    v("key", key, {.required = true});
    v("operator", op, {.required = true, .enum_values = {"In", "NotIn", "Exists", "DoesNotExist"}});
    v("values", values);
  }
  void validate(Validation& v) const;
  bool operator==(const LabelSelectorRequirement&) const = default;
};

// metav1.LabelSelector: matchLabels AND matchExpressions; empty selects everything.
struct LabelSelectorSpec {
  common::Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  template <class V>
  void describe(V& v) {
    v("matchLabels", match_labels);
    v("matchExpressions", match_expressions);
  }
  void validate(Validation& v) const;
  bool operator==(const LabelSelectorSpec&) const = default;
  bool matches(const common::Labels& labels) const;
};

struct IPBlock {
  std::string cidr;
  std::vector<std::string> except;
  template <class V>
  void describe(V& v) {
    v("cidr", cidr, {.required = true});
    v("except", except);
  }
  void validate(Validation& v) const;
  bool operator==(const IPBlock&) const = default;
};

struct NetworkPolicyPeer {
  std::optional<LabelSelectorSpec> pod_selector;
  std::optional<LabelSelectorSpec> namespace_selector;
  std::optional<IPBlock> ip_block;
  template <class V>
  void describe(V& v) {
    v("podSelector", pod_selector);
    v("namespaceSelector", namespace_selector);
    v("ipBlock", ip_block);
  }
  void validate(Validation& v) const;
  bool operator==(const NetworkPolicyPeer&) const = default;
};

struct NetworkPolicyPort {
  std::string protocol;             // TCP (default) | UDP | SCTP
  std::optional<IntOrString> port;  // absent: all ports
  std::optional<int> end_port;
  template <class V>
  void describe(V& v) {
    v("protocol", protocol, {.enum_values = {"TCP", "UDP", "SCTP"}});
    v("port", port);
    v("endPort", end_port, {.minimum = 1, .maximum = 65535});
  }
  void validate(Validation& v) const;
  bool operator==(const NetworkPolicyPort&) const = default;
};

struct NetworkPolicyIngressRule {
  std::vector<NetworkPolicyPort> ports;
  std::vector<NetworkPolicyPeer> from;
  template <class V>
  void describe(V& v) {
    v("ports", ports);
    v("from", from);
  }
  bool operator==(const NetworkPolicyIngressRule&) const = default;
};

struct NetworkPolicyEgressRule {
  std::vector<NetworkPolicyPort> ports;
  std::vector<NetworkPolicyPeer> to;
  template <class V>
  void describe(V& v) {
    v("ports", ports);
    v("to", to);
  }
  bool operator==(const NetworkPolicyEgressRule&) const = default;
};

struct KubernetesNetworkPolicySpec {
  LabelSelectorSpec pod_selector;
  std::vector<std::string> policy_types;
  std::vector<NetworkPolicyIngressRule> ingress;
  std::vector<NetworkPolicyEgressRule> egress;
  template <class V>
  void describe(V& v) {
    v("podSelector", pod_selector, {.required = true});
    v("policyTypes", policy_types, {.enum_values = {"Ingress", "Egress"}});
    v("ingress", ingress);
    v("egress", egress);
  }
  bool operator==(const KubernetesNetworkPolicySpec&) const = default;
};

struct KubernetesNetworkPolicy {
  static constexpr const char* kKind = "NetworkPolicy";
  static constexpr const char* kApiVersion = "networking.k8s.io/v1";
  ObjectMeta metadata;
  KubernetesNetworkPolicySpec spec;
  bool operator==(const KubernetesNetworkPolicy&) const = default;
};

// The spec's inference when policyTypes is absent: Ingress always, Egress when there
// are egress rules.
std::vector<std::string> effectivePolicyTypes(const KubernetesNetworkPolicySpec& spec);

}  // namespace coral::model
