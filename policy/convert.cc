// Resource model → policy model. See convert.h for what is decided here.
#include "policy/convert.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/status.h"
#include "common/strings.h"
#include "model/registry.h"

namespace coral::policy {
namespace {

std::string quoted(const std::string& value) {
  return value.find('"') == std::string::npos ? "\"" + value + "\"" : "'" + value + "'";
}

std::string quotedSet(const std::vector<std::string>& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) parts.push_back(quoted(v));
  return "{" + join(parts, ", ") + "}";
}

absl::StatusOr<std::vector<common::Prefix>> parseNets(const std::vector<std::string>& nets) {
  std::vector<common::Prefix> out;
  for (const auto& net : nets) {
    CORAL_ASSIGN_OR_RETURN(auto prefix, common::Prefix::parseLoose(net));
    out.push_back(prefix);
  }
  return out;
}

absl::StatusOr<uint8_t> protocolOf(const model::IntOrString& p) {
  if (p.isInt()) {
    if (p.intValue() < 1 || p.intValue() > 255) {
      return absl::InvalidArgumentError(fmt::format("protocol {} is not 1-255", p.intValue()));
    }
    return static_cast<uint8_t>(p.intValue());
  }
  auto n = protocolNumber(p.stringValue());
  if (!n)
    return absl::InvalidArgumentError(fmt::format("unknown protocol \"{}\"", p.stringValue()));
  return *n;
}

PortList portList(const std::vector<model::IntOrString>& ports) {
  PortList out;
  for (const auto& p : ports) {
    if (auto range = parsePortRange(p)) {
      out.ranges.push_back(*range);
    } else {
      out.names.push_back(p.stringValue());
    }
  }
  return out;
}

std::string displayName(const model::ObjectMeta& meta, const char* kind) {
  return meta.namespace_.empty() ? fmt::format("{} \"{}\"", kind, meta.name)
                                 : fmt::format("{} \"{}/{}\"", kind, meta.namespace_, meta.name);
}

// ---- Kubernetes ----

// One peer of a Kubernetes rule as an EntityMatch (selector or nets); nullopt peer = any.
absl::StatusOr<EntityMatch> k8sPeer(const model::NetworkPolicyPeer& peer, const std::string& ns) {
  EntityMatch m;
  if (peer.ip_block) {
    CORAL_ASSIGN_OR_RETURN(auto cidr, common::Prefix::parseLoose(peer.ip_block->cidr));
    m.nets = {cidr};
    CORAL_ASSIGN_OR_RETURN(m.not_nets, parseNets(peer.ip_block->except));
    return m;
  }
  Selector pods;
  if (peer.pod_selector) {
    CORAL_ASSIGN_OR_RETURN(pods, fromLabelSelector(*peer.pod_selector));
  }
  if (peer.namespace_selector) {
    CORAL_ASSIGN_OR_RETURN(auto namespaces, fromLabelSelector(*peer.namespace_selector));
    CORAL_ASSIGN_OR_RETURN(m.selector, scopeToNamespaces(pods, namespaces));
  } else {
    m.selector = scopeToNamespace(pods, ns);  // podSelector alone: the policy's namespace
  }
  return m;
}

struct ProtocolPorts {
  uint8_t protocol;
  PortList ports;  // empty: every port of the protocol
  bool all_ports = false;
};

// Ports grouped by protocol, in first-seen order. Empty input: one group for any protocol.
absl::StatusOr<std::vector<ProtocolPorts>> k8sPorts(
    const std::vector<model::NetworkPolicyPort>& ports) {
  std::vector<ProtocolPorts> groups;
  for (const auto& p : ports) {
    auto proto = protocolNumber(p.protocol.empty() ? "TCP" : p.protocol);
    if (!proto || !protocolHasPorts(*proto)) {
      return absl::InvalidArgumentError(
          fmt::format("protocol \"{}\" is not TCP, UDP or SCTP", p.protocol));
    }
    ProtocolPorts* group = nullptr;
    for (auto& g : groups) {
      if (g.protocol == *proto) group = &g;
    }
    if (group == nullptr) group = &groups.emplace_back(ProtocolPorts{*proto, {}});
    if (!p.port) {
      group->all_ports = true;
    } else if (auto range = parsePortRange(*p.port)) {
      if (p.end_port) range->last = static_cast<uint16_t>(*p.end_port);
      group->ports.ranges.push_back(*range);
    } else {
      group->ports.names.push_back(p.port->stringValue());
    }
  }
  for (auto& g : groups) {
    if (g.all_ports) g.ports = {};
  }
  return groups;
}

template <typename K8sRule>
absl::Status k8sRules(const std::vector<K8sRule>& rules, Direction dir, const std::string& ns,
                      std::vector<PolicyRule>& out) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& peers = [&]() -> const std::vector<model::NetworkPolicyPeer>& {
      if constexpr (std::is_same_v<K8sRule, model::NetworkPolicyIngressRule>) {
        return rules[i].from;
      } else {
        return rules[i].to;
      }
    }();
    const char* peer_field = dir == Direction::kIngress ? "from" : "to";
    std::vector<std::pair<std::string, EntityMatch>> matches;
    if (peers.empty()) matches.emplace_back("", EntityMatch{});
    for (size_t j = 0; j < peers.size(); ++j) {
      auto m = k8sPeer(peers[j], ns);
      if (!m.ok()) {
        return annotate(m.status(),
                        fmt::format("{}[{}].{}[{}]", directionName(dir), i, peer_field, j));
      }
      matches.emplace_back(fmt::format("{}[{}]", peer_field, j), *std::move(m));
    }
    auto groups = k8sPorts(rules[i].ports);
    if (!groups.ok())
      return annotate(groups.status(), fmt::format("{}[{}].ports", directionName(dir), i));
    for (const auto& [peer_name, peer] : matches) {
      auto emit = [&](std::optional<uint8_t> proto, const PortList& ports) {
        PolicyRule r;
        r.action = Action::kAllow;
        r.protocol = proto;
        r.index = static_cast<int>(i);
        EntityMatch& remote = dir == Direction::kIngress ? r.source : r.destination;
        remote = peer;
        r.destination.ports = ports;
        std::vector<std::string> detail;
        if (!peer_name.empty()) detail.push_back(peer_name);
        if (proto) detail.push_back(protocolName(*proto));
        r.detail = join(detail, " ");
        out.push_back(std::move(r));
      };
      if (groups->empty()) emit(std::nullopt, {});
      for (const auto& g : *groups) emit(g.protocol, g.ports);
    }
  }
  return absl::OkStatus();
}

// ---- Coral ----

struct Scope {
  PolicyKind kind;
  std::string namespace_;
};

absl::StatusOr<std::optional<Selector>> scopedSelector(const std::string& text,
                                                       const std::string& namespace_selector,
                                                       const Scope& scope) {
  if (text.empty() && namespace_selector.empty()) return std::optional<Selector>();
  CORAL_ASSIGN_OR_RETURN(auto sel, Selector::parse(text));
  if (!namespace_selector.empty()) {
    CORAL_ASSIGN_OR_RETURN(auto ns_sel, Selector::parse(namespace_selector));
    CORAL_ASSIGN_OR_RETURN(auto scoped, scopeToNamespaces(sel, ns_sel));
    return std::optional<Selector>(scoped);
  }
  if (scope.kind == PolicyKind::kCoral)
    return std::optional<Selector>(scopeToNamespace(sel, scope.namespace_));
  return std::optional<Selector>(sel);
}

absl::StatusOr<EntityMatch> coralEntity(const model::EntityRule& e, const Scope& scope) {
  EntityMatch m;
  CORAL_ASSIGN_OR_RETURN(m.nets, parseNets(e.nets));
  CORAL_ASSIGN_OR_RETURN(m.not_nets, parseNets(e.not_nets));
  CORAL_ASSIGN_OR_RETURN(m.selector, scopedSelector(e.selector, e.namespace_selector, scope));
  if (!e.not_selector.empty()) {
    CORAL_ASSIGN_OR_RETURN(m.not_selector,
                           scopedSelector(e.not_selector, e.namespace_selector, scope));
  }
  m.ports = portList(e.ports);
  m.not_ports = portList(e.not_ports);
  return m;
}

std::optional<IcmpSpec> icmpOf(const std::optional<model::IcmpMatch>& icmp) {
  if (!icmp || !icmp->type) return std::nullopt;
  return IcmpSpec{*icmp->type, icmp->code};
}

absl::Status coralRules(const std::vector<model::Rule>& rules, Direction dir, const Scope& scope,
                        std::vector<PolicyRule>& out) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& in = rules[i];
    const std::string where = fmt::format("{}[{}]", directionName(dir), i);
    PolicyRule r;
    r.index = static_cast<int>(i);
    if (in.action == "Allow") {
      r.action = Action::kAllow;
    } else if (in.action == "Deny") {
      r.action = Action::kDeny;
    } else if (in.action == "Pass") {
      r.action = Action::kPass;
    } else if (in.action == "Log") {
      r.action = Action::kLog;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("{}: action \"{}\" is not Allow, Deny, Pass or Log", where, in.action));
    }
    if (in.protocol) {
      auto p = protocolOf(*in.protocol);
      if (!p.ok()) return annotate(p.status(), where);
      r.protocol = *p;
    }
    if (in.not_protocol) {
      auto p = protocolOf(*in.not_protocol);
      if (!p.ok()) return annotate(p.status(), where);
      r.not_protocol = *p;
    }
    if (in.ip_version)
      r.ip_version = *in.ip_version == 6 ? common::Family::kV6 : common::Family::kV4;
    r.icmp = icmpOf(in.icmp);
    r.not_icmp = icmpOf(in.not_icmp);
    auto src = coralEntity(in.source, scope);
    if (!src.ok()) return annotate(src.status(), where + ".source");
    auto dst = coralEntity(in.destination, scope);
    if (!dst.ok()) return annotate(dst.status(), where + ".destination");
    r.source = *std::move(src);
    r.destination = *std::move(dst);
    out.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::StatusOr<Policy> coralPolicy(const model::ObjectMeta& meta,
                                   const model::NetworkPolicySpec& spec, PolicyKind kind) {
  Policy p;
  p.kind = kind;
  p.name = meta.name;
  p.namespace_ = kind == PolicyKind::kCoral ? meta.namespace_ : "";
  p.order = spec.order ? *spec.order : kNoOrder;
  const char* kind_name = kind == PolicyKind::kCoral ? "NetworkPolicy" : "GlobalNetworkPolicy";
  const Scope scope{kind, p.namespace_};
  auto fail = [&](const absl::Status& s) { return annotate(s, displayName(meta, kind_name)); };
  auto sel = Selector::parse(spec.selector);
  if (!sel.ok()) return fail(sel.status());
  if (kind == PolicyKind::kCoral) {
    p.selector = scopeToNamespace(*sel, p.namespace_);
  } else if (!spec.namespace_selector.empty()) {
    auto ns_sel = Selector::parse(spec.namespace_selector);
    if (!ns_sel.ok()) return fail(ns_sel.status());
    auto scoped = scopeToNamespaces(*sel, *ns_sel);
    if (!scoped.ok()) return fail(scoped.status());
    p.selector = *scoped;
  } else {
    p.selector = *sel;
  }
  for (const auto& t : model::inferPolicyTypes(spec)) {
    if (t == "Ingress") p.applies_ingress = true;
    if (t == "Egress") p.applies_egress = true;
  }
  if (auto s = coralRules(spec.ingress, Direction::kIngress, scope, p.ingress); !s.ok())
    return fail(s);
  if (auto s = coralRules(spec.egress, Direction::kEgress, scope, p.egress); !s.ok())
    return fail(s);
  return p;
}

}  // namespace

std::optional<PortRange> parsePortRange(const model::IntOrString& port) {
  if (port.isInt()) {
    if (port.intValue() < 1 || port.intValue() > 65535) return std::nullopt;
    const auto p = static_cast<uint16_t>(port.intValue());
    return PortRange{p, p};
  }
  const std::string_view s = port.stringValue();
  const auto colon = s.find(':');
  auto lo = parseInt<uint16_t>(s.substr(0, colon));
  auto hi = colon == std::string_view::npos ? lo : parseInt<uint16_t>(s.substr(colon + 1));
  if (!lo || !hi || *lo == 0 || *lo > *hi) return std::nullopt;
  return PortRange{*lo, *hi};
}

absl::StatusOr<Selector> fromLabelSelector(const model::LabelSelectorSpec& spec) {
  std::vector<std::string> terms;
  for (const auto& [key, value] : spec.match_labels) terms.push_back(key + " == " + quoted(value));
  for (const auto& req : spec.match_expressions) {
    if (req.op == "In") {
      terms.push_back(req.key + " in " + quotedSet(req.values));
    } else if (req.op == "NotIn") {
      terms.push_back(req.key + " not in " + quotedSet(req.values));
    } else if (req.op == "Exists") {
      terms.push_back("has(" + req.key + ")");
    } else if (req.op == "DoesNotExist") {
      terms.push_back("!has(" + req.key + ")");
    } else {
      return absl::InvalidArgumentError(fmt::format(
          "matchExpressions key \"{}\": operator \"{}\" is not In, NotIn, Exists or DoesNotExist",
          req.key, req.op));
    }
  }
  if (terms.empty()) return Selector::all();
  return Selector::parse(join(terms, " && "));
}

absl::StatusOr<Policy> fromKubernetes(const model::KubernetesNetworkPolicy& policy) {
  const auto& meta = policy.metadata;
  auto fail = [&](const absl::Status& s) {
    return annotate(s, displayName(meta, "NetworkPolicy"));
  };
  Policy p;
  p.kind = PolicyKind::kKubernetes;
  p.namespace_ = meta.namespace_.empty() ? "default" : meta.namespace_;
  p.name = meta.name;
  p.order = kKubernetesPolicyOrder;
  auto pods = fromLabelSelector(policy.spec.pod_selector);
  if (!pods.ok()) return fail(pods.status());
  p.selector = scopeToNamespace(*pods, p.namespace_);
  for (const auto& t : model::effectivePolicyTypes(policy.spec)) {
    if (t == "Ingress") p.applies_ingress = true;
    if (t == "Egress") p.applies_egress = true;
  }
  if (auto s = k8sRules(policy.spec.ingress, Direction::kIngress, p.namespace_, p.ingress);
      !s.ok()) {
    return fail(s);
  }
  if (auto s = k8sRules(policy.spec.egress, Direction::kEgress, p.namespace_, p.egress); !s.ok()) {
    return fail(s);
  }
  return p;
}

absl::StatusOr<Policy> fromCoral(const model::NetworkPolicy& policy) {
  return coralPolicy(policy.metadata, policy.spec, PolicyKind::kCoral);
}

absl::StatusOr<Policy> fromCoral(const model::GlobalNetworkPolicy& policy) {
  return coralPolicy(policy.metadata, policy.spec, PolicyKind::kCoralGlobal);
}

absl::StatusOr<Endpoint> fromWorkloadEndpoint(const model::WorkloadEndpoint& wep) {
  Endpoint e;
  e.namespace_ = wep.metadata.namespace_;
  e.name = wep.spec.pod.empty() ? wep.metadata.name : wep.spec.pod;
  e.node = wep.spec.node;
  e.interface_name = wep.spec.interface_name;
  e.labels = wep.metadata.labels;
  for (const auto& net : wep.spec.ip_networks) {
    auto prefix = common::Prefix::parseLoose(net);
    if (!prefix.ok()) {
      return annotate(prefix.status(), displayName(wep.metadata, "WorkloadEndpoint"));
    }
    e.addresses.push_back(prefix->address());
  }
  for (const auto& port : wep.spec.ports) {
    auto proto = protocolNumber(port.protocol.empty() ? "TCP" : port.protocol);
    if (!proto) {
      return absl::InvalidArgumentError(fmt::format("{}: port \"{}\": unknown protocol \"{}\"",
                                                    displayName(wep.metadata, "WorkloadEndpoint"),
                                                    port.name, port.protocol));
    }
    e.ports.push_back({port.name, *proto, static_cast<uint16_t>(port.port)});
  }
  return e;
}

absl::StatusOr<Endpoint> fromPod(const model::Pod& pod) {
  if (pod.spec.host_network) {
    return absl::FailedPreconditionError(
        fmt::format("{}: hostNetwork pods have no workload interface and are not policed",
                    displayName(pod.metadata, "Pod")));
  }
  Endpoint e;
  e.namespace_ = pod.metadata.namespace_.empty() ? "default" : pod.metadata.namespace_;
  e.name = pod.metadata.name;
  e.node = pod.spec.node_name;
  e.labels = pod.metadata.labels;
  std::vector<std::string> ips;
  for (const auto& ip : pod.status.pod_ips) ips.push_back(ip.ip);
  if (ips.empty() && !pod.status.pod_ip.empty()) ips.push_back(pod.status.pod_ip);
  for (const auto& ip : ips) {
    auto addr = common::IpAddress::parse(ip);
    if (!addr.ok()) return annotate(addr.status(), displayName(pod.metadata, "Pod"));
    e.addresses.push_back(*addr);
  }
  for (const auto& c : pod.spec.containers) {
    for (const auto& port : c.ports) {
      if (port.name.empty()) continue;
      auto proto = protocolNumber(port.protocol.empty() ? "TCP" : port.protocol);
      if (!proto) continue;  // the model's enum already rejects other protocols
      e.ports.push_back({port.name, *proto, static_cast<uint16_t>(port.container_port)});
    }
  }
  return e;
}

NamespaceInfo fromNamespace(const model::Namespace& ns) {
  NamespaceInfo info{ns.metadata.name, ns.metadata.labels};
  info.labels["kubernetes.io/metadata.name"] = ns.metadata.name;
  return info;
}

absl::Status applyResource(Snapshot& snapshot, const model::Resource& r) {
  auto add = [&]<typename T>(auto&& convert_and_add) -> absl::Status {
    auto typed = model::fromResource<T>(r);
    if (!typed.ok()) return typed.status();
    return convert_and_add(*typed);
  };
  if (r.api_version == model::KubernetesNetworkPolicy::kApiVersion && r.kind == "NetworkPolicy") {
    return add.operator()<model::KubernetesNetworkPolicy>([&](const auto& t) -> absl::Status {
      CORAL_ASSIGN_OR_RETURN(auto p, fromKubernetes(t));
      snapshot.addPolicy(std::move(p));
      return absl::OkStatus();
    });
  }
  if (r.kind == "NetworkPolicy") {
    return add.operator()<model::NetworkPolicy>([&](const auto& t) -> absl::Status {
      CORAL_ASSIGN_OR_RETURN(auto p, fromCoral(t));
      snapshot.addPolicy(std::move(p));
      return absl::OkStatus();
    });
  }
  if (r.kind == "GlobalNetworkPolicy") {
    return add.operator()<model::GlobalNetworkPolicy>([&](const auto& t) -> absl::Status {
      CORAL_ASSIGN_OR_RETURN(auto p, fromCoral(t));
      snapshot.addPolicy(std::move(p));
      return absl::OkStatus();
    });
  }
  if (r.kind == "Namespace") {
    return add.operator()<model::Namespace>([&](const auto& t) -> absl::Status {
      snapshot.addNamespace(fromNamespace(t));
      return absl::OkStatus();
    });
  }
  if (r.kind == "Pod") {
    return add.operator()<model::Pod>([&](const auto& t) -> absl::Status {
      CORAL_ASSIGN_OR_RETURN(auto e, fromPod(t));
      snapshot.addEndpoint(std::move(e));
      return absl::OkStatus();
    });
  }
  if (r.kind == "WorkloadEndpoint") {
    return add.operator()<model::WorkloadEndpoint>([&](const auto& t) -> absl::Status {
      CORAL_ASSIGN_OR_RETURN(auto e, fromWorkloadEndpoint(t));
      snapshot.addEndpoint(std::move(e));
      return absl::OkStatus();
    });
  }
  if (r.kind == "Node") {
    return add.operator()<model::Node>([&](const auto& t) -> absl::Status {
      std::vector<common::IpAddress> addresses;
      std::vector<std::string> texts = {t.spec.ipv4_address, t.spec.ipv6_address};
      for (const auto& a : t.spec.addresses) texts.push_back(a.address);
      for (const auto& text : texts) {
        if (text.empty()) continue;
        auto prefix = common::Prefix::parseLoose(text);
        if (!prefix.ok()) return annotate(prefix.status(), r.displayName());
        if (std::find(addresses.begin(), addresses.end(), prefix->address()) == addresses.end()) {
          addresses.push_back(prefix->address());
        }
      }
      snapshot.setNodeAddresses(t.metadata.name, std::move(addresses));
      return absl::OkStatus();
    });
  }
  return absl::InvalidArgumentError(
      fmt::format("{}: kind {} does not feed policy", r.displayName(), r.kind));
}

}  // namespace coral::policy
