#include "agent/routes/route_calc.h"

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

DesiredRoutes computeRoutes(const RouteInputs& in) {
  std::map<std::string, const model::Node*> nodes;
  for (const auto& n : in.nodes) nodes[n.metadata.name] = &n;
  auto nodeAddress = [&](const std::string& name, bool v4) -> std::optional<common::IpAddress> {
    auto it = nodes.find(name);
    if (it == nodes.end()) return std::nullopt;
    return addressPart(v4 ? it->second->spec.ipv4_address : it->second->spec.ipv6_address);
  };

  DesiredRoutes out;
  for (const auto& block : in.blocks) {
    auto cidr = common::Prefix::parse(block.spec.cidr);
    if (!cidr.ok() || block.spec.deleted) continue;
    const std::string owner = affinityNode(block.spec.affinity);
    if (owner == in.self) {
      out[*cidr] =
          DesiredRoute{.dst = *cidr, .kind = RouteKind::kLocalBlock, .device = {}, .gateway = {}};
    } else if (!owner.empty() && !in.routes_from_bgp) {
      if (auto via = nodeAddress(owner, cidr->isV4())) {
        out[*cidr] = DesiredRoute{
            .dst = *cidr, .kind = RouteKind::kRemoteBlock, .device = {}, .gateway = via};
      }
    }
    // Addresses borrowed from this block by a node other than its owner (BGP carries
    // them as host routes when routes come from BGP).
    if (in.routes_from_bgp) continue;
    for (const auto& a : block.spec.allocations) {
      auto attr = a.attributes.find("node");
      if (attr == a.attributes.end() || attr->second == owner || attr->second == in.self) continue;
      auto ip = cidr->addressAt(static_cast<uint64_t>(a.ordinal));
      auto via = nodeAddress(attr->second, cidr->isV4());
      if (ip && via) {
        const auto host = common::Prefix::host(*ip);
        out[host] =
            DesiredRoute{.dst = host, .kind = RouteKind::kBorrowed, .device = {}, .gateway = via};
      }
    }
  }
  if (in.routes_from_bgp) {
    for (const auto& [dst, via] : in.learned) {
      if (out.contains(dst)) continue;  // our own block or a local workload wins
      out[dst] = DesiredRoute{.dst = dst,
                              .kind = dst.isHost() ? RouteKind::kBorrowed : RouteKind::kRemoteBlock,
                              .device = {},
                              .gateway = via};
    }
  }
  for (const auto& w : in.workloads) {
    for (const auto& ip : w.addresses) {
      const auto host = common::Prefix::host(ip);
      out[host] = DesiredRoute{
          .dst = host, .kind = RouteKind::kWorkload, .device = w.host_ifname, .gateway = {}};
    }
  }
  return out;
}

}  // namespace coral::agent
