#include "agent/routes/encap_calc.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/hash.h"
#include "ipam/pools.h"

namespace coral::agent {
namespace {

bool isV4(common::Family f) { return f == common::Family::kV4; }

std::optional<common::IpAddress> parseIp(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto ip = common::IpAddress::parse(text.substr(0, text.find('/')));
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

}  // namespace

std::string_view vxlanDevice(common::Family family) {
  return isV4(family) ? kVxlanDeviceV4 : kVxlanDeviceV6;
}

uint32_t vxlanOverhead(common::Family underlay) {
  return isV4(underlay) ? kVxlanOverheadV4 : kVxlanOverheadV6;
}

Encapsulation parseEncapsulation(std::string_view text) {
  if (text == "VXLAN") return Encapsulation::kVxlan;
  if (text == "VXLANCrossSubnet") return Encapsulation::kVxlanCrossSubnet;
  return Encapsulation::kNone;
}

std::vector<PoolView> poolViews(const std::vector<model::IPPool>& pools,
                                const common::Labels& self_labels) {
  std::vector<PoolView> out;
  for (const auto& p : pools) {
    auto parsed = ipam::parsePool(p);
    if (!parsed.ok()) continue;
    out.push_back({.name = p.metadata.name,
                   .cidr = parsed->cidr,
                   .encapsulation = parseEncapsulation(p.spec.encapsulation),
                   .nat_outgoing = p.spec.nat_outgoing,
                   .disabled = p.spec.disabled,
                   .selects_self = parsed->node_selector.matches(self_labels)});
  }
  return out;
}

const PoolView* poolOf(const std::vector<PoolView>& pools, const common::Prefix& block) {
  for (const auto& p : pools) {
    if (p.cidr.contains(block)) return &p;
  }
  return nullptr;
}

bool vxlanNeeded(const std::vector<PoolView>& pools, const std::vector<model::IPAMBlock>& blocks,
                 common::Family family) {
  for (const auto& p : pools) {
    if (p.cidr.family() != family || p.encapsulation == Encapsulation::kNone) continue;
    if (!p.disabled && p.selects_self) return true;
    for (const auto& b : blocks) {
      auto cidr = common::Prefix::parse(b.spec.cidr);
      if (cidr.ok() && !b.spec.deleted && p.cidr.contains(*cidr)) return true;
    }
  }
  return false;
}

std::vector<std::string> tunnelAddressPools(const std::vector<PoolView>& pools,
                                            common::Family family) {
  std::vector<std::string> out;
  for (const auto& p : pools) {
    if (p.cidr.family() == family && p.encapsulation != Encapsulation::kNone && !p.disabled &&
        p.selects_self) {
      out.push_back(p.name);
    }
  }
  return out;
}

std::string tunnelHandle(std::string_view node, common::Family family) {
  return fmt::format("{}-{}", isV4(family) ? "vxlan-tunnel-addr" : "vxlan-v6-tunnel-addr", node);
}

MacAddress tunnelMac(std::string_view node, common::Family family) {
  const uint64_t h = fnv1a64(fmt::format("{}/{}", node, isV4(family) ? "vxlan" : "vxlan-v6"));
  MacAddress mac{};
  for (size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<uint8_t>(h >> (8 * i));
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
  return mac;
}

std::optional<common::IpAddress> underlayAddress(const model::Node& node, common::Family family) {
  return parseIp(isV4(family) ? node.spec.ipv4_address : node.spec.ipv6_address);
}

std::optional<common::Prefix> underlaySubnet(const model::Node& node, common::Family family) {
  const std::string& text = isV4(family) ? node.spec.ipv4_address : node.spec.ipv6_address;
  if (text.find('/') == std::string::npos) return std::nullopt;
  auto p = common::Prefix::parseLoose(text);
  if (!p.ok()) return std::nullopt;
  return *p;
}

std::optional<Vtep> vtepOf(const model::Node& node, common::Family family) {
  const auto& s = node.spec;
  auto tunnel = parseIp(isV4(family) ? s.vxlan_tunnel_address : s.vxlan_tunnel_address_v6);
  auto mac = parseMac(isV4(family) ? s.vxlan_tunnel_mac : s.vxlan_tunnel_mac_v6);
  auto underlay = underlayAddress(node, family);
  if (!tunnel || !mac.ok() || !underlay || tunnel->family() != family) return std::nullopt;
  return Vtep{.node = node.metadata.name, .tunnel = *tunnel, .mac = *mac, .underlay = *underlay};
}

std::vector<Vtep> remoteVteps(const std::vector<model::Node>& nodes, std::string_view self,
                              common::Family family) {
  std::vector<Vtep> out;
  for (const auto& n : nodes) {
    if (n.metadata.name == self) continue;
    if (auto v = vtepOf(n, family)) out.push_back(*v);
  }
  std::sort(out.begin(), out.end(), [](const Vtep& a, const Vtep& b) { return a.node < b.node; });
  return out;
}

bool encapsulated(Encapsulation encapsulation, const model::Node* self, const model::Node& remote,
                  common::Family family) {
  switch (encapsulation) {
    case Encapsulation::kNone:
      return false;
    case Encapsulation::kVxlan:
      return true;
    case Encapsulation::kVxlanCrossSubnet: {
      if (self == nullptr) return true;
      auto subnet = underlaySubnet(*self, family);
      auto theirs = underlayAddress(remote, family);
      return !(subnet && theirs && subnet->contains(*theirs));
    }
  }
  return false;
}

uint32_t podMtu(uint32_t configured, uint32_t underlay_mtu, bool vxlan_v4, bool vxlan_v6) {
  if (configured > 0) return configured;
  uint32_t overhead = 0;
  if (vxlan_v4) overhead = std::max(overhead, kVxlanOverheadV4);
  if (vxlan_v6) overhead = std::max(overhead, kVxlanOverheadV6);
  return underlay_mtu > overhead ? underlay_mtu - overhead : underlay_mtu;
}

uint32_t vxlanMtu(uint32_t configured, uint32_t underlay_mtu, common::Family family) {
  if (configured > 0) return configured;
  const uint32_t overhead = vxlanOverhead(family);
  return underlay_mtu > overhead ? underlay_mtu - overhead : underlay_mtu;
}

}  // namespace coral::agent
