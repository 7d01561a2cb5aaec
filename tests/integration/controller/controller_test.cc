// coral-controller: leader election handover between candidates (release on stop, and
// takeover after the lease duration when the leader dies silently), on the fake API
// server's Lease and on a file-datastore key; node cleanup of a Kubernetes Node that was
// deleted (its blocks, its BGPPeer and its Coral Node), then GC of its pod's address.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "controller/leader_election.h"
#include "controller/node_cleanup.h"
#include "datastore/kubernetes/kube_client.h"
#include "datastore/kubernetes/kube_config.h"
#include "datastore/kubernetes/kubernetes_backend.h"
#include "model/registry.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_kube_api_server.h"

namespace coral::controller {
namespace {

using namespace std::chrono_literals;
using coral::testing::FakeKubeApiServer;
using datastore::kubernetes::KubeClient;
using model::Json;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

ElectionOptions fastElection(std::string identity, std::atomic<int>* started) {
  ElectionOptions o;
  o.identity = std::move(identity);
  o.lease_duration = 2s;
  o.renew_deadline = 1500ms;
  o.retry_period = 200ms;
  o.on_started_leading = [started](const std::atomic<bool>& stop) {
    started->fetch_add(1);
    while (!stop) std::this_thread::sleep_for(10ms);
  };
  return o;
}

// Two (then three) candidates; exactly one leads at a time.
void handover(LeaderLock& lock_a, LeaderLock& lock_b, LeaderLock& lock_c) {
  std::atomic<int> started_a{0}, started_b{0}, started_c{0};
  LeaderElector a(lock_a, fastElection("controller-a", &started_a));
  LeaderElector b(lock_b, fastElection("controller-b", &started_b));
  a.start();
  ASSERT_TRUE(eventually([&] { return a.isLeader(); }, 3s));
  b.start();
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(a.isLeader());
  EXPECT_FALSE(b.isLeader()) << "two leaders";
  EXPECT_EQ(started_b.load(), 0);

  // A graceful stop releases the lock: b takes over within a few retry periods.
  const auto released = std::chrono::steady_clock::now();
  a.stop(/*release=*/true);
  ASSERT_TRUE(eventually([&] { return b.isLeader(); }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - released, 1500ms);
  // on_started_leading runs on its own thread, just after isLeader() turns true.
  EXPECT_TRUE(eventually([&] { return started_b.load() == 1; }, 1s));
  auto record = lock_a.read();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->holder, "controller-b");

  // b dies without releasing: c must wait for the lease to expire (2 s), then lead.
  b.stop(/*release=*/false);
  LeaderElector c(lock_c, fastElection("controller-c", &started_c));
  const auto crashed = std::chrono::steady_clock::now();
  c.start();
  ASSERT_TRUE(eventually([&] { return c.isLeader(); }, 6s));
  EXPECT_GE(std::chrono::steady_clock::now() - crashed, 1900ms) << "took a live lease";
  record = lock_a.read();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->holder, "controller-c");
  EXPECT_EQ((*record)->transitions, 2);
  c.stop(true);
}

TEST(ControllerLeaderElection, HandoverOnACoordinationLease) {
  auto fake = FakeKubeApiServer::start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto config = datastore::kubernetes::loadKubeconfig((*fake)->writeKubeconfig());
  ASSERT_TRUE(config.ok()) << config.status();
  auto ca = KubeClient::create(*config);
  auto cb = KubeClient::create(*config);
  auto cc = KubeClient::create(*config);
  ASSERT_TRUE(ca.ok() && cb.ok() && cc.ok());
  auto la = kubernetesLeaseLock(**ca, "coral-system", "coral-controller");
  auto lb = kubernetesLeaseLock(**cb, "coral-system", "coral-controller");
  auto lc = kubernetesLeaseLock(**cc, "coral-system", "coral-controller");
  handover(*la, *lb, *lc);
  // It is a real Lease object.
  auto lease = (*ca)->request("GET",
                              "/apis/coordination.k8s.io/v1/namespaces/coral-system/leases/"
                              "coral-controller",
                              {"get", "coordination.k8s.io", "leases", "coral-system", ""});
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->status, 200);
  EXPECT_EQ(Json::parse(lease->body)["spec"]["leaseTransitions"], 2);
}

TEST(ControllerLeaderElection, HandoverOnAFileDatastoreKey) {
  coral::testing::TempDir dir;
  auto a = datastore::openBackend("file://" + dir.path());
  auto b = datastore::openBackend("file://" + dir.path());
  auto c = datastore::openBackend("file://" + dir.path());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto la = datastoreLeaderLock(**a, "/coral/leader/coral-controller");
  auto lb = datastoreLeaderLock(**b, "/coral/leader/coral-controller");
  auto lc = datastoreLeaderLock(**c, "/coral/leader/coral-controller");
  handover(*la, *lb, *lc);
}

TEST(ControllerNodeCleanup, ADeletedKubernetesNodeLosesBlocksPeersAndCoralNode) {
  auto fake = FakeKubeApiServer::start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto backend = datastore::openKubernetesBackend("kubernetes://" + (*fake)->writeKubeconfig());
  ASSERT_TRUE(backend.ok()) << backend.status();
  datastore::ResourceStore store(**backend);
  for (const char* name : {"node-1", "node-2"}) {
    ASSERT_TRUE(
        (*fake)
            ->create("/api/v1/nodes",
                     Json{{"metadata", {{"name", name}}},
                          {"status",
                           {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}})
            .ok());
    model::Node node;
    node.metadata.name = name;
    node.spec.ipv4_address = name == std::string("node-1") ? "10.0.0.1/24" : "10.0.0.2/24";
    ASSERT_TRUE(store.create(node).ok());
  }
  model::IPPool pool;
  pool.metadata.name = "default";
  pool.spec.cidr = "10.244.0.0/16";
  ASSERT_TRUE(store.create(pool).ok());
  model::BGPPeer peer;
  peer.metadata.name = "tor-node-2";
  peer.spec.node = "node-2";
  peer.spec.peer_ip = "10.0.0.254";
  peer.spec.as_number = 65000;
  ASSERT_TRUE(store.create(peer).ok());
  ipam::Ipam ipam(store);
  ipam::AssignRequest req;
  req.handle_id = "k8s-pod-network.abc.eth0";
  req.node = "node-2";
  req.attributes = {{ipam::kAttrNamespace, "shop"}, {ipam::kAttrPod, "web-1"}};
  auto assigned = ipam.autoAssign(req);
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  req.handle_id = "k8s-pod-network.def.eth0";
  req.node = "node-1";
  req.attributes = {{ipam::kAttrNamespace, "shop"}, {ipam::kAttrPod, "web-2"}};
  ASSERT_TRUE(ipam.autoAssign(req).ok());
  ASSERT_TRUE((*fake)
                  ->create("/api/v1/pods", Json::parse(R"({"metadata": {"name": "web-2",
                      "namespace": "shop"}, "spec": {"nodeName": "node-1", "containers": []}})"))
                  .ok());
  ASSERT_EQ(ipam.nodeBlocks("node-2")->size(), 1u);

  common::FakeClock clock;
  ControllerOptions options;
  options.kubernetes_nodes = true;
  options.node_grace = 30s;
  options.gc.leak_grace = 0s;
  options.gc.block_grace = 0s;
  Controller controller(store, clock, options);
  auto round = controller.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_TRUE(round->removed_nodes.empty());

  // The node leaves the cluster; after the node grace period the controller cleans up.
  ASSERT_TRUE((*fake)->remove("/api/v1/nodes", "", "node-2").ok());
  round = controller.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_TRUE(round->removed_nodes.empty()) << "inside the grace period";
  clock.advance(31s);
  round = controller.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->removed_nodes, std::vector<std::string>{"node-2"});
  EXPECT_EQ(round->removed_peers, std::vector<std::string>{"tor-node-2"});
  EXPECT_TRUE(datastore::isNotFound(store.get<model::Node>("node-2").status()));
  EXPECT_TRUE(store.get<model::Node>("node-1").ok());
  EXPECT_TRUE(ipam.nodeBlocks("node-2")->empty());
  EXPECT_EQ(ipam.nodeBlocks("node-1")->size(), 1u);
  // web-1 (on node-2) has no Pod: its address is a leak the GC releases; web-2 stays.
  for (int i = 0; i < 3; ++i) {
    clock.advance(1s);
    ASSERT_TRUE(controller.runOnce().ok());
  }
  EXPECT_TRUE(ipam.addressesOf("k8s-pod-network.abc.eth0")->empty());
  EXPECT_EQ(ipam.addressesOf("k8s-pod-network.def.eth0")->size(), 1u);
}

}  // namespace
}  // namespace coral::controller
