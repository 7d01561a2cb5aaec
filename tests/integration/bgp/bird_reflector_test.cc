// coral-bgpd as route reflector (RFC 4456) for two BIRD 2 iBGP clients, each in its own
// namespace: a client's route reaches the other client with ORIGINATOR_ID and
// CLUSTER_LIST, its next hop untouched, and is not sent back to where it came from.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/integration/bgp/bird_harness.h"

namespace coral::testing {
namespace {

using namespace std::chrono_literals;

std::string clientConfig(int n, int other) {
  return fmt::format(R"(
router id 10.99.{n}.2;
protocol device {{}}
protocol static s4 {{
  ipv4;
  route 10.20{n}.0.0/24 blackhole;
  route 10.99.{other}.0/24 via 10.99.{n}.1;
}}
protocol bgp reflector {{
  local 10.99.{n}.2 as 65000;
  neighbor 10.99.{n}.1 as 65000;
  hold time 9;
  connect retry time 1;
  error wait time 1, 3;
  ipv4 {{ import all; export where net = 10.20{n}.0.0/24; }};
}}
)",
                     fmt::arg("n", n), fmt::arg("other", other));
}

TEST(BirdReflector, ReflectsBetweenClients) {
  CORAL_REQUIRE_BIRD();
  TestNetns rr_ns("rr"), c1_ns("c1"), c2_ns("c2");
  ASSERT_TRUE(rr_ns.ok() && c1_ns.ok() && c2_ns.ok());
  ASSERT_TRUE(linkNamespaces(rr_ns, "v1", c1_ns, "w1"));
  ASSERT_TRUE(linkNamespaces(rr_ns, "v2", c2_ns, "w2"));
  ASSERT_EQ(
      rr_ns.exec("ip addr add 10.99.1.1/24 dev v1 && ip addr add 10.99.2.1/24 dev v2").exit_code,
      0);
  ASSERT_EQ(c1_ns.exec("ip addr add 10.99.1.2/24 dev w1").exit_code, 0);
  ASSERT_EQ(c2_ns.exec("ip addr add 10.99.2.2/24 dev w2").exit_code, 0);
  TempDir dir;
  Bird c1(c1_ns, dir.path(), "c1", clientConfig(1, 2));
  Bird c2(c2_ns, dir.path(), "c2", clientConfig(2, 1));
  CoralBgpd rr(rr_ns, dir.path(),
               fmt::format(R"(
routerID: 10.99.0.1
asNumber: 65000
statusSocket: {}/bgpd.sock
neighbours:
  - {{peerIP: 10.99.1.2, asNumber: 65000, routeReflectorClient: true, connectRetrySeconds: 1}}
  - {{peerIP: 10.99.2.2, asNumber: 65000, routeReflectorClient: true, connectRetrySeconds: 1}}
)",
                           dir.path()));
  ASSERT_TRUE(waitUntil([&] { return rr.established(2); }, 30s)) << rr.log();
  ASSERT_TRUE(waitUntil([&] { return c2.hasRoute("10.201.0.0/24"); }, 20s))
      << c2.birdc("show route all") << rr.log();
  const std::string at2 = c2.birdc("show route 10.201.0.0/24 all");
  EXPECT_NE(at2.find("BGP.originator_id: 10.99.1.2"), std::string::npos) << at2;
  EXPECT_NE(at2.find("BGP.cluster_list: 10.99.0.1"), std::string::npos) << at2;
  EXPECT_NE(at2.find("BGP.next_hop: 10.99.1.2"), std::string::npos) << at2;
  ASSERT_TRUE(waitUntil([&] { return c1.hasRoute("10.202.0.0/24"); }, 20s));
  // Nobody gets its own route back.
  EXPECT_FALSE(c1.hasRoute("10.201.0.0/24") &&
               c1.birdc("show route 10.201.0.0/24 protocol reflector").find("10.201.0.0/24") !=
                   std::string::npos);
  auto route = rr.route("10.201.0.0/24");
  ASSERT_FALSE(route.is_null());
  EXPECT_EQ(route["paths"][0]["from"], "10.99.1.2");
  EXPECT_EQ(route["paths"][0]["attributes"]["localPref"], 100);
}

}  // namespace
}  // namespace coral::testing
