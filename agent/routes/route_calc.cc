#include "agent/routes/route_calc.h"

#include <algorithm>

namespace coral::agent {
namespace {

std::optional<common::IpAddress> addressPart(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto ip = common::IpAddress::parse(text.substr(0, text.find('/')));
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

}  // namespace

std::string_view routeKindName(RouteKind kind) {
  switch (kind) {
    case RouteKind::kLocalBlock:
      return "local-block";
    case RouteKind::kWorkload:
      return "workload";
    case RouteKind::kRemoteBlock:
      return "remote-block";
    case RouteKind::kBorrowed:
      return "borrowed";
  }
  return "?";
}

std::string affinityNode(const std::string& affinity) {
  return affinity.starts_with("host:") ? affinity.substr(5) : std::string();
}

DesiredRoutes computeRoutes(const RouteInputs& in, std::vector<OffSubnetRoute>* off_subnet) {
  std::map<std::string, const model::Node*> nodes;
  for (const auto& n : in.nodes) nodes[n.metadata.name] = &n;
  auto nodeAddress = [&](const std::string& name, bool v4) -> std::optional<common::IpAddress> {
    auto it = nodes.find(name);
    if (it == nodes.end()) return std::nullopt;
    return addressPart(v4 ? it->second->spec.ipv4_address : it->second->spec.ipv6_address);
  };

  const model::Node* self = nodes.contains(in.self) ? nodes.at(in.self) : nullptr;
  auto onLink = [&](const common::IpAddress& via) {
    if (!in.connected) return true;
    return std::any_of(in.connected->begin(), in.connected->end(),
                       [&](const common::Prefix& subnet) { return subnet.contains(via); });
  };
  std::map<common::Prefix, OffSubnetRoute> off;
  // A route to `owner`'s addresses in `cidr`: through VXLAN when the pool asks for it
  // (nullopt when it does but the tunnel is not ready on either end), else via the node.
  auto remoteRoute = [&](const common::Prefix& dst, const common::Prefix& cidr,
                         const std::string& owner, RouteKind kind) -> std::optional<DesiredRoute> {
    const common::Family family = cidr.family();
    auto it = nodes.find(owner);
    const PoolView* pool = poolOf(in.pools, cidr);
    if (pool && it != nodes.end() && encapsulated(pool->encapsulation, self, *it->second, family)) {
      const bool ready = family == common::Family::kV4 ? in.vxlan_v4 : in.vxlan_v6;
      auto vtep = vtepOf(*it->second, family);
      if (!ready || !vtep) return std::nullopt;
      return DesiredRoute{.dst = dst,
                          .kind = kind,
                          .device = std::string(vxlanDevice(family)),
                          .gateway = vtep->tunnel,
                          .onlink = true};
    }
    if (in.routes_from_bgp) return std::nullopt;
    auto via = nodeAddress(owner, cidr.isV4());
    if (!via) return std::nullopt;
    if (!onLink(*via)) {
      off[dst] = OffSubnetRoute{.dst = dst, .node = owner, .via = *via};
      return std::nullopt;
    }
    return DesiredRoute{.dst = dst, .kind = kind, .device = {}, .gateway = via, .onlink = false};
  };

  DesiredRoutes out;
  for (const auto& block : in.blocks) {
    auto cidr = common::Prefix::parse(block.spec.cidr);
    if (!cidr.ok() || block.spec.deleted) continue;
    const std::string owner = affinityNode(block.spec.affinity);
    if (owner == in.self) {
      out[*cidr] = DesiredRoute{.dst = *cidr,
                                .kind = RouteKind::kLocalBlock,
                                .device = {},
                                .gateway = {},
                                .onlink = false};
    } else if (!owner.empty()) {
      if (auto r = remoteRoute(*cidr, *cidr, owner, RouteKind::kRemoteBlock)) out[*cidr] = *r;
    }
    // Addresses borrowed from this block by a node other than its owner (BGP carries
    // them as host routes when routes come from BGP, unless they ride VXLAN).
    for (const auto& a : block.spec.allocations) {
      auto attr = a.attributes.find("node");
      if (attr == a.attributes.end() || attr->second == owner || attr->second == in.self) continue;
      auto ip = cidr->addressAt(static_cast<uint64_t>(a.ordinal));
      if (!ip) continue;
      const auto host = common::Prefix::host(*ip);
      if (auto r = remoteRoute(host, *cidr, attr->second, RouteKind::kBorrowed)) out[host] = *r;
    }
  }
  if (in.routes_from_bgp) {
    for (const auto& [dst, via] : in.learned) {
      if (out.contains(dst)) continue;  // our own block, VXLAN or a local workload wins
      out[dst] = DesiredRoute{.dst = dst,
                              .kind = dst.isHost() ? RouteKind::kBorrowed : RouteKind::kRemoteBlock,
                              .device = {},
                              .gateway = via,
                              .onlink = false};
    }
  }
  for (const auto& w : in.workloads) {
    for (const auto& ip : w.addresses) {
      const auto host = common::Prefix::host(ip);
      out[host] = DesiredRoute{.dst = host,
                               .kind = RouteKind::kWorkload,
                               .device = w.host_ifname,
                               .gateway = {},
                               .onlink = false};
    }
  }
  if (off_subnet) {
    off_subnet->clear();
    for (auto& [dst, r] : off) off_subnet->push_back(std::move(r));
  }
  return out;
}

std::map<common::Prefix, Route> staleRoutesOf(const std::vector<Route>& kernel) {
  std::map<common::Prefix, Route> out;
  for (const auto& r : kernel) {
    if (r.type == RouteType::kUnicast && r.gateway) out.emplace(r.dst, r);
  }
  return out;
}

size_t keepStaleRoutes(DesiredRoutes& desired, const std::map<common::Prefix, Route>& stale) {
  size_t added = 0;
  for (const auto& [dst, r] : stale) {
    if (desired.contains(dst)) continue;
    desired.emplace(dst, DesiredRoute{dst, RouteKind::kRemoteBlock, "", r.gateway, r.onlink});
    ++added;
  }
  return added;
}

}  // namespace coral::agent
