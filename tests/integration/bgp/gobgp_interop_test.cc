// coral-bgpd against GoBGP (gobgpd from Debian), each in its own network namespace joined
// by a veth: the session comes up with 4-octet ASNs on both sides, IPv4 and IPv6 routes
// go both ways, and standard and large communities survive in both directions. gobgpd
// runs from a TOML file with its gRPC API on a port inside its namespace; the test reads
// it with `gobgp -j` and coral-bgpd through its status socket. Route refresh: coral-bgpd
// (no soft reconfiguration inbound) answers an import policy change on SIGHUP with a
// ROUTE-REFRESH and GoBGP re-advertises through the new policy, session kept.
#include <gtest/gtest.h>

#include <cstdio>

#include <fmt/format.h>

#include "tests/integration/bgp/bird_harness.h"
#include "tests/integration/bgp/gobgp_harness.h"

namespace coral::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCoralAs = "4200000001";
constexpr const char* kGoBgpAs = "4200000002";

std::string gobgpConfig() {
  return fmt::format(R"(
[global.config]
  as = {gobgp_as}
  router-id = "10.98.0.2"
  port = 179
  local-address-list = ["10.98.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.98.0.1"
    peer-as = {coral_as}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
)",
                     fmt::arg("gobgp_as", kGoBgpAs), fmt::arg("coral_as", kCoralAs));
}

// `import_filters`: the neighbour's importFilters YAML value, or empty for none.
std::string coralConfig(const std::string& dir, const std::string& import_filters = "") {
  return fmt::format(R"(
routerID: 10.98.0.1
asNumber: {coral_as}
listenPort: 179
statusSocket: {dir}/bgpd.sock
prefixes:
  - cidr: 10.100.1.0/24
    communities: ["65001:10", "{coral_as}:5:6"]
  - cidr: fd00:100:1::/64
    communities: ["65001:11"]
neighbours:
  - peerIP: 10.98.0.2
    asNumber: {gobgp_as}
    holdTimeSeconds: 9
    connectRetrySeconds: 1
    nextHopSelfV6: fd98::1
)",
                     fmt::arg("coral_as", kCoralAs), fmt::arg("gobgp_as", kGoBgpAs),
                     fmt::arg("dir", dir)) +
         (import_filters.empty() ? "" : "    importFilters: " + import_filters + "\n");
}

// "Route Refresh:   <sent>   <received>" from `gobgp neighbor ADDRESS`.
std::pair<int, int> routeRefreshCounts(const std::string& neighbour) {
  const auto at = neighbour.find("Route Refresh:");
  if (at == std::string::npos) return {-1, -1};
  int sent = -1, received = -1;
  std::sscanf(neighbour.c_str() + at, "Route Refresh: %d %d", &sent, &received);
  return {sent, received};
}

// GoBGP's JSON spells a standard community as one 32-bit number.
uint32_t community(uint32_t high, uint32_t low) { return (high << 16) | low; }

TEST(GoBgpInterop, RoutesBothWaysWithFourOctetAsnsAndCommunities) {
  CORAL_REQUIRE_GOBGP();
  TestNetns coral_ns("cg"), gobgp_ns("gg");
  ASSERT_TRUE(coral_ns.ok() && gobgp_ns.ok());
  ASSERT_TRUE(linkNamespaces(coral_ns, "vc", gobgp_ns, "vg"));
  ASSERT_EQ(coral_ns.exec("ip addr add 10.98.0.1/24 dev vc && ip addr add fd98::1/64 dev vc nodad")
                .exit_code,
            0);
  ASSERT_EQ(gobgp_ns.exec("ip addr add 10.98.0.2/24 dev vg && ip addr add fd98::2/64 dev vg nodad")
                .exit_code,
            0);
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());

  GoBgpd gobgp(gobgp_ns, dir.path(), gobgpConfig());
  ASSERT_TRUE(waitUntil([&] { return gobgp.gobgp("global").exit_code == 0; }, 20s)) << gobgp.log();
  CoralBgpd coral(coral_ns, dir.path(), coralConfig(dir.path()));

  // GoBGP originates one route per family, with communities on the IPv4 one.
  ASSERT_EQ(gobgp
                .gobgp(fmt::format("global rib add 10.201.1.0/24 community 65002:7 "
                                   "large-community {}:1:2 -a ipv4",
                                   kGoBgpAs))
                .exit_code,
            0);
  ASSERT_EQ(gobgp
                .gobgp(fmt::format("global rib add fd00:201:1::/64 nexthop fd98::2 "
                                   "large-community {}:3:4 -a ipv6",
                                   kGoBgpAs))
                .exit_code,
            0);

  ASSERT_TRUE(waitUntil([&] { return coral.established() && gobgp.established("10.98.0.1"); }, 30s))
      << coral.log() << gobgp.gobgp("neighbor 10.98.0.1").output << gobgp.log();
  auto peers = coral.peers();
  EXPECT_EQ(peers[0]["peerAS"], 4200000002u);
  EXPECT_EQ(peers[0]["families"], nlohmann::json({"ipv4-unicast", "ipv6-unicast"}));
  const std::string neighbour = gobgp.gobgp("neighbor 10.98.0.1").output;
  EXPECT_NE(neighbour.find("4-octet-as"), std::string::npos) << neighbour;

  // GoBGP → coral, both families, 4-octet AS_PATH and communities kept.
  ASSERT_TRUE(waitUntil([&] { return !coral.route("10.201.1.0/24").is_null(); }, 20s))
      << coral.log();
  const auto a4 = coral.route("10.201.1.0/24")["paths"][0]["attributes"];
  EXPECT_EQ(a4["asPath"], kGoBgpAs);
  EXPECT_EQ(a4["nextHop"], "10.98.0.2");
  EXPECT_EQ(a4["communities"], nlohmann::json({"65002:7"}));
  EXPECT_EQ(a4["largeCommunities"], nlohmann::json({std::string(kGoBgpAs) + ":1:2"}));
  ASSERT_TRUE(waitUntil([&] { return !coral.route("fd00:201:1::/64").is_null(); }, 20s))
      << coral.log();
  const auto a6 = coral.route("fd00:201:1::/64")["paths"][0]["attributes"];
  EXPECT_EQ(a6["asPath"], kGoBgpAs);
  EXPECT_EQ(a6["nextHop"], "fd98::2");
  EXPECT_EQ(a6["largeCommunities"], nlohmann::json({std::string(kGoBgpAs) + ":3:4"}));

  // coral → GoBGP, both families.
  ASSERT_TRUE(waitUntil([&] { return !gobgp.route("ipv4", "10.100.1.0/24").is_null(); }, 20s))
      << gobgp.gobgp("global rib -a ipv4").output;
  const auto p4 = gobgp.route("ipv4", "10.100.1.0/24");
  const auto as_path = GoBgpd::attribute(p4, 2);
  EXPECT_EQ(as_path.dump(),
            nlohmann::json::parse(
                R"({"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[4200000001]}]})")
                .dump())
      << p4.dump();
  EXPECT_EQ(GoBgpd::attribute(p4, 3).value("nexthop", ""), "10.98.0.1") << p4.dump();
  EXPECT_EQ(GoBgpd::attribute(p4, 8)["communities"], nlohmann::json({community(65001, 10)}))
      << p4.dump();
  EXPECT_EQ(GoBgpd::attribute(p4, 32)["value"],
            nlohmann::json::parse(R"([{"ASN":4200000001,"LocalData1":5,"LocalData2":6}])"))
      << p4.dump();
  ASSERT_TRUE(waitUntil([&] { return !gobgp.route("ipv6", "fd00:100:1::/64").is_null(); }, 20s))
      << gobgp.gobgp("global rib -a ipv6").output;
  const auto p6 = gobgp.route("ipv6", "fd00:100:1::/64");
  EXPECT_NE(p6.dump().find("fd98::1"), std::string::npos) << p6.dump();
  EXPECT_EQ(GoBgpd::attribute(p6, 8)["communities"], nlohmann::json({community(65001, 11)}))
      << p6.dump();

  // A withdrawal on either side reaches the other.
  ASSERT_EQ(gobgp.gobgp("global rib del 10.201.1.0/24 -a ipv4").exit_code, 0);
  EXPECT_TRUE(waitUntil([&] { return coral.route("10.201.1.0/24").is_null(); }, 20s))
      << coral.log();
  EXPECT_TRUE(coral.established());
  EXPECT_TRUE(gobgp.established("10.98.0.1"));
}

TEST(GoBgpInterop, ImportPolicyChangeAsksGoBgpForARouteRefresh) {
  CORAL_REQUIRE_GOBGP();
  TestNetns coral_ns("cr"), gobgp_ns("gr");
  ASSERT_TRUE(coral_ns.ok() && gobgp_ns.ok());
  ASSERT_TRUE(linkNamespaces(coral_ns, "vc", gobgp_ns, "vg"));
  ASSERT_EQ(coral_ns.exec("ip addr add 10.98.0.1/24 dev vc && ip addr add fd98::1/64 dev vc nodad")
                .exit_code,
            0);
  ASSERT_EQ(gobgp_ns.exec("ip addr add 10.98.0.2/24 dev vg && ip addr add fd98::2/64 dev vg nodad")
                .exit_code,
            0);
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  GoBgpd gobgp(gobgp_ns, dir.path(), gobgpConfig());
  ASSERT_TRUE(waitUntil([&] { return gobgp.gobgp("global").exit_code == 0; }, 20s)) << gobgp.log();
  // First: 10.201.2.0/24 is rejected on import.
  const std::string reject_two =
      R"([{action: Reject, cidr: 10.201.2.0/24}, {action: Accept, cidr: 10.201.0.0/16}])";
  CoralBgpd coral(coral_ns, dir.path(), coralConfig(dir.path(), reject_two));
  for (const char* prefix : {"10.201.1.0/24", "10.201.2.0/24"}) {
    ASSERT_EQ(gobgp.gobgp(fmt::format("global rib add {} -a ipv4", prefix)).exit_code, 0);
  }
  ASSERT_TRUE(waitUntil([&] { return coral.established() && gobgp.established("10.98.0.1"); }, 30s))
      << coral.log() << gobgp.log();
  ASSERT_TRUE(waitUntil([&] { return !coral.route("10.201.1.0/24").is_null(); }, 20s))
      << coral.log();
  EXPECT_TRUE(coral.route("10.201.2.0/24").is_null());
  EXPECT_FALSE(coral.route("10.201.1.0/24")["paths"][0]["attributes"].contains("localPref"));
  const auto peers = coral.peers();
  EXPECT_EQ(peers[0]["prefixesReceived"], 2u) << peers.dump();
  EXPECT_EQ(peers[0]["prefixesAccepted"], 1u) << peers.dump();
  EXPECT_EQ(routeRefreshCounts(gobgp.gobgp("neighbor 10.98.0.1").output).second, 0);

  // New policy: both accepted, with LOCAL_PREF 300. coral-bgpd keeps no Adj-RIB-In, so
  // the rejected route can only come back from GoBGP: it must ask for a route refresh.
  coral.reload(coralConfig(dir.path(), "[{action: Accept, cidr: 10.201.0.0/16, localPref: 300}]"));
  ASSERT_TRUE(waitUntil([&] { return !coral.route("10.201.2.0/24").is_null(); }, 20s))
      << coral.log() << gobgp.gobgp("neighbor 10.98.0.1").output;
  EXPECT_TRUE(waitUntil(
      [&] {
        return coral.route("10.201.1.0/24")["paths"][0]["attributes"].value("localPref", 0) == 300;
      },
      20s))
      << coral.route("10.201.1.0/24").dump();
  EXPECT_EQ(coral.route("10.201.2.0/24")["paths"][0]["attributes"].value("localPref", 0), 300);
  EXPECT_NE(coral.log().find("asking for a route refresh"), std::string::npos) << coral.log();
  EXPECT_GE(routeRefreshCounts(gobgp.gobgp("neighbor 10.98.0.1").output).second, 1)
      << gobgp.gobgp("neighbor 10.98.0.1").output;
  EXPECT_EQ(coral.peers()[0]["prefixesAccepted"], 2u);
  // No reset on either side.
  EXPECT_TRUE(coral.established());
  EXPECT_TRUE(gobgp.established("10.98.0.1"));
  EXPECT_EQ(coral.log().find("resetting"), std::string::npos) << coral.log();
}

}  // namespace
}  // namespace coral::testing
