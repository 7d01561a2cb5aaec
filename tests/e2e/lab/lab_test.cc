// The lab end to end, through the real coralctl: build it, attach pods through coral-cni,
// check connectivity, and tear it down — also after a failed `lab up` — leaving nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

class LabTest : public LabFixture {
 protected:
  LabTest() : LabFixture("t") {}
};

TEST_F(LabTest, UpPodsConnectivityAndDown) {
  auto up = lab("up");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_NE(up.output.find("is up: 2 routers, 4 nodes"), std::string::npos) << up.output;
  ASSERT_EQ(lab("pod add a --node dc1-n1 -n shop --labels app=web").exit_code, 0);
  ASSERT_EQ(lab("pod add b --node dc1-n2 -n shop").exit_code, 0);
  auto c = lab("pod add c --node dc2-n1");
  ASSERT_EQ(c.exit_code, 0) << c.output;

  // Every pod reaches every other: across nodes in a DC (routes from block affinities) and
  // across DCs (corald's BGP to its ToR, the ToRs' eBGP over the WAN).
  const ExecResult matrix = matrixUntilConnected();
  ASSERT_EQ(matrix.exit_code, 0) << matrix.output;
  EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;
  EXPECT_NE(matrix.output.find("default/c (dc2-n1)"), std::string::npos) << matrix.output;
  // corald killed under traffic: established flows lose nothing, and the ToR keeps the
  // node's block through BGP graceful restart while the session is down.
  {
    const std::string bird = birdSocket("dc1-r");
    const std::string a_ip = podAddress("a", "shop");
    const std::string ping_log = dir_.path() + "/ping.log";
    auto ping = shell("ip netns exec " + netns("p-default-c") + " ping -i 0.05 -c 120 " + a_ip +
                      " > " + ping_log + " 2>&1 & echo $!");
    // The restart runs in the background while the ToR is watched.
    const std::string restart_log = dir_.path() + "/restart.log";
    auto restart = shell(coralctl() + " lab --name " + name_ + " node restart dc1-n1 --kill > " +
                         restart_log + " 2>&1 & echo $!");
    bool saw_down = false, route_always_there = true;
    for (int i = 0; i < 150; ++i) {
      const auto protocols = shell("birdc -s " + bird + " show protocols dc1_n1").output;
      const bool established = protocols.find("Established") != std::string::npos;
      saw_down = saw_down || !established;
      const auto route = shell("birdc -s " + bird + " show route 10.244.0.0/26").output;
      route_always_there = route_always_there && route.find("10.244.0.0/26") != std::string::npos;
      if (saw_down && established) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    shell("while kill -0 " + std::string(trim(restart.output)) +
          " 2>/dev/null; do sleep 0.1; done");
    EXPECT_NE(shell("cat " + restart_log).output.find("ready again"), std::string::npos)
        << shell("cat " + restart_log).output;
    shell("while kill -0 " + std::string(trim(ping.output)) + " 2>/dev/null; do sleep 0.1; done");
    const std::string ping_out = shell("cat " + ping_log).output;
    EXPECT_NE(ping_out.find("120 packets transmitted, 120 received"), std::string::npos)
        << ping_out;
    EXPECT_TRUE(saw_down) << "the ToR's session to dc1-n1 should have gone down";
    EXPECT_TRUE(route_always_there) << "the ToR withdrew dc1-n1's block during the restart";
  }

  // Policy across nodes and DCs: only app=web may reach app=db in shop.
  ASSERT_EQ(lab("pod add db --node dc1-n2 -n shop --labels app=db").exit_code, 0);
  const char* source_dir = std::getenv("CORAL_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "CORAL_SOURCE_DIR is not set: run this test through ctest";
  auto applied =
      shell(coralctl() + " --datastore file://" + labDir() + "/store apply -f " +
            (std::filesystem::path(source_dir) / "examples" / "lab" / "policy.yaml").string());
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  ExecResult with_policy;
  for (int attempt = 0; attempt < 20; ++attempt) {
    with_policy = lab("matrix");
    if (with_policy.output.find("BLOCKED") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Rows: a (web), b, c, db; columns the same. a -> db allowed; b and c -> db blocked.
  EXPECT_NE(with_policy.output.find("shop/a (dc1-n1)      -        ok       ok          ok"),
            std::string::npos)
      << with_policy.output;
  EXPECT_NE(with_policy.output.find("shop/b (dc1-n2)      ok       -        ok          BLOCKED"),
            std::string::npos)
      << with_policy.output;
  EXPECT_NE(with_policy.output.find("default/c (dc2-n1)   ok       ok       -           BLOCKED"),
            std::string::npos)
      << with_policy.output;

  auto exec = lab("exec a -n shop -- ip -o addr show dev eth0");
  EXPECT_EQ(exec.exit_code, 0);
  EXPECT_NE(exec.output.find("10.244."), std::string::npos) << exec.output;

  auto status = lab("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.output.find("wan      Established"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("dc1-r    dc1-n1   Established"), std::string::npos)
      << status.output;
  // dc1's router holds exactly dc1's node blocks from the nodes, and dc2's pods as one
  // aggregate from the other DC.
  EXPECT_NE(status.output.find("10.244.0.0/26        unicast [dc1_n1"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("10.244.0.64/26       unicast [dc1_n2"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("10.244.128.0/17      unicast [wan"), std::string::npos)
      << status.output;
  EXPECT_EQ(status.output.find("10.244.128.0/26      unicast [wan"), std::string::npos)
      << "dc2's blocks stay aggregated\n"
      << status.output;
  EXPECT_NE(status.output.find("dc1-n1   dc1   10.101.0.11   ready"), std::string::npos)
      << status.output;

  const std::string svg = dir_.path() + "/lab.svg";
  EXPECT_EQ(lab("graph -o " + svg).exit_code, 0);
  EXPECT_GT(std::filesystem::file_size(svg), 1000u);

  EXPECT_EQ(lab("pod del b -n shop").exit_code, 0);
  EXPECT_EQ(lab("pod del db -n shop").exit_code, 0);
  EXPECT_NE(lab("pod del b -n shop").exit_code, 0);
  EXPECT_NE(lab("up").exit_code, 0) << "a second up of the same lab is refused";

  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_FALSE(std::filesystem::exists(labDir()));
  EXPECT_EQ(labProcesses(), "") << "no lab process survives";
}

TEST_F(LabTest, VxlanLabConnectsPodsAcrossNodesAndDcsWithoutPodRoutesOnTheRouters) {
  ASSERT_NO_FATAL_FAILURE(upWithThreePods("--encapsulation vxlan"));
  // The routers know the nodes' subnets and nothing of pods; the nodes tunnel.
  for (const char* router : {"dc1-r", "dc2-r"}) {
    auto routes = shell("ip netns exec " + netns(router) + " ip route").output;
    EXPECT_EQ(routes.find("10.244."), std::string::npos) << router << "\n" << routes;
  }
  auto node = shell("ip netns exec " + netns("dc1-n1") + " ip route show proto 77").output;
  EXPECT_NE(node.find("dev vxlan.coral onlink"), std::string::npos) << node;
  EXPECT_EQ(lab("down").exit_code, 0);
  EXPECT_EQ(leftoverNamespaces(), 0u);
}

TEST_F(LabTest, EtcdDatastoreLabConnectsPodsAcrossDcsAndDownStopsEtcd) {
  const auto t0 = std::chrono::steady_clock::now();
  auto up = lab("up --datastore etcd");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::cout << "lab up --datastore etcd: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  EXPECT_NE(up.output.find("etcd in namespace " + netns("etcd")), std::string::npos) << up.output;
  // The lab's own etcd, by the pid its state records, in the lab's namespace.
  const std::string lab_dir = labDir();
  const std::string state = shell("cat " + lab_dir + "/state.json").output;
  const std::string url = "etcd+unix://" + lab_dir + "/etcd/etcd.sock:2379";
  EXPECT_NE(state.find("\"datastore\": \"" + url + "\""), std::string::npos) << state;
  const std::string etcd_pid(trim(
      shell("sed -n 's/.*\"etcdPid\": \\([0-9]*\\).*/\\1/p' " + lab_dir + "/state.json").output));
  ASSERT_FALSE(etcd_pid.empty()) << state;
  EXPECT_NE(shell("ip netns pids " + netns("etcd")).output.find(etcd_pid), std::string::npos);

  ASSERT_EQ(lab("pod add a --node dc1-n1").exit_code, 0);
  auto b = lab("pod add b --node dc2-n1");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const ExecResult matrix = matrixUntilConnected();
  ASSERT_EQ(matrix.exit_code, 0) << matrix.output;
  EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;
  EXPECT_NE(matrix.output.find("default/b (dc2-n1)"), std::string::npos) << matrix.output;

  // coralctl reaches the same etcd through the socket: corald registered each pod's endpoint.
  auto endpoints = shell(coralctl() + " --datastore " + url + " get workloadendpoints -A -o yaml");
  EXPECT_EQ(endpoints.exit_code, 0) << endpoints.output;
  EXPECT_NE(endpoints.output.find("dc2-n1"), std::string::npos) << endpoints.output;
  auto status = lab("status");
  EXPECT_NE(status.output.find("Datastore: etcd (" + url + "), " + netns("etcd") +
                               ": running, pid " + etcd_pid),
            std::string::npos)
      << status.output;

  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_NE(shell("kill -0 " + etcd_pid).exit_code, 0) << "etcd survived lab down";
  EXPECT_EQ(labProcesses(), "") << "no lab process survives";
  EXPECT_FALSE(std::filesystem::exists(lab_dir));
}

TEST_F(LabTest, DownWithoutTheStateFileStillStopsEtcdAndEveryNamespace) {
  // coralctl crashed and the state file is lost: `lab down` finds the namespaces by name
  // and stops every process in them, etcd's too.
  ASSERT_EQ(lab("up --datastore etcd").exit_code, 0);
  ASSERT_EQ(lab("pod add a --node dc2-n2").exit_code, 0);
  ASSERT_NE(labProcesses(), "");
  std::filesystem::remove(labDir() + "/state.json");
  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_NE(down.output.find("removed: 8 namespaces"), std::string::npos) << down.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(labProcesses(), "") << "no lab process survives";
}

TEST_F(LabTest, BgpMeshPeersTheNodesOfADcOverIbgpBesidesTheirTor) {
  ASSERT_NO_FATAL_FAILURE(upWithThreePods("--bgp mesh"));
  // dc1-n1 peers with its ToR (eBGP) and with dc1-n2 (iBGP, the DC's node AS), and routes
  // dc1-n2's block over the path it learned from it.
  const std::string node_status = nodeStatus("dc1-n1");
  EXPECT_TRUE(hasRow(node_status, {"10.101.0.1", "65001", "Established"})) << node_status;
  EXPECT_TRUE(hasRow(node_status, {"10.101.0.12", "64601", "Established"})) << node_status;
  EXPECT_TRUE(hasRow(node_status, {"10.244.0.64/26", "remote-block", "10.101.0.12"}))
      << node_status;
  // IPv6 too: dc1-n2's v6 block over the same iBGP session, via its v6 underlay address.
  EXPECT_NE(node_status.find("fd00:244:1:"), std::string::npos) << node_status;
  const ExecResult matrix6 = matrixUntilConnected("matrix --ipv6");
  EXPECT_EQ(matrix6.exit_code, 0) << matrix6.output;
  EXPECT_EQ(matrix6.output.find("BLOCKED"), std::string::npos) << matrix6.output;
  auto refused = lab("up --bgp mesh --encapsulation vxlan");  // encapsulated labs run no BGP
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("mesh needs encapsulation None"), std::string::npos)
      << refused.output;
  EXPECT_EQ(lab("down").exit_code, 0);
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(labProcesses(), "");
}

TEST_F(LabTest, DownAfterAFailedUpLeavesNothing) {
  // Occupy a namespace the lab will want: `lab up` fails half way.
  ASSERT_EQ(shell("ip netns add " + netns("dc1-n2")).exit_code, 0);
  auto up = lab("up");
  EXPECT_NE(up.exit_code, 0);
  EXPECT_NE(up.output.find("coralctl lab down"), std::string::npos) << up.output;
  EXPECT_GT(leftoverNamespaces(), 1u);
  EXPECT_EQ(lab("down").exit_code, 0);
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(lab("down").output.find("nothing to remove") != std::string::npos, true);
}

TEST_F(LabTest, RefusesRangesThatOverlapTheMachine) {
  // The machine routes its own addresses; a lab pool over the loopback range is refused.
  const std::string config = dir_.path() + "/lab.yaml";
  std::ofstream(config) << "dcs:\n- {name: dc1, routerAS: 65001, nodeAS: 64601, underlay: "
                           "10.101.0.0/24, pods: 127.0.0.0/16}\n";
  auto up = lab("up --config " + config);
  EXPECT_NE(up.exit_code, 0);
  EXPECT_NE(up.output.find("overlaps the machine's route"), std::string::npos) << up.output;
  EXPECT_EQ(leftoverNamespaces(), 0u);
}

}  // namespace
}  // namespace coral::testing
