// `coralctl lab up --bgp rr` through the real binaries: per DC a coral-bgpd route reflector
// with the DC's nodes as its clients; pods reach each other, a node routes another node's
// block over the reflected path (next hop the originating node, not the reflector), and
// `lab down` leaves no namespace and no coral-bgpd behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

class LabRrTest : public LabFixture {
 protected:
  LabRrTest() : LabFixture("rr") {}

  std::string reflectorPeers(const std::string& dc) {
    return shell(coralctl() + " bgp --socket " + labDir() + "/run/" + dc + "-rr.bgpd.sock peers")
        .output;
  }
  static size_t count(const std::string& text, const std::string& word) {
    size_t n = 0;
    for (size_t pos = 0; (pos = text.find(word, pos)) != std::string::npos; pos += word.size()) ++n;
    return n;
  }
};

TEST_F(LabRrTest, NodesOfADcLearnEachOthersBlocksThroughTheirRouteReflector) {
  ASSERT_NO_FATAL_FAILURE(upWithThreePods("--bgp rr"));
  EXPECT_NE(labProcesses({"coral-bgpd"}), "");

  // dc1-n1: its ToR (eBGP) and the reflector at 10.101.0.2 (iBGP, the node AS) are up, and
  // dc1-n2's block is routed via dc1-n2 itself: the reflector keeps the next hop.
  const std::string node_status = nodeStatus("dc1-n1");
  EXPECT_TRUE(hasRow(node_status, {"10.101.0.1", "65001", "Established"})) << node_status;
  EXPECT_TRUE(hasRow(node_status, {"10.101.0.2", "64601", "Established"})) << node_status;
  const std::string block_b = blockOf(podAddress("b"));
  EXPECT_TRUE(hasRow(node_status, {block_b, "remote-block", "10.101.0.12"})) << block_b << "\n"
                                                                             << node_status;
  EXPECT_FALSE(hasRow(node_status, {block_b, "remote-block", "10.101.0.2"})) << node_status;

  // IPv6 too: dc1-n2's v6 block rides the same session, via its v6 underlay address.
  EXPECT_NE(node_status.find("fd00:100:1::c"), std::string::npos) << node_status;
  const ExecResult matrix6 = matrixUntilConnected("matrix --ipv6");
  EXPECT_EQ(matrix6.exit_code, 0) << matrix6.output;
  EXPECT_EQ(matrix6.output.find("BLOCKED"), std::string::npos) << matrix6.output;

  // The reflectors' sessions: each with the two nodes of its DC, all Established.
  const std::string dc1 = reflectorPeers("dc1");
  EXPECT_EQ(count(dc1, "Established"), 2u) << dc1;
  EXPECT_NE(dc1.find("10.101.0.11"), std::string::npos) << dc1;
  EXPECT_NE(dc1.find("10.101.0.12"), std::string::npos) << dc1;
  const std::string dc2 = reflectorPeers("dc2");
  EXPECT_EQ(count(dc2, "Established"), 2u) << dc2;
  const std::string status = lab("status").output;
  EXPECT_NE(status.find("Route reflector dc1-rr"), std::string::npos) << status;
  EXPECT_NE(status.find("10.101.0.2"), std::string::npos) << status;

  auto refused = lab("up --bgp rr --encapsulation vxlan");  // encapsulated labs run no BGP
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("rr needs encapsulation None"), std::string::npos)
      << refused.output;

  EXPECT_EQ(lab("down").exit_code, 0);
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(labProcesses({"coral-bgpd"}), "") << "no coral-bgpd survives lab down";
}

}  // namespace
}  // namespace coral::testing
