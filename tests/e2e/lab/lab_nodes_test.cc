// Node join and leave in a running lab, through the real coralctl: a node added later gets
// routes and is reachable across nodes and DCs; a removed node's block is withdrawn from
// its ToR and from the other nodes of its DC, and nothing of it survives.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

class LabNodesTest : public LabFixture {
 protected:
  LabNodesTest() : LabFixture("n") {}

  // corald processes started for `node` of this lab (its CORAL_NODENAME in the environ).
  std::string coraldsOf(const std::string& node) const {
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream cmd(entry.path() / "cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
      if (cmdline.find("corald") == std::string::npos) continue;
      std::ifstream env(entry.path() / "environ");
      std::string environ((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
      if (environ.find("CORAL_NODENAME=" + node + '\0') != std::string::npos &&
          environ.find(dir_.path()) != std::string::npos) {
        found += pid + " ";
      }
    }
    return found;
  }
  // The node's IPv6 block (its blackhole route; the lab is dual stack).
  std::string v6BlockOf(const std::string& node) const {
    // split() returns views: the output must outlive them.
    const std::string routes =
        shell("ip netns exec " + netns(node) + " ip -6 route show proto 77 type blackhole").output;
    const auto words = split(trim(routes), ' ', true);
    return words.size() > 1 ? std::string(words[1]) : std::string("(none)");
  }
  // Waits until `command`'s output does (present) or does not contain `needle`.
  bool eventually(const std::string& command, const std::string& needle, bool present) {
    for (int i = 0; i < 50; ++i) {
      const bool found = shell(command).output.find(needle) != std::string::npos;
      if (found == present) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
};

TEST_F(LabNodesTest, NodeJoinsGetsRoutesAndLeavesWithItsBlocksWithdrawnEverywhere) {
  const auto t0 = std::chrono::steady_clock::now();
  auto up = lab("up");
  ASSERT_EQ(up.exit_code, 0) << up.output;

  auto bad = lab("node add dc1-n3 --dc dc2");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("starting with its data center's name"), std::string::npos)
      << bad.output;
  auto add = lab("node add dc1-n3 --dc dc1");
  ASSERT_EQ(add.exit_code, 0) << add.output;
  EXPECT_NE(add.output.find("Node dc1-n3 joined dc1 at 10.101.0.13"), std::string::npos)
      << add.output;
  EXPECT_NE(lab("node add dc1-n3 --dc dc1").exit_code, 0) << "a second add is refused";

  ASSERT_EQ(lab("pod add a --node dc1-n1").exit_code, 0);
  ASSERT_EQ(lab("pod add c --node dc2-n1").exit_code, 0);
  auto n = lab("pod add n --node dc1-n3");
  ASSERT_EQ(n.exit_code, 0) << n.output;
  // The new node's pod reaches and is reached from a pod on another node of its DC (routes
  // from the datastore's block affinities) and one in the other DC (its BGP to the ToR,
  // the DC aggregate over the WAN).
  auto matrix = matrixUntilConnected();
  ASSERT_EQ(matrix.exit_code, 0) << matrix.output;
  EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;
  EXPECT_NE(matrix.output.find("default/n (dc1-n3)"), std::string::npos) << matrix.output;
  auto matrix6 = matrixUntilConnected("matrix --ipv6");
  EXPECT_EQ(matrix6.exit_code, 0) << matrix6.output;
  EXPECT_EQ(matrix6.output.find("BLOCKED"), std::string::npos) << matrix6.output;

  // dc1-n3's block (the /26 of its pod's address): the ToR has it from dc1-n3's session,
  // dc1-n1 routes it via dc1-n3's underlay address.
  const std::string block = blockOf(podAddress("n"));
  auto tor = shell(bird("dc1-r") + "show route " + block).output;
  EXPECT_NE(tor.find("dc1_n3"), std::string::npos) << tor;
  const std::string n1_routes = "ip netns exec " + netns("dc1-n1") + " ip route";
  EXPECT_NE(shell(n1_routes).output.find(block + " via 10.101.0.13"), std::string::npos)
      << shell(n1_routes).output;
  const std::string block6 = v6BlockOf("dc1-n3");
  EXPECT_NE(shell(bird("dc1-r") + "show route " + block6).output.find("dc1_n3"), std::string::npos)
      << block6;
  const std::string n1_routes6 = "ip netns exec " + netns("dc1-n1") + " ip -6 route";
  EXPECT_NE(shell(n1_routes6).output.find(block6 + " via fd00:100:1::d"), std::string::npos)
      << shell(n1_routes6).output;
  auto status = lab("status");
  EXPECT_NE(status.output.find("dc1-n3   dc1   10.101.0.13   ready"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("dc1-r    dc1-n3   Established"), std::string::npos)
      << status.output;

  // Refused while a pod is on the node, naming the pod.
  auto refused = lab("node del dc1-n3");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("node dc1-n3 still has pods: default/n"), std::string::npos)
      << refused.output;
  EXPECT_NE(coraldsOf("dc1-n3"), "") << "a refused del leaves the node running";

  ASSERT_EQ(lab("pod del n").exit_code, 0);
  auto del = lab("node del dc1-n3");
  ASSERT_EQ(del.exit_code, 0) << del.output;
  // Its blocks are gone from the ToR (its BGP protocol removed, no stale graceful-restart
  // routes) and from dc1-n1's kernel (the blocks released in the datastore), both families.
  EXPECT_TRUE(eventually(bird("dc1-r") + "show route", block, false))
      << shell(bird("dc1-r") + "show route").output;
  EXPECT_TRUE(eventually(n1_routes, block, false)) << shell(n1_routes).output;
  EXPECT_TRUE(eventually(bird("dc1-r") + "show route", block6, false))
      << shell(bird("dc1-r") + "show route").output;
  EXPECT_TRUE(eventually(n1_routes6, block6, false)) << shell(n1_routes6).output;
  EXPECT_EQ(shell(bird("dc1-r") + "show protocols").output.find("dc1_n3"), std::string::npos);
  EXPECT_EQ(shell("ip netns list").output.find(netns("dc1-n3")), std::string::npos);
  EXPECT_EQ(coraldsOf("dc1-n3"), "") << "no corald of the removed node survives";
  auto after = lab("status");
  EXPECT_EQ(after.output.find("dc1-n3"), std::string::npos) << after.output;
  auto nodes = shell(coralctl() + " --datastore file://" + labDir() + "/store get nodes");
  EXPECT_EQ(nodes.exit_code, 0) << nodes.output;
  EXPECT_EQ(nodes.output.find("dc1-n3"), std::string::npos) << nodes.output;
  EXPECT_NE(nodes.output.find("dc1-n1"), std::string::npos) << nodes.output;
  // The rest of the lab still connects.
  matrix = matrixUntilConnected();
  EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;

  // --force deletes the pods first; the node's netns, corald and block go as above.
  ASSERT_EQ(lab("node add dc2-n3 --dc dc2").exit_code, 0);
  ASSERT_EQ(lab("pod add m --node dc2-n3").exit_code, 0);
  const std::string m_block = blockOf(podAddress("m"));
  EXPECT_TRUE(eventually(bird("dc2-r") + "show route", m_block, true));
  auto forced = lab("node del dc2-n3 --force");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(shell("ip netns list").output.find(netns("p-default-m")), std::string::npos);
  EXPECT_EQ(shell("ip netns list").output.find(netns("dc2-n3")), std::string::npos);
  EXPECT_EQ(coraldsOf("dc2-n3"), "");
  EXPECT_TRUE(eventually(bird("dc2-r") + "show route", m_block, false))
      << shell(bird("dc2-r") + "show route").output;

  // A node added and never deleted goes with lab down.
  ASSERT_EQ(lab("node add dc2-n4 --dc dc2").exit_code, 0);
  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(coraldsOf("dc2-n4"), "");
  EXPECT_FALSE(std::filesystem::exists(labDir()));
  std::cout << "node join and leave: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
}

}  // namespace
}  // namespace coral::testing
