// Encapsulation as the datastore asks for it: which nodes need a VXLAN device, VTEPs,
// routes through VXLAN (always and cross-subnet), the pod MTU and the NAT tables.
#include "agent/routes/encap_calc.h"

#include <gtest/gtest.h>

#include "agent/dataplane/nat_outgoing.h"
#include "agent/routes/route_calc.h"

namespace coral::agent {
namespace {

common::Prefix pfx(std::string_view s) { return common::Prefix::parse(s).value(); }
common::IpAddress ip(std::string_view s) { return common::IpAddress::parse(s).value(); }

model::IPPool pool(std::string name, std::string cidr, std::string encapsulation, bool nat = false,
                   std::string selector = "") {
  model::IPPool p;
  p.metadata.name = std::move(name);
  p.spec.cidr = std::move(cidr);
  p.spec.encapsulation = std::move(encapsulation);
  p.spec.nat_outgoing = nat;
  p.spec.node_selector = std::move(selector);
  return p;
}

model::IPAMBlock block(std::string cidr, std::string owner) {
  model::IPAMBlock b;
  b.metadata.name = cidr;
  b.spec.cidr = std::move(cidr);
  b.spec.affinity = "host:" + owner;
  return b;
}

model::Node node(std::string name, std::string v4, std::string tunnel = "", std::string mac = "") {
  model::Node n;
  n.metadata.name = std::move(name);
  n.spec.ipv4_address = std::move(v4);
  n.spec.vxlan_tunnel_address = std::move(tunnel);
  n.spec.vxlan_tunnel_mac = std::move(mac);
  return n;
}

TEST(EncapCalcTest, VxlanIsNeededWhenAPoolSelectingTheNodeOrInUseAsksForIt) {
  const common::Labels labels = {{"zone", "a"}};
  auto none = poolViews({pool("p", "10.244.0.0/16", "None")}, labels);
  EXPECT_FALSE(vxlanNeeded(none, {}, common::Family::kV4));
  auto vx = poolViews({pool("p", "10.244.0.0/16", "VXLAN")}, labels);
  EXPECT_TRUE(vxlanNeeded(vx, {}, common::Family::kV4));
  EXPECT_FALSE(vxlanNeeded(vx, {}, common::Family::kV6));
  EXPECT_EQ(tunnelAddressPools(vx, common::Family::kV4), std::vector<std::string>{"p"});
  // A pool for other nodes only: needed once one of them has a block in it (to reach it).
  auto other =
      poolViews({pool("p", "10.244.0.0/16", "VXLANCrossSubnet", false, "zone == 'b'")}, labels);
  EXPECT_FALSE(vxlanNeeded(other, {}, common::Family::kV4));
  EXPECT_TRUE(vxlanNeeded(other, {block("10.244.1.0/26", "n2")}, common::Family::kV4));
  EXPECT_TRUE(tunnelAddressPools(other, common::Family::kV4).empty());
}

TEST(EncapCalcTest, VtepsComeFromOtherNodesThatPublishedAll) {
  std::vector<model::Node> nodes = {node("n1", "10.0.1.2/24", "10.244.0.0", "66:00:00:00:00:01"),
                                    node("n3", "10.0.2.3/24", "10.244.2.0", "66:00:00:00:00:03"),
                                    node("n2", "10.0.2.2/24", "10.244.1.0", "66:00:00:00:00:02"),
                                    node("n4", "10.0.2.4/24", "10.244.3.0", ""),
                                    node("n5", "", "10.244.4.0", "66:00:00:00:00:05")};
  auto vteps = remoteVteps(nodes, "n1", common::Family::kV4);
  ASSERT_EQ(vteps.size(), 2u);
  EXPECT_EQ(vteps[0].node, "n2");
  EXPECT_EQ(vteps[0].tunnel, ip("10.244.1.0"));
  EXPECT_EQ(vteps[0].underlay, ip("10.0.2.2"));
  EXPECT_EQ(formatMac(vteps[0].mac), "66:00:00:00:00:02");
  EXPECT_EQ(vteps[1].node, "n3");
  EXPECT_TRUE(remoteVteps(nodes, "n1", common::Family::kV6).empty());
}

TEST(EncapCalcTest, TunnelMacIsStableLocalAndUnicast) {
  const auto a = tunnelMac("node-1", common::Family::kV4);
  EXPECT_EQ(a, tunnelMac("node-1", common::Family::kV4));
  EXPECT_NE(a, tunnelMac("node-2", common::Family::kV4));
  EXPECT_NE(a, tunnelMac("node-1", common::Family::kV6));
  EXPECT_EQ(a[0] & 0x03, 0x02);
  EXPECT_EQ(tunnelHandle("node-1", common::Family::kV4), "vxlan-tunnel-addr-node-1");
  EXPECT_EQ(tunnelHandle("node-1", common::Family::kV6), "vxlan-v6-tunnel-addr-node-1");
}

TEST(EncapCalcTest, CrossSubnetEncapsulatesOnlyOutsideOurSubnet) {
  const auto self = node("n1", "10.0.1.2/24");
  EXPECT_FALSE(encapsulated(Encapsulation::kVxlanCrossSubnet, &self, node("n3", "10.0.1.3/24"),
                            common::Family::kV4));
  EXPECT_TRUE(encapsulated(Encapsulation::kVxlanCrossSubnet, &self, node("n2", "10.0.2.2/24"),
                           common::Family::kV4));
  EXPECT_TRUE(
      encapsulated(Encapsulation::kVxlan, &self, node("n3", "10.0.1.3/24"), common::Family::kV4));
  EXPECT_FALSE(
      encapsulated(Encapsulation::kNone, &self, node("n2", "10.0.2.2/24"), common::Family::kV4));
}

TEST(EncapCalcTest, RoutesToVxlanPoolsGoThroughTheDeviceOnlink) {
  RouteInputs in;
  in.self = "n1";
  in.nodes = {node("n1", "10.0.1.2/24", "10.244.0.1", "66:00:00:00:00:01"),
              node("n2", "10.0.2.2/24", "10.244.1.1", "66:00:00:00:00:02"),
              node("n3", "10.0.1.3/24", "10.244.2.1", "66:00:00:00:00:03")};
  in.blocks = {block("10.244.0.0/26", "n1"), block("10.244.1.0/26", "n2"),
               block("10.244.2.0/26", "n3"), block("10.250.0.0/26", "n2")};
  in.pools = poolViews(
      {pool("cross", "10.244.0.0/16", "VXLANCrossSubnet"), pool("plain", "10.250.0.0/16", "None")},
      {});
  in.vxlan_v4 = true;
  auto routes = computeRoutes(in);
  const auto& n2 = routes.at(pfx("10.244.1.0/26"));
  EXPECT_EQ(n2.device, "vxlan.coral");
  EXPECT_EQ(n2.gateway, ip("10.244.1.1"));
  EXPECT_TRUE(n2.onlink);
  const auto& n3 = routes.at(pfx("10.244.2.0/26"));  // same subnet: routed
  EXPECT_EQ(n3.device, "");
  EXPECT_EQ(n3.gateway, ip("10.0.1.3"));
  EXPECT_FALSE(n3.onlink);
  EXPECT_EQ(routes.at(pfx("10.250.0.0/26")).gateway, ip("10.0.2.2"));  // None: as before
  EXPECT_EQ(routes.at(pfx("10.244.0.0/26")).kind, RouteKind::kLocalBlock);

  // Until the device is up (or the remote published its VTEP) there is no route at all:
  // the underlay cannot carry it.
  in.vxlan_v4 = false;
  EXPECT_FALSE(computeRoutes(in).contains(pfx("10.244.1.0/26")));
  in.vxlan_v4 = true;
  in.nodes[1].spec.vxlan_tunnel_mac.clear();
  EXPECT_FALSE(computeRoutes(in).contains(pfx("10.244.1.0/26")));

  // Switching the pool to None routes it via the node again; to VXLAN encapsulates both.
  in.nodes[1].spec.vxlan_tunnel_mac = "66:00:00:00:00:02";
  in.pools = poolViews({pool("cross", "10.244.0.0/16", "VXLAN")}, {});
  EXPECT_EQ(computeRoutes(in).at(pfx("10.244.2.0/26")).device, "vxlan.coral");
  in.pools = poolViews({pool("cross", "10.244.0.0/16", "None")}, {});
  EXPECT_EQ(computeRoutes(in).at(pfx("10.244.1.0/26")).gateway, ip("10.0.2.2"));
}

TEST(EncapCalcTest, RoutesThroughVxlanAlsoWhenRoutesComeFromBgp) {
  RouteInputs in;
  in.self = "n1";
  in.nodes = {node("n1", "10.0.1.2/24", "10.244.0.1", "66:00:00:00:00:01"),
              node("n2", "10.0.2.2/24", "10.244.1.1", "66:00:00:00:00:02")};
  in.blocks = {block("10.244.1.0/26", "n2")};
  in.pools = poolViews({pool("p", "10.244.0.0/16", "VXLAN")}, {});
  in.vxlan_v4 = true;
  in.routes_from_bgp = true;
  in.learned = {{pfx("10.244.1.0/26"), ip("10.0.2.2")}};
  EXPECT_EQ(computeRoutes(in).at(pfx("10.244.1.0/26")).device, "vxlan.coral");
}

TEST(EncapCalcTest, PodMtuSubtractsTheLargestOverheadUnlessConfigured) {
  EXPECT_EQ(podMtu(0, 1500, false, false), 1500u);
  EXPECT_EQ(podMtu(0, 1500, true, false), 1450u);
  EXPECT_EQ(podMtu(0, 1500, true, true), 1430u);
  EXPECT_EQ(podMtu(1400, 1500, true, true), 1400u);
  EXPECT_EQ(vxlanMtu(0, 9000, common::Family::kV4), 8950u);
  EXPECT_EQ(vxlanMtu(0, 9000, common::Family::kV6), 8930u);
}

TEST(NatOutgoingTest, RendersOneTablePerFamilyWithNatPoolsAndDeletesTheOthers) {
  NatOutgoingSpec spec;
  spec.pools = {pfx("10.244.0.0/16"), pfx("10.250.0.0/16"), pfx("fd00:244::/48")};
  spec.nat_pools = {pfx("10.244.0.0/16")};
  const std::string text = renderNatOutgoing(spec);
  EXPECT_NE(text.find("add table ip coral-nat\ndelete table ip coral-nat\n"), std::string::npos);
  EXPECT_NE(text.find("add table ip6 coral-nat\ndelete table ip6 coral-nat\n"), std::string::npos);
  EXPECT_NE(text.find("elements = { 10.244.0.0/16, 10.250.0.0/16 }"), std::string::npos) << text;
  EXPECT_NE(text.find("ip saddr @nat-pools ip daddr != @pools counter masquerade"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("table ip6 coral-nat {"), std::string::npos) << text;
  EXPECT_EQ(renderNatOutgoing({}),
            "add table ip coral-nat\ndelete table ip coral-nat\n"
            "add table ip6 coral-nat\ndelete table ip6 coral-nat\n");
}

}  // namespace
}  // namespace coral::agent
