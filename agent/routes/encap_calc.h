// Encapsulation as the datastore asks for it (pure, no kernel): which IP pools carry
// their traffic in VXLAN, whether this node needs a VXLAN device per family, the other
// nodes' tunnel endpoints (VTEPs) it must know, whether traffic to a given node is
// encapsulated (VXLANCrossSubnet: only when that node's underlay address is outside our
// subnet), the pod MTU, and the pools whose pods masquerade on the way out.
//
// The route calculation (route_calc.h) uses this to send remote blocks of VXLAN pools
// through the VXLAN device with the remote tunnel address as an onlink next hop.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dataplane/netlink.h"
#include "common/ip.h"
#include "model/kinds/ipam.h"
#include "model/kinds/node.h"

namespace coral::agent {

// The devices Coral owns (Calico names them vxlan.calico and vxlan-v6.calico).
inline constexpr std::string_view kVxlanDeviceV4 = "vxlan.coral";
inline constexpr std::string_view kVxlanDeviceV6 = "vxlan-v6.coral";
std::string_view vxlanDevice(common::Family family);
// Outer IP + UDP + VXLAN + inner Ethernet: 20+8+8+14 over IPv4, 40+8+8+14 over IPv6.
inline constexpr uint32_t kVxlanOverheadV4 = 50;
inline constexpr uint32_t kVxlanOverheadV6 = 70;
uint32_t vxlanOverhead(common::Family underlay);

enum class Encapsulation { kNone, kVxlan, kVxlanCrossSubnet };
Encapsulation parseEncapsulation(std::string_view text);  // "" and unknown: kNone

// An IPPool as encapsulation and NAT see it.
struct PoolView {
  std::string name;
  common::Prefix cidr;
  Encapsulation encapsulation = Encapsulation::kNone;
  bool nat_outgoing = false;
  bool disabled = false;
  bool selects_self = false;  // its nodeSelector matches this node
  bool operator==(const PoolView&) const = default;
};
// Pools that do not parse are left out (IPAM refuses them too).
std::vector<PoolView> poolViews(const std::vector<model::IPPool>& pools,
                                const common::Labels& self_labels);
const PoolView* poolOf(const std::vector<PoolView>& pools, const common::Prefix& block);

// This node needs a VXLAN device of `family` when a pool of that family asks for
// VXLAN (always or cross-subnet) and either selects this node or has blocks in use.
bool vxlanNeeded(const std::vector<PoolView>& pools, const std::vector<model::IPAMBlock>& blocks,
                 common::Family family);
// The pools this node's tunnel address may come from: enabled VXLAN pools selecting it.
std::vector<std::string> tunnelAddressPools(const std::vector<PoolView>& pools,
                                            common::Family family);

// IPAM handle of a node's tunnel address (Calico: vxlan-tunnel-addr-<node>).
std::string tunnelHandle(std::string_view node, common::Family family);
// The VXLAN device's MAC: stable per node and family (restarts keep it), locally
// administered unicast.
MacAddress tunnelMac(std::string_view node, common::Family family);

// Another node's tunnel endpoint, from its Node resource.
struct Vtep {
  std::string node;
  common::IpAddress tunnel;    // the remote device's address: the onlink next hop
  MacAddress mac{};            // the remote device's MAC: the ARP/NDP entry
  common::IpAddress underlay;  // where the encapsulated frames go: the FDB entry
  bool operator==(const Vtep&) const = default;
};
// VTEPs of every node but `self` that published one for `family`, sorted by node.
std::vector<Vtep> remoteVteps(const std::vector<model::Node>& nodes, std::string_view self,
                              common::Family family);
std::optional<Vtep> vtepOf(const model::Node& node, common::Family family);

// The node's underlay address of a family with its subnet ("10.0.0.11/24").
std::optional<common::Prefix> underlaySubnet(const model::Node& node, common::Family family);
std::optional<common::IpAddress> underlayAddress(const model::Node& node, common::Family family);

// Whether traffic from `self` to `remote` for a pool with `encapsulation` is carried in
// VXLAN. CrossSubnet: only when remote's underlay address is outside self's subnet (or
// either is unknown, the safe choice).
bool encapsulated(Encapsulation encapsulation, const model::Node* self, const model::Node& remote,
                  common::Family family);

// The pods' MTU: the configured one, else the underlay's minus the largest overhead of the
// VXLAN families in use (IPv4 pools ride an IPv4 underlay, IPv6 pools an IPv6 one).
uint32_t podMtu(uint32_t configured, uint32_t underlay_mtu, bool vxlan_v4, bool vxlan_v6);
// The VXLAN device's MTU: the configured pod MTU, else the underlay's minus the overhead.
uint32_t vxlanMtu(uint32_t configured, uint32_t underlay_mtu, common::Family family);

}  // namespace coral::agent
