// The routes a node wants, computed from blocks, nodes and local workloads.
#include "agent/routes/route_calc.h"

#include <gtest/gtest.h>

namespace coral::agent {
namespace {

common::Prefix pfx(std::string_view s) { return common::Prefix::parse(s).value(); }
common::IpAddress ip(std::string_view s) { return common::IpAddress::parse(s).value(); }

model::IPAMBlock block(std::string cidr, std::string owner,
                       std::vector<std::pair<int, std::string>> allocations = {}) {
  model::IPAMBlock b;
  b.metadata.name = cidr;
  b.spec.cidr = std::move(cidr);
  if (!owner.empty()) b.spec.affinity = "host:" + owner;
  for (auto& [ordinal, node] : allocations) {
    b.spec.allocations.push_back(
        {.ordinal = ordinal, .handle_id = "h", .attributes = {{"node", node}}});
  }
  return b;
}

model::Node node(std::string name, std::string v4, std::string v6 = "") {
  model::Node n;
  n.metadata.name = std::move(name);
  n.spec.ipv4_address = std::move(v4);
  n.spec.ipv6_address = std::move(v6);
  return n;
}

TEST(RouteCalcTest, BlackholesOwnBlocksAndRoutesOthersViaTheirNode) {
  RouteInputs in;
  in.self = "n1";
  in.nodes = {node("n1", "10.0.0.1/24"), node("n2", "10.0.0.2/24", "fd00::2/64")};
  in.blocks = {block("10.244.0.0/26", "n1"), block("10.244.0.64/26", "n2"),
               block("fd00:244::/122", "n2"), block("10.244.0.128/26", "")};
  in.workloads = {{"cor1", {ip("10.244.0.5"), ip("fd00:244::1:5")}}};
  auto routes = computeRoutes(in);
  ASSERT_EQ(routes.size(), 5u);
  EXPECT_EQ(routes.at(pfx("10.244.0.0/26")).kind, RouteKind::kLocalBlock);
  EXPECT_EQ(routes.at(pfx("10.244.0.64/26")).gateway, ip("10.0.0.2"));
  EXPECT_EQ(routes.at(pfx("fd00:244::/122")).gateway, ip("fd00::2"));
  EXPECT_EQ(routes.at(pfx("10.244.0.5/32")).device, "cor1");
  EXPECT_EQ(routes.at(pfx("fd00:244::1:5/128")).kind, RouteKind::kWorkload);
  EXPECT_FALSE(routes.contains(pfx("10.244.0.128/26")));  // unowned block: nobody to route to
}

TEST(RouteCalcTest, BorrowedAddressesGoToTheBorrower) {
  RouteInputs in;
  in.self = "n3";
  in.nodes = {node("n1", "10.0.0.1/24"), node("n2", "10.0.0.2/24"), node("n3", "10.0.0.3/24")};
  // n2 borrowed ordinal 7 of n1's block; n3 borrowed ordinal 8 (that one is local to n3).
  in.blocks = {block("10.244.0.0/26", "n1", {{1, "n1"}, {7, "n2"}, {8, "n3"}})};
  auto routes = computeRoutes(in);
  EXPECT_EQ(routes.at(pfx("10.244.0.0/26")).gateway, ip("10.0.0.1"));
  EXPECT_EQ(routes.at(pfx("10.244.0.7/32")).kind, RouteKind::kBorrowed);
  EXPECT_EQ(routes.at(pfx("10.244.0.7/32")).gateway, ip("10.0.0.2"));
  EXPECT_FALSE(routes.contains(pfx("10.244.0.8/32")));  // ours: a workload route covers it
  EXPECT_FALSE(routes.contains(pfx("10.244.0.1/32")));  // the owner's own allocation
}

TEST(RouteCalcTest, SkipsNodesWithoutAnAddressAndDeletedBlocks) {
  RouteInputs in;
  in.self = "n1";
  in.nodes = {node("n2", "")};
  auto deleted = block("10.244.1.0/26", "n1");
  deleted.spec.deleted = true;
  in.blocks = {block("10.244.0.64/26", "n2"), block("10.244.0.128/26", "ghost"), deleted};
  EXPECT_TRUE(computeRoutes(in).empty());
}

TEST(RouteCalcTest, RoutesFromBgpReplaceTheDatastoresRemoteRoutes) {
  RouteInputs in;
  in.self = "n1";
  in.nodes = {node("n1", "10.0.0.1/24"), node("n2", "10.0.0.2/24")};
  in.blocks = {block("10.244.0.0/26", "n1"), block("10.244.0.64/26", "n2", {{3, "n3"}})};
  in.workloads = {{"cor1", {ip("10.244.0.5")}}};
  in.routes_from_bgp = true;
  in.learned = {{pfx("10.244.1.0/26"), ip("10.1.0.9")},
                {pfx("10.244.0.0/26"), ip("10.0.0.7")},    // our own block: ours wins
                {pfx("10.244.0.67/32"), ip("10.0.0.3")}};  // a borrowed address
  auto routes = computeRoutes(in);
  EXPECT_EQ(routes.at(pfx("10.244.0.0/26")).kind, RouteKind::kLocalBlock);
  EXPECT_EQ(routes.at(pfx("10.244.1.0/26")).gateway, ip("10.1.0.9"));
  EXPECT_EQ(routes.at(pfx("10.244.0.67/32")).kind, RouteKind::kBorrowed);
  EXPECT_FALSE(routes.contains(pfx("10.244.0.64/26")));  // not from the datastore now
  EXPECT_EQ(routes.at(pfx("10.244.0.5/32")).kind, RouteKind::kWorkload);
}

// DC1's node routes its own subnet's blocks via their nodes; DC2's nodes are beyond the
// underlay, so their blocks (v4 and v6) are left to BGP and reported, not installed.
TEST(RouteCalcTest, DatastoreRoutesOnlyViaNodesOnAConnectedSubnet) {
  RouteInputs in;
  in.self = "dc1-n1";
  in.nodes = {node("dc1-n1", "10.101.0.11/24", "fd00:101::11/64"),
              node("dc1-n2", "10.101.0.12/24", "fd00:101::12/64"),
              node("dc2-n1", "10.102.0.11/24", "fd00:102::11/64")};
  in.blocks = {block("10.244.0.0/26", "dc1-n1"),
               block("10.244.0.64/26", "dc1-n2"),
               block("10.244.128.0/26", "dc2-n1", {{5, "dc1-n2"}}),
               block("fd00:244::/122", "dc2-n1"),
               block("fd00:244::40/122", "dc1-n2"),
               block("10.244.1.0/26", "dc1-n2", {{9, "dc2-n1"}})};
  in.connected = std::vector{pfx("10.101.0.0/24"), pfx("fd00:101::/64")};
  std::vector<OffSubnetRoute> off;
  auto routes = computeRoutes(in, &off);
  EXPECT_EQ(routes.at(pfx("10.244.0.64/26")).gateway, ip("10.101.0.12"));
  EXPECT_EQ(routes.at(pfx("fd00:244::40/122")).gateway, ip("fd00:101::12"));
  EXPECT_EQ(routes.at(pfx("10.244.128.5/32")).gateway, ip("10.101.0.12"));  // borrowed, near
  EXPECT_EQ(routes.at(pfx("10.244.0.0/26")).kind, RouteKind::kLocalBlock);
  EXPECT_FALSE(routes.contains(pfx("10.244.128.0/26")));
  EXPECT_FALSE(routes.contains(pfx("fd00:244::/122")));
  EXPECT_FALSE(routes.contains(pfx("10.244.1.9/32")));  // borrowed by a far node
  EXPECT_EQ(off, (std::vector<OffSubnetRoute>{
                     {.dst = pfx("10.244.1.9/32"), .node = "dc2-n1", .via = ip("10.102.0.11")},
                     {.dst = pfx("10.244.128.0/26"), .node = "dc2-n1", .via = ip("10.102.0.11")},
                     {.dst = pfx("fd00:244::/122"), .node = "dc2-n1", .via = ip("fd00:102::11")}}));

  // A second address on the underlay (the node joined DC2's subnet too) makes them near.
  in.connected->push_back(pfx("10.102.0.0/24"));
  routes = computeRoutes(in, &off);
  EXPECT_EQ(routes.at(pfx("10.244.128.0/26")).gateway, ip("10.102.0.11"));
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].dst, pfx("fd00:244::/122"));

  // Unknown connected subnets: every node is taken as near, as before.
  in.connected.reset();
  EXPECT_EQ(computeRoutes(in, &off).at(pfx("fd00:244::/122")).gateway, ip("fd00:102::11"));
  EXPECT_TRUE(off.empty());

  // Routes from BGP: nothing from the datastore, so nothing is reported either.
  in.connected = std::vector{pfx("10.101.0.0/24")};
  in.routes_from_bgp = true;
  EXPECT_FALSE(computeRoutes(in, &off).contains(pfx("10.244.0.64/26")));
  EXPECT_TRUE(off.empty());
}

TEST(RouteCalcTest, StaleRoutesAreOtherNodesRoutesAndNeverOverrideDesiredOnes) {
  auto route = [](std::string_view dst, RouteType type, int ifindex,
                  std::optional<common::IpAddress> gateway) {
    Route r;
    r.dst = pfx(dst);
    r.type = type;
    r.ifindex = ifindex;
    r.gateway = gateway;
    return r;
  };
  const std::vector<Route> kernel = {
      route("10.244.0.0/26", RouteType::kBlackhole, 0, std::nullopt),  // our block
      route("10.244.0.5/32", RouteType::kUnicast, 7, std::nullopt),    // our pod
      route("10.244.0.64/26", RouteType::kUnicast, 2, ip("10.0.0.2")),
      route("10.244.1.0/26", RouteType::kUnicast, 2, ip("10.0.0.3")),
      route("fd00:244:1::/122", RouteType::kUnicast, 2, ip("fd00::3")),
  };
  const auto stale = staleRoutesOf(kernel);
  ASSERT_EQ(stale.size(), 3u);
  EXPECT_FALSE(stale.contains(pfx("10.244.0.0/26")));
  EXPECT_FALSE(stale.contains(pfx("10.244.0.5/32")));

  // BGP relearned 10.244.1.0/26 via another node already: that one wins.
  DesiredRoutes desired;
  desired.emplace(pfx("10.244.1.0/26"),
                  DesiredRoute{pfx("10.244.1.0/26"), RouteKind::kRemoteBlock, "", ip("10.0.0.4")});
  EXPECT_EQ(keepStaleRoutes(desired, stale), 2u);
  EXPECT_EQ(desired.at(pfx("10.244.1.0/26")).gateway, ip("10.0.0.4"));
  EXPECT_EQ(desired.at(pfx("10.244.0.64/26")).gateway, ip("10.0.0.2"));
  EXPECT_EQ(desired.at(pfx("10.244.0.64/26")).kind, RouteKind::kRemoteBlock);
  EXPECT_EQ(desired.at(pfx("10.244.0.64/26")).device, "");  // the kernel's device is kept
  EXPECT_EQ(desired.at(pfx("fd00:244:1::/122")).gateway, ip("fd00::3"));
}

}  // namespace
}  // namespace coral::agent
