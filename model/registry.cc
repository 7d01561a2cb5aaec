#include "model/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/strings.h"
#include "model/schema.h"

namespace coral::model {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }
template <typename T>
std::string orDash(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "-";
}
std::string yesNo(bool b) { return b ? "true" : "false"; }

template <typename T>
absl::Status normalizeAs(Resource& r, bool namespaced) {
  Validation v;
  if (namespaced && r.metadata.namespace_.empty()) r.metadata.namespace_ = "default";
  if (!namespaced && !r.metadata.namespace_.empty()) {
    v.at("metadata")
        .at("namespace")
        .error(fmt::format("{} is cluster-scoped and has no namespace", r.kind));
  }
  Validation meta_v = v.at("metadata");
  r.metadata.validate(meta_v);
  auto typed = fromResource<T>(r);
  if (!typed.ok()) {
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}; {}", errorMessage(joinErrors(r, v)), errorMessage(typed.status())));
    }
    return typed.status();
  }
  if constexpr (requires { T::validateObject(*typed, v); }) T::validateObject(*typed, v);
  if (!v.ok()) return joinErrors(r, v);
  if constexpr (requires { T::applyDefaults(*typed); }) T::applyDefaults(*typed);
  Resource out = toResource(*typed);
  r.spec = std::move(out.spec);
  r.metadata = std::move(typed->metadata);
  if (!out.status.is_null()) r.status = std::move(out.status);
  return absl::OkStatus();
}

template <typename T>
KindInfo makeKind(std::string storage_name, std::string plural, std::vector<std::string> aliases,
                  bool namespaced, std::vector<std::string> columns,
                  std::vector<std::string> wide_columns,
                  std::function<std::vector<std::string>(const T&)> row) {
  KindInfo k;
  k.kind = T::kKind;
  k.api_version = apiVersionOf<T>();
  k.storage_name = std::move(storage_name);
  k.plural = std::move(plural);
  k.aliases = std::move(aliases);
  k.namespaced = namespaced;
  k.normalize = [namespaced](Resource& r) { return normalizeAs<T>(r, namespaced); };
  k.spec_schema = [] { return schemaOf<decltype(T::spec)>(); };
  k.columns = std::move(columns);
  k.wide_columns = std::move(wide_columns);
  const size_t width = k.columns.size() + k.wide_columns.size();
  k.row = [row, width](const Resource& r) {
    auto typed = fromResource<T>(r);
    if (!typed.ok()) return std::vector<std::string>(width, "?");
    return row(*typed);
  };
  return k;
}

std::string joinOrDash(const std::vector<std::string>& v) { return v.empty() ? "-" : join(v, ","); }

std::vector<KindInfo> buildKinds() {
  std::vector<KindInfo> kinds;
  kinds.push_back(
      makeKind<IPPool>("IPPool", "ippools", {"ippool", "pool", "pools"}, false,
                       {"CIDR", "BLOCKSIZE", "ENCAPSULATION", "NATOUTGOING", "DISABLED"},
                       {"NODESELECTOR"}, [](const IPPool& p) {
                         return std::vector<std::string>{p.spec.cidr,
                                                         orDash(p.spec.block_size),
                                                         orDash(p.spec.encapsulation),
                                                         yesNo(p.spec.nat_outgoing),
                                                         yesNo(p.spec.disabled),
                                                         orDash(p.spec.node_selector)};
                       }));
  kinds.push_back(makeKind<IPAMConfiguration>(
      "IPAMConfiguration", "ipamconfigurations", {"ipamconfiguration", "ipamconfig"}, false,
      {"STRICTAFFINITY", "MAXBLOCKSPERHOST"}, {}, [](const IPAMConfiguration& c) {
        return std::vector<std::string>{yesNo(c.spec.strict_affinity),
                                        std::to_string(c.spec.max_blocks_per_host)};
      }));
  kinds.push_back(makeKind<IPAMBlock>(
      "IPAMBlock", "ipamblocks", {"ipamblock", "block", "blocks"}, false,
      {"CIDR", "AFFINITY", "ALLOCATED"}, {}, [](const IPAMBlock& b) {
        return std::vector<std::string>{b.spec.cidr, orDash(b.spec.affinity),
                                        std::to_string(b.spec.allocations.size())};
      }));
  kinds.push_back(makeKind<BlockAffinity>(
      "BlockAffinity", "blockaffinities", {"blockaffinity", "affinity", "affinities"}, false,
      {"NODE", "CIDR", "STATE"}, {}, [](const BlockAffinity& a) {
        return std::vector<std::string>{a.spec.node, a.spec.cidr, orDash(a.spec.state)};
      }));
  kinds.push_back(
      makeKind<IPAMHandle>("IPAMHandle", "ipamhandles", {"ipamhandle", "handle", "handles"}, false,
                           {"HANDLE", "BLOCKS"}, {}, [](const IPAMHandle& h) {
                             std::vector<std::string> blocks;
                             for (const auto& [cidr, n] : h.spec.blocks)
                               blocks.push_back(fmt::format("{}({})", cidr, n));
                             return std::vector<std::string>{h.spec.handle_id, joinOrDash(blocks)};
                           }));
  kinds.push_back(makeKind<BGPConfiguration>(
      "BGPConfiguration", "bgpconfigurations", {"bgpconfiguration", "bgpconfig"}, false,
      {"ASNUMBER", "NODETONODEMESH", "LISTENPORT"}, {}, [](const BGPConfiguration& c) {
        return std::vector<std::string>{
            orDash(c.spec.as_number),
            c.spec.node_to_node_mesh ? yesNo(*c.spec.node_to_node_mesh) : "-",
            orDash(c.spec.listen_port)};
      }));
  kinds.push_back(makeKind<BGPPeer>(
      "BGPPeer", "bgppeers", {"bgppeer", "peer", "peers"}, false, {"PEERIP", "ASNUMBER", "NODE"},
      {"NODESELECTOR", "PEERSELECTOR"}, [](const BGPPeer& p) {
        return std::vector<std::string>{orDash(p.spec.peer_ip), orDash(p.spec.as_number),
                                        p.spec.node.empty() ? "(all)" : p.spec.node,
                                        orDash(p.spec.node_selector), orDash(p.spec.peer_selector)};
      }));
  kinds.push_back(makeKind<Node>(
      "Node", "nodes", {"node", "no"}, false, {"IPV4ADDRESS", "IPV6ADDRESS", "ASNUMBER"},
      {"RRCLUSTERID", "LABELS"}, [](const Node& n) {
        std::vector<std::string> labels;
        for (const auto& [k, v] : n.metadata.labels) labels.push_back(k + "=" + v);
        return std::vector<std::string>{
            orDash(n.spec.ipv4_address), orDash(n.spec.ipv6_address), orDash(n.spec.as_number),
            orDash(n.spec.route_reflector_cluster_id), joinOrDash(labels)};
      }));
  kinds.push_back(makeKind<WorkloadEndpoint>(
      "WorkloadEndpoint", "workloadendpoints", {"workloadendpoint", "wep", "weps"}, true,
      {"NODE", "POD", "INTERFACE", "NETWORKS"}, {"CONTAINERID", "MAC"},
      [](const WorkloadEndpoint& w) {
        return std::vector<std::string>{w.spec.node,
                                        orDash(w.spec.pod),
                                        w.spec.interface_name,
                                        joinOrDash(w.spec.ip_networks),
                                        orDash(w.spec.container_id),
                                        orDash(w.spec.mac)};
      }));
  kinds.push_back(makeKind<NetworkPolicy>(
      "NetworkPolicy", "networkpolicies", {"networkpolicy", "policy", "policies", "netpol"}, true,
      {"ORDER", "SELECTOR", "TYPES"}, {"INGRESS", "EGRESS"}, [](const NetworkPolicy& p) {
        return std::vector<std::string>{
            orDash(p.spec.order), orDash(p.spec.selector), joinOrDash(p.spec.types),
            std::to_string(p.spec.ingress.size()), std::to_string(p.spec.egress.size())};
      }));
  kinds.push_back(makeKind<GlobalNetworkPolicy>(
      "GlobalNetworkPolicy", "globalnetworkpolicies",
      {"globalnetworkpolicy", "gnp", "globalpolicy", "globalpolicies"}, false,
      {"ORDER", "SELECTOR", "TYPES"}, {"NAMESPACESELECTOR", "INGRESS", "EGRESS"},
      [](const GlobalNetworkPolicy& p) {
        return std::vector<std::string>{orDash(p.spec.order),
                                        orDash(p.spec.selector),
                                        joinOrDash(p.spec.types),
                                        orDash(p.spec.namespace_selector),
                                        std::to_string(p.spec.ingress.size()),
                                        std::to_string(p.spec.egress.size())};
      }));
  kinds.push_back(makeKind<KubernetesNetworkPolicy>(
      "KubernetesNetworkPolicy", "kubernetesnetworkpolicies",
      {"kubernetesnetworkpolicy", "k8snetworkpolicy", "k8snetworkpolicies", "knp"}, true,
      {"POD-SELECTOR", "POLICYTYPES"}, {"INGRESS", "EGRESS"}, [](const KubernetesNetworkPolicy& p) {
        std::vector<std::string> sel;
        for (const auto& [k, v] : p.spec.pod_selector.match_labels) sel.push_back(k + "=" + v);
        if (!p.spec.pod_selector.match_expressions.empty()) sel.push_back("(expressions)");
        return std::vector<std::string>{
            sel.empty() ? "<all>" : join(sel, ","), join(effectivePolicyTypes(p.spec), ","),
            std::to_string(p.spec.ingress.size()), std::to_string(p.spec.egress.size())};
      }));
  kinds.push_back(makeKind<Pod>(
      "Pod", "pods", {"pod", "po"}, true, {"NODE", "IP"}, {"LABELS"}, [](const Pod& p) {
        std::vector<std::string> labels;
        for (const auto& [k, v] : p.metadata.labels) labels.push_back(k + "=" + v);
        return std::vector<std::string>{orDash(p.spec.node_name), orDash(p.status.pod_ip),
                                        joinOrDash(labels)};
      }));
  kinds.push_back(makeKind<Namespace>("Namespace", "namespaces", {"namespace", "ns"}, false,
                                      {"LABELS"}, {}, [](const Namespace& n) {
                                        std::vector<std::string> labels;
                                        for (const auto& [k, v] : n.metadata.labels)
                                          labels.push_back(k + "=" + v);
                                        return std::vector<std::string>{joinOrDash(labels)};
                                      }));
  return kinds;
}

}  // namespace

const std::vector<KindInfo>& allKinds() {
  static const std::vector<KindInfo> kinds = buildKinds();
  return kinds;
}

const KindInfo* findKindByName(std::string_view name) {
  const std::string want = lower(name);
  for (const auto& k : allKinds()) {
    if (lower(k.kind) == want || k.plural == want || lower(k.storage_name) == want) return &k;
    for (const auto& alias : k.aliases) {
      if (alias == want) return &k;
    }
  }
  return nullptr;
}

const KindInfo* findKind(std::string_view api_version, std::string_view kind) {
  for (const auto& k : allKinds()) {
    if (k.api_version == api_version && k.kind == kind) return &k;
  }
  return nullptr;
}

absl::Status joinErrors(const Resource& resource, const Validation& v) {
  return absl::InvalidArgumentError(
      fmt::format("{}: {}", resource.displayName(), join(v.errors(), "; ")));
}

absl::Status normalize(Resource& resource) {
  const KindInfo* kind = findKind(resource.api_version, resource.kind);
  if (kind == nullptr) {
    // Say which part is wrong: a known kind under another apiVersion, or no such kind.
    for (const auto& k : allKinds()) {
      if (k.kind == resource.kind) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: apiVersion \"{}\" is not served for kind {} (use \"{}\")", resource.displayName(),
            resource.api_version, resource.kind, k.api_version));
      }
    }
    std::vector<std::string> known;
    for (const auto& k : allKinds()) known.push_back(k.kind);
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    return absl::InvalidArgumentError(fmt::format("{}: unknown kind \"{}\" (known kinds: {})",
                                                  resource.displayName(), resource.kind,
                                                  join(known, ", ")));
  }
  return kind->normalize(resource);
}

}  // namespace coral::model
