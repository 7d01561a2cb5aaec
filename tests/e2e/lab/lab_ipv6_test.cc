// A dual-stack lab through the real coralctl: pods reach each other over IPv6 across nodes
// (routes from block affinities, next hop the node's IPv6 underlay address) and across DCs
// (the nodes' v6 blocks over MP-BGP to their ToR, the DC's v6 aggregate over the IPv6 WAN
// session), and each ToR's IPv6 table holds exactly its DC's node blocks and the other
// DC's aggregate. Also: the IPv6 ranges are checked for overlaps like the IPv4 ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

class LabIpv6Test : public LabFixture {
 protected:
  LabIpv6Test() : LabFixture("s") {}

  // The IPv6 blocks a node claimed: its blackhole routes (pods are /128s inside them).
  std::set<std::string> v6BlocksOf(const std::string& node) const {
    std::set<std::string> out;
    const std::string routes =
        shell("ip netns exec " + netns(node) + " ip -6 route show proto 77 type blackhole").output;
    for (std::string_view line : split(routes, '\n', true)) {
      auto words = split(trim(line), ' ', true);
      if (words.size() > 1) out.insert(std::string(words[1]));
    }
    return out;
  }
  // The pod routes in a router's IPv6 table: prefix -> protocol that it came from.
  std::map<std::string, std::string> podRoutesV6(const std::string& router) const {
    std::map<std::string, std::string> out;
    const std::string routes = shell(bird(router) + "show route table master6").output;
    for (std::string_view line : split(routes, '\n', true)) {
      if (!line.starts_with("fd00:244:")) continue;
      auto words = split(trim(line), ' ', true);
      const size_t bracket = line.find('[');
      const size_t end = line.find_first_of(" ]", bracket);
      out[std::string(words[0])] = std::string(line.substr(bracket + 1, end - bracket - 1));
    }
    return out;
  }
};

TEST_F(LabIpv6Test, PodsConnectOverIpv6AcrossNodesAndDcsAndTorsHoldTheirBlocks) {
  const auto t0 = std::chrono::steady_clock::now();
  auto up = lab("up");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  ASSERT_EQ(lab("pod add a --node dc1-n1").exit_code, 0);
  ASSERT_EQ(lab("pod add b --node dc1-n2").exit_code, 0);
  ASSERT_EQ(lab("pod add c --node dc2-n1").exit_code, 0);
  auto d = lab("pod add d --node dc2-n2");
  ASSERT_EQ(d.exit_code, 0) << d.output;
  EXPECT_NE(d.output.find("fd00:244:2:"), std::string::npos) << "dual-stack pod\n" << d.output;

  // Every pod reaches every other on its IPv6 address, both ways, in and across DCs.
  ExecResult matrix;
  for (int attempt = 0; attempt < 20; ++attempt) {
    matrix = lab("matrix --ipv6");
    if (matrix.exit_code == 0 && matrix.output.find("BLOCKED") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(matrix.exit_code, 0) << matrix.output;
  EXPECT_NE(matrix.output.find("IPv6"), std::string::npos) << matrix.output;
  EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;
  EXPECT_EQ(matrix.output.find("n/a"), std::string::npos) << matrix.output;
  EXPECT_NE(matrix.output.find("default/d (dc2-n2)"), std::string::npos) << matrix.output;
  auto v4 = lab("matrix");
  EXPECT_EQ(v4.output.find("BLOCKED"), std::string::npos) << v4.output;

  // Each node publishes its IPv6 underlay address; the DC's other nodes route its v6
  // blocks via that address (routes from the datastore).
  auto nodes = shell(coralctl() + " --datastore file://" + labDir() + "/store get nodes -o yaml");
  EXPECT_NE(nodes.output.find("ipv6Address: fd00:100:1::c/64"), std::string::npos) << nodes.output;
  const auto n2_blocks = v6BlocksOf("dc1-n2");
  ASSERT_EQ(n2_blocks.size(), 1u);
  const std::string n1_routes =
      shell("ip netns exec " + netns("dc1-n1") + " ip -6 route show proto 77").output;
  EXPECT_NE(n1_routes.find(*n2_blocks.begin() + " via fd00:100:1::c dev eth0"), std::string::npos)
      << n1_routes;

  // Each ToR's IPv6 table: exactly its DC's node blocks (each from its node's session),
  // its own aggregate, and the other DC's aggregate from the IPv6 WAN session — no block
  // of the other DC.
  for (const auto& [router, here, there, nodes_here] :
       {std::tuple{"dc1-r", "fd00:244:1::/56", "fd00:244:2::/56",
                   std::vector<std::string>{"dc1-n1", "dc1-n2"}},
        std::tuple{"dc2-r", "fd00:244:2::/56", "fd00:244:1::/56",
                   std::vector<std::string>{"dc2-n1", "dc2-n2"}}}) {
    std::map<std::string, std::string> expected = {{here, "dc_aggregate6"}, {there, "wan6"}};
    for (const auto& node : nodes_here) {
      std::string proto = node;
      std::replace(proto.begin(), proto.end(), '-', '_');
      for (const auto& block : v6BlocksOf(node)) expected[block] = proto;
    }
    EXPECT_EQ(expected.size(), 4u) << router;
    std::map<std::string, std::string> got;
    for (int i = 0; i < 25 && (got = podRoutesV6(router)) != expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(got, expected) << router;
  }
  auto status = lab("status");
  EXPECT_NE(status.output.find("dc1-r    wan6     Established"), std::string::npos)
      << status.output;

  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
  std::cout << "dual-stack lab: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
}

TEST_F(LabIpv6Test, Ipv6RangesAreCheckedForOverlapsLikeIpv4) {
  const std::string config = dir_.path() + "/lab.yaml";
  // Among the lab's own ranges: the v6 underlay inside the v6 pod range.
  std::ofstream(config) << "dcs:\n- {name: dc1, routerAS: 65001, nodeAS: 64601, underlay: "
                           "10.101.0.0/24, pods: 10.244.0.0/17, podsV6: fd00:244:1::/56, "
                           "underlayV6: 'fd00:244:1:ff::/64'}\n";
  auto overlap = lab("up --config " + config);
  EXPECT_NE(overlap.exit_code, 0);
  EXPECT_NE(overlap.output.find("overlap"), std::string::npos) << overlap.output;
  // With the machine's own routes: every machine has its loopback ::1.
  std::ofstream(config, std::ios::trunc)
      << "dcs:\n- {name: dc1, routerAS: 65001, nodeAS: 64601, underlay: 10.101.0.0/24, pods: "
         "10.244.0.0/17, podsV6: fd00:244:1::/56, underlayV6: '::/120'}\n";
  auto machine = lab("up --config " + config);
  EXPECT_NE(machine.exit_code, 0);
  EXPECT_NE(machine.output.find("overlaps the machine's route to ::1/128"), std::string::npos)
      << machine.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
}

}  // namespace
}  // namespace coral::testing
