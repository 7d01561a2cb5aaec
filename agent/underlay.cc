#include "agent/underlay.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::agent {
namespace {

bool isOurs(const LinkInfo& l) {
  return l.name == "lo" || l.name.starts_with("cor") || l.name.starts_with("vxlan.coral");
}

absl::StatusOr<Underlay> describe(Netlink& nl, const LinkInfo& link) {
  Underlay u;
  u.interface = link.name;
  u.mtu = link.mtu;
  auto addrs = nl.addresses(link.name);
  if (!addrs.ok()) return addrs.status();
  for (const auto& a : *addrs) {
    if (a.ip.isLinkLocal() || a.ip.isUnspecified()) continue;
    if (a.ip.isV4() && !u.ipv4) u.ipv4 = a;
    if (a.ip.isV6() && !u.ipv6) u.ipv6 = a;
  }
  if (!u.ipv4 && !u.ipv6) {
    return absl::FailedPreconditionError(
        fmt::format("underlay interface {} has no IPv4 or global IPv6 address", link.name));
  }
  return u;
}

}  // namespace

absl::StatusOr<Underlay> detectUnderlay(Netlink& nl, const AgentConfig& config) {
  if (!config.underlay_interface.empty()) {
    auto link = nl.link(config.underlay_interface);
    if (!link.ok()) {
      return absl::NotFoundError(fmt::format("underlayInterface {}: {}", config.underlay_interface,
                                             errorMessage(link.status())));
    }
    return describe(nl, *link);
  }
  auto links = nl.links();
  if (!links.ok()) return links.status();
  std::optional<common::Prefix> cidr;
  std::string name_prefix;
  const std::string& method = config.address_detection;
  if (method.starts_with("cidr=")) cidr = common::Prefix::parse(method.substr(5)).value();
  if (method.starts_with("interface=")) name_prefix = method.substr(10);

  std::vector<Underlay> candidates;
  for (const auto& link : *links) {
    if (isOurs(link) || !link.up) continue;
    if (!name_prefix.empty() && !link.name.starts_with(name_prefix)) continue;
    auto u = describe(nl, link);
    if (!u.ok() || !u->ipv4) continue;
    if (cidr && !cidr->contains(u->ipv4->ip)) continue;
    candidates.push_back(*u);
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "no underlay interface found by addressDetection \"{}\": no interface that is up and "
        "has an IPv4 address{}; set underlayInterface",
        method, cidr ? " inside " + cidr->toString() : ""));
  }
  std::vector<std::string> names;
  for (const auto& c : candidates) names.push_back(c.interface + " (" + c.ipv4->toString() + ")");
  return absl::FailedPreconditionError(
      fmt::format("underlay detection is ambiguous: {} all qualify; set underlayInterface or "
                  "addressDetection (cidr=... or interface=...)",
                  join(names, ", ")));
}

}  // namespace coral::agent
