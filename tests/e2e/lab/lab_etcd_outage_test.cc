// The lab's etcd away for 60 s (issue 7): established pods keep talking across DCs with no
// loss, the routers keep their sessions and routes, a new pod's CNI ADD fails within a
// bounded time with an error that names the datastore and leaves nothing behind, and
// once etcd is back a new pod gets an address, reaches the others, and a policy applied
// after the outage reaches every node; a corald restarted during the outage waits for the
// datastore and serves again once it is back. Both kinds of outage in one window: first
// frozen (SIGSTOP: requests hang until their deadline), then killed (connections refused).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class LabEtcdOutageTest : public LabFixture {
 protected:
  LabEtcdOutageTest() : LabFixture("o") {}

  std::string url() const { return "etcd+unix://" + labDir() + "/etcd/etcd.sock:2379"; }
  // The host ends of the node's workloads (cor + 11 hex chars).
  std::string workloadLinks(const std::string& node) {
    return shell("ip -n " + netns(node) + " -o link show | grep -o 'cor[0-9a-f]\\{11\\}' | sort")
        .output;
  }
  // BGP protocols that are up on a router, and the pod routes it holds.
  std::string routerView(const std::string& router) {
    return shell("birdc -s " + birdSocket(router) +
                 " show protocols | awk '$2 == \"BGP\" {print $1, $4, $6}' | sort; birdc -s " +
                 birdSocket(router) + " show route | grep -o '^10\\.[0-9./]*' | sort")
        .output;
  }
  std::string routeTable(const std::string& node) {
    return shell("ip -n " + netns(node) + " route show | sort").output;
  }
  std::string matrixUntil(bool want_blocked, const std::string& needle = "") {
    ExecResult matrix;
    for (int attempt = 0; attempt < 30; ++attempt) {
      matrix = lab("matrix");
      const bool blocked = matrix.output.find("BLOCKED") != std::string::npos;
      if (blocked == want_blocked &&
          (needle.empty() || matrix.output.find(needle) != std::string::npos)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return matrix.output;
  }

  // `lab pod add NAME` while the datastore is away: it must fail soon, with coral-cni's
  // error naming the datastore, and leave no namespace, link or address behind.
  void expectAddFailsCleanly(const std::string& pod, const std::string& node,
                             const std::string& reason) {
    SCOPED_TRACE("pod add " + pod + " while etcd is " + reason);
    const std::string links_before = workloadLinks(node);
    const auto t = Clock::now();
    auto add = lab("pod add " + pod + " --node " + node);
    const double took = secondsSince(t);
    std::cout << "pod add during the outage (" << reason << ") failed after " << took
              << " s: " << add.output << "\n";
    EXPECT_NE(add.exit_code, 0) << add.output;
    EXPECT_LT(took, 15.0) << "a failing ADD must not hang: " << add.output;
    // The CNI error JSON: code 11 (try again later), msg naming the pod and the datastore.
    EXPECT_NE(add.output.find("\"code\":11"), std::string::npos) << add.output;
    EXPECT_NE(add.output.find("IPAM for pod default/" + pod + ": datastore unavailable: etcd"),
              std::string::npos)
        << add.output;
    EXPECT_NE(add.output.find("etcd.sock"), std::string::npos) << add.output;
    EXPECT_EQ(shell("ip netns list | grep -w " + netns("p-default-" + pod)).output, "");
    EXPECT_EQ(workloadLinks(node), links_before) << "a veth was left behind";
    EXPECT_EQ(shell("grep -c '\"name\": \"" + pod + "\"' " + labDir() + "/state.json").output,
              "0\n");
  }
};

TEST_F(LabEtcdOutageTest, PodsKeepTalkingAddFailsClearlyAndEverythingResumes) {
  const auto t0 = Clock::now();
  auto up = lab("up --datastore etcd");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  ASSERT_EQ(lab("pod add a --node dc1-n1").exit_code, 0);
  ASSERT_EQ(lab("pod add b --node dc1-n2").exit_code, 0);
  auto c = lab("pod add c --node dc2-n1");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const std::string before = matrixUntil(false);
  ASSERT_EQ(before.find("BLOCKED"), std::string::npos) << before;
  std::cout << "lab up and 3 pods: " << secondsSince(t0) << " s\n";

  auto in_use = [&] { return shell(coralctl() + " --datastore " + url() + " ipam show").output; };
  const std::string ipam_before = in_use();
  auto withoutDc2n2 = [](const std::string& view) {
    std::string out;
    for (std::string_view line : split(view, '\n', true)) {
      if (!line.starts_with("dc2_n2 ")) out += std::string(line) + "\n";
    }
    return out;
  };
  const std::string routers_before = withoutDc2n2(routerView("dc1-r") + routerView("dc2-r"));
  const std::string routes_before =
      routeTable("dc1-n1") + routeTable("dc1-n2") + routeTable("dc2-n1") + routeTable("dc2-n2");
  // The node's policy table without its counters (the pings move them).
  auto policy = [&](const std::string& node) {
    return shell("ip netns exec " + netns(node) +
                 " nft list table inet coral | sed 's/counter packets [0-9]* bytes [0-9]*//'")
        .output;
  };
  const std::string nft_before = policy("dc1-n1") + policy("dc2-n1");
  ASSERT_NE(routers_before.find("Established"), std::string::npos) << routers_before;

  // Traffic through the whole outage: across DCs (c -> a, BGP) and within a DC (b -> a,
  // routes from the datastore's block affinities). 5 pings a second for 75 s.
  const std::string a_ip = podAddress("a");
  ASSERT_FALSE(a_ip.empty());
  auto ping = [&](const std::string& from, const std::string& log) {
    return std::string(trim(shell("ip netns exec " + netns("p-default-" + from) +
                                  " ping -i 0.2 -c 375 " + a_ip + " > " + log + " 2>&1 & echo $!")
                                .output));
  };
  const std::string cross_log = dir_.path() + "/ping-c-a.log";
  const std::string local_log = dir_.path() + "/ping-b-a.log";
  const std::string cross_pid = ping("c", cross_log);
  const std::string local_pid = ping("b", local_log);
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // The outage: 60 s, frozen first (at least 30 s: an ADD and a corald restart fit in
  // about 42), then killed until the end.
  const auto outage = Clock::now();
  auto stop = lab("datastore stop");
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_NE(stop.output.find("frozen (SIGSTOP)"), std::string::npos) << stop.output;
  auto status = lab("status");
  EXPECT_NE(status.output.find("etcd: FROZEN (SIGSTOP)"), std::string::npos) << status.output;
  expectAddFailsCleanly("x", "dc1-n1", "frozen");
  // corald restarted while the datastore is away (dc2-n2, no pods yet): it cannot
  // register its Node, so it waits for the datastore instead of exiting (the lab has
  // nothing that would start it again), and comes back by itself after the outage.
  auto restart = lab("node restart dc2-n2");
  std::cout << "node restart during the outage: " << restart.output;
  EXPECT_NE(restart.exit_code, 0) << "corald cannot be ready without its datastore";
  std::this_thread::sleep_for(std::chrono::seconds(30) - (Clock::now() - outage));
  auto kill = lab("datastore stop --kill");
  ASSERT_EQ(kill.exit_code, 0) << kill.output;
  EXPECT_NE(kill.output.find("stopped (SIGTERM)"), std::string::npos) << kill.output;
  expectAddFailsCleanly("y", "dc1-n2", "killed");
  EXPECT_NE(shell("cat " + labDir() + "/logs/dc2-n2.corald.log")
                .output.find("datastore unavailable; corald waits for it"),
            std::string::npos);
  // Meanwhile nothing is flushed: BGP sessions, routes on routers and nodes, policy
  // (but for the session to the restarted dc2-n2).
  while (Clock::now() - outage < std::chrono::seconds(58)) {
    EXPECT_EQ(withoutDc2n2(routerView("dc1-r") + routerView("dc2-r")), routers_before);
    std::this_thread::sleep_for(std::chrono::seconds(5));
  }
  EXPECT_EQ(
      routeTable("dc1-n1") + routeTable("dc1-n2") + routeTable("dc2-n1") + routeTable("dc2-n2"),
      routes_before);
  EXPECT_EQ(policy("dc1-n1") + policy("dc2-n1"), nft_before);
  std::this_thread::sleep_for(std::chrono::seconds(60) - (Clock::now() - outage));

  const auto back = Clock::now();
  auto start = lab("datastore start");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_NE(start.output.find("started again"), std::string::npos) << start.output;
  std::cout << "outage " << std::chrono::duration<double>(back - outage).count()
            << " s; datastore start: " << start.output;
  // The failed ADDs allocated nothing.
  EXPECT_EQ(in_use(), ipam_before);

  // A pod added after the outage gets an address and everyone reaches it: the other
  // nodes' watches resumed (dc2-n1 routes to dc2-n2's new block from the datastore).
  // dc2-n2's corald registers at its next try (backoff up to 10 s), then serves.
  ExecResult z;
  for (const auto until = Clock::now() + std::chrono::seconds(40); Clock::now() < until;) {
    z = lab("pod add z --node dc2-n2");
    if (z.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_EQ(z.exit_code, 0) << z.output;
  std::cout << "first pod add after the outage succeeded " << secondsSince(back)
            << " s after `datastore start`: " << z.output;
  const std::string after = matrixUntil(false, "default/z (dc2-n2)");
  EXPECT_EQ(after.find("BLOCKED"), std::string::npos) << after;
  EXPECT_NE(after.find("default/z (dc2-n2)"), std::string::npos) << after;
  std::cout << "everyone reaches the new pod " << secondsSince(back) << " s after start\n";

  // A policy made after the outage reaches the other nodes: only app=web may reach db.
  ASSERT_EQ(lab("pod add db --node dc2-n1 -n shop --labels app=db").exit_code, 0);
  const char* source_dir = std::getenv("CORAL_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "CORAL_SOURCE_DIR is not set: run this test through ctest";
  auto applied =
      shell(coralctl() + " --datastore " + url() + " apply -f " +
            (std::filesystem::path(source_dir) / "examples" / "lab" / "policy.yaml").string());
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  const std::string with_policy = matrixUntil(true);
  // Rows a, b, c, z (default) then shop/db: nobody but app=web reaches db.
  for (const char* row : {"default/a (dc1-n1)", "default/b (dc1-n2)", "default/c (dc2-n1)"}) {
    const auto line = with_policy.find(row);
    ASSERT_NE(line, std::string::npos) << with_policy;
    const std::string text = with_policy.substr(line, with_policy.find('\n', line) - line);
    EXPECT_TRUE(text.ends_with("BLOCKED")) << text << "\n" << with_policy;
  }

  // Zero loss through the whole outage.
  shell("while kill -0 " + cross_pid + " 2>/dev/null || kill -0 " + local_pid +
        " 2>/dev/null; do sleep 0.2; done");
  for (const auto& log : {cross_log, local_log}) {
    const std::string out = shell("cat " + log).output;
    EXPECT_NE(out.find("375 packets transmitted, 375 received, 0% packet loss"), std::string::npos)
        << log << ":\n"
        << out;
  }

  auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(shell("ip netns list | grep -c " + netns("")).output, "0\n");
  EXPECT_FALSE(std::filesystem::exists(labDir()));
  std::cout << "whole test: " << secondsSince(t0) << " s\n";
}

TEST_F(LabEtcdOutageTest, DatastoreControlNeedsAnEtcdLab) {
  auto up = lab("up");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  auto stop = lab("datastore stop");
  EXPECT_NE(stop.exit_code, 0);
  EXPECT_NE(stop.output.find("uses the file datastore"), std::string::npos) << stop.output;
  EXPECT_NE(stop.output.find("--datastore etcd"), std::string::npos) << stop.output;
}

}  // namespace
}  // namespace coral::testing
