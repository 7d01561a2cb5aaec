// The ClusterRoles and Role of manifests/coral.yaml, enforced: FakeKubeApiServer denies
// every verb on every resource Coral might touch except what the role grants (resourceNames
// are not modelled: a rule limited to names counts as the whole resource), then corald's
// datastore work (list+watch of what it caches, registering its Node, a CNI ADD and DEL
// through IPAM) and coral-controller's (leader election on its Lease, node cleanup and an
// IPAM GC round) must succeed. Each role also fails at one thing it must not do, so the
// denials are known to be in force.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "common/clock.h"
#include "common/strings.h"
#include "controller/leader_election.h"
#include "controller/node_cleanup.h"
#include "datastore/backend.h"
#include "datastore/kubernetes/kube_client.h"
#include "datastore/kubernetes/kube_config.h"
#include "datastore/kubernetes/kubernetes_backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/support/fake_kube_api_server.h"
#include "tests/unit/manifests/test_paths.h"

namespace coral::manifests_test {
namespace {

using namespace std::chrono_literals;
using coral::testing::FakeKubeApiServer;
using model::Json;
using Permission = std::tuple<std::string, std::string, std::string>;  // verb, group, resource

std::vector<Json> coralYaml() {
  std::vector<Json> out;
  for (auto& doc : model::parseYamlDocuments(readFile(sourceDir() / "manifests" / "coral.yaml"))) {
    if (doc.json.ok() && doc.json->is_object()) out.push_back(*doc.json);
  }
  return out;
}

// What the named roles grant, as (verb, group, resource).
std::set<Permission> granted(const std::vector<Json>& docs,
                             const std::set<std::pair<std::string, std::string>>& roles) {
  std::set<Permission> out;
  for (const auto& d : docs) {
    if (!roles.contains({d.value("kind", ""), d["metadata"].value("name", "")})) continue;
    for (const auto& rule : d["rules"]) {
      for (const auto& g : rule["apiGroups"]) {
        for (const auto& r : rule["resources"]) {
          for (const auto& v : rule["verbs"])
            out.insert({v.get<std::string>(), g.get<std::string>(), r.get<std::string>()});
        }
      }
    }
  }
  return out;
}

// Denies everything Coral could ask for that `allowed` does not grant.
void denyAllBut(FakeKubeApiServer& fake, const std::vector<Json>& docs,
                const std::set<Permission>& allowed) {
  std::set<std::pair<std::string, std::string>> resources = {
      {"", "pods"},
      {"", "namespaces"},
      {"", "nodes"},
      {"networking.k8s.io", "networkpolicies"},
      {"coordination.k8s.io", "leases"}};
  for (const auto& d : docs) {
    if (d.value("kind", "") == "CustomResourceDefinition")
      resources.insert(
          {d["spec"]["group"].get<std::string>(), d["spec"]["names"]["plural"].get<std::string>()});
  }
  for (const char* verb :
       {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}) {
    for (const auto& [group, resource] : resources) {
      if (!allowed.contains({verb, group, resource})) fake.deny(verb, group, resource);
    }
  }
}

std::unique_ptr<FakeKubeApiServer> startFake() {
  auto fake = FakeKubeApiServer::start();
  EXPECT_TRUE(fake.ok()) << fake.status();
  return fake.ok() ? std::move(*fake) : nullptr;
}

void addKubernetesObjects(FakeKubeApiServer& fake) {
  ASSERT_TRUE(fake.create("/api/v1/namespaces",
                          Json::parse(R"({"metadata": {"name": "shop", "labels": {"team": "a"}}})"))
                  .ok());
  for (const char* node : {"node-1", "node-2"}) {
    ASSERT_TRUE(fake.create("/api/v1/nodes", Json{{"metadata", {{"name", node}}}}).ok());
  }
  ASSERT_TRUE(fake.create("/api/v1/pods", Json::parse(R"({"metadata": {"name": "web-1",
      "namespace": "shop", "labels": {"app": "web"}}, "spec": {"nodeName": "node-1",
      "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}]}]}})"))
                  .ok());
  ASSERT_TRUE(fake.create("/apis/networking.k8s.io/v1/networkpolicies",
                          Json::parse(R"({"metadata": {"name": "deny", "namespace": "shop"},
      "spec": {"podSelector": {}}})"))
                  .ok());
}

TEST(ManifestsRbac, CoraldNeedsNoMoreThanClusterRoleCoralNode) {
  auto fake = startFake();
  ASSERT_NE(fake, nullptr);
  addKubernetesObjects(*fake);
  auto backend = datastore::openKubernetesBackend("kubernetes://" + fake->writeKubeconfig());
  ASSERT_TRUE(backend.ok()) << backend.status();
  datastore::ResourceStore store(**backend);
  // What an operator applies (before the denials: the operator is not corald).
  model::IPPool pool;
  pool.metadata.name = "default";
  pool.spec.cidr = "10.244.0.0/16";
  ASSERT_TRUE(store.create(pool).ok());
  model::BGPConfiguration bgp;
  bgp.metadata.name = "default";
  ASSERT_TRUE(store.create(bgp).ok());

  const auto docs = coralYaml();
  denyAllBut(*fake, docs, granted(docs, {{"ClusterRole", "coral-node"}}));

  // The caches corald keeps (agent/agent.cc): a list, then a watch from its revision that
  // must deliver a change someone else makes. (A watch the API server refuses is retried
  // by the datastore, not reported, so the event is the proof it was allowed.)
  struct Cached {
    const char* kind;
    const char* collection;  // where an operator or kubectl writes one
    const char* object;
  };
  const Cached cached[] = {
      {"IPAMBlock", "/apis/coral.network/v1/ipamblocks",
       R"({"metadata": {"name": "10-250-0-0-26"}, "spec": {"cidr": "10.250.0.0/26"}})"},
      {"Node", "/apis/coral.network/v1/nodes", R"({"metadata": {"name": "node-9"}, "spec": {}})"},
      {"WorkloadEndpoint", "/apis/coral.network/v1/workloadendpoints",
       R"({"metadata": {"name": "wep-9", "namespace": "shop"},
           "spec": {"node": "node-9", "interfaceName": "cor1"}})"},
      {"IPPool", "/apis/coral.network/v1/ippools",
       R"({"metadata": {"name": "pool-9"}, "spec": {"cidr": "10.250.0.0/16", "disabled": true}})"},
      {"BGPConfiguration", "/apis/coral.network/v1/bgpconfigurations",
       R"({"metadata": {"name": "node.node-9"}, "spec": {}})"},
      {"BGPPeer", "/apis/coral.network/v1/bgppeers",
       R"({"metadata": {"name": "peer-9"}, "spec": {"peerIP": "10.0.0.9", "asNumber": 65009}})"},
      {"Namespace", "/api/v1/namespaces", R"({"metadata": {"name": "ns-9"}})"},
      {"Pod", "/api/v1/pods",
       R"({"metadata": {"name": "pod-9", "namespace": "shop"}, "spec": {"containers": []}})"},
      {"KubernetesNetworkPolicy", "/apis/networking.k8s.io/v1/networkpolicies",
       R"({"metadata": {"name": "np-9", "namespace": "shop"}, "spec": {"podSelector": {}}})"},
      {"NetworkPolicy", "/apis/coral.network/v1/networkpolicies",
       R"({"metadata": {"name": "cnp-9", "namespace": "shop"}, "spec": {}})"},
      {"GlobalNetworkPolicy", "/apis/coral.network/v1/globalnetworkpolicies",
       R"({"metadata": {"name": "gnp-9"}, "spec": {}})"},
  };
  for (const auto& c : cached) {
    SCOPED_TRACE(c.kind);
    const model::KindInfo* info = model::findKindByName(c.kind);
    ASSERT_NE(info, nullptr);
    auto list = store.list(*info);
    ASSERT_TRUE(list.ok()) << list.status();
    auto watch = store.watch(*info, std::nullopt, list->revision + 1);
    ASSERT_TRUE(watch.ok()) << watch.status();
    Json object = Json::parse(c.object);
    const std::string group_version =
        std::string(c.collection).starts_with("/api/") ? "v1" : info->api_version;
    object["apiVersion"] = group_version;
    object["kind"] = std::string(c.collection).find("networking.k8s.io") != std::string::npos
                         ? "NetworkPolicy"
                         : info->kind;
    ASSERT_TRUE(fake->create(c.collection, object).ok());
    bool seen = false;
    for (int i = 0; i < 25 && !seen; ++i) {
      auto events = watch->next(200ms);
      ASSERT_TRUE(events.ok()) << events.status();
      for (const auto& e : *events)
        seen = seen || e.resource.metadata.name == object["metadata"]["name"];
    }
    EXPECT_TRUE(seen) << "the watch delivered no event (a denied watch is retried silently)";
  }
  auto revision = (*backend)->currentRevision();
  ASSERT_TRUE(revision.ok()) << revision.status();

  // corald registers its node, then publishes a changed address.
  model::Node node;
  node.metadata.name = "node-1";
  node.spec.ipv4_address = "10.0.0.1/24";
  ASSERT_TRUE(store.create(node).ok());
  auto stored = store.get<model::Node>("node-1");
  ASSERT_TRUE(stored.ok()) << stored.status();
  stored->spec.ipv4_address = "10.0.0.11/24";
  ASSERT_TRUE(store.update(*stored).ok());

  // CNI ADD: the pod's labels, an address from IPAM, the WorkloadEndpoint.
  auto pod = store.get<model::Pod>("shop", "web-1");
  ASSERT_TRUE(pod.ok()) << pod.status();
  ipam::Ipam ipam(store);
  ipam::AssignRequest req;
  req.handle_id = "k8s-pod-network.abc.eth0";
  req.node = "node-1";
  req.attributes = {{ipam::kAttrNamespace, "shop"}, {ipam::kAttrPod, "web-1"}};
  auto assigned = ipam.autoAssign(req);
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  ASSERT_TRUE(assigned->ipv4.has_value());
  model::WorkloadEndpoint wep;
  wep.metadata.name = "node-1-k8s-web--1-eth0";
  wep.metadata.namespace_ = "shop";
  wep.metadata.labels = pod->metadata.labels;
  wep.spec.node = "node-1";
  wep.spec.pod = "web-1";
  wep.spec.interface_name = "cor0123456789a";
  ASSERT_TRUE(store.create(wep).ok());

  // CNI DEL.
  ASSERT_TRUE(ipam.releaseHandle(req.handle_id).ok());
  auto removed = store.remove(model::kindOf<model::WorkloadEndpoint>(), "shop", wep.metadata.name);
  ASSERT_TRUE(removed.ok()) << removed.status();

  // Not granted: corald does not write pools; the denial names the permission.
  model::IPPool other = pool;
  other.metadata.name = "other";
  other.spec.cidr = "10.245.0.0/16";
  auto denied = store.create(other);
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
}

TEST(ManifestsRbac, CoralControllerNeedsNoMoreThanItsRoles) {
  auto fake = startFake();
  ASSERT_NE(fake, nullptr);
  addKubernetesObjects(*fake);
  auto backend = datastore::openKubernetesBackend("kubernetes://" + fake->writeKubeconfig());
  ASSERT_TRUE(backend.ok()) << backend.status();
  datastore::ResourceStore store(**backend);
  // What corald and the operator wrote before: two nodes, a pool, a peer of node-2, and an
  // address on node-2 for a pod that does not exist.
  for (const char* name : {"node-1", "node-2"}) {
    model::Node node;
    node.metadata.name = name;
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
  req.handle_id = "k8s-pod-network.gone.eth0";
  req.node = "node-2";
  req.attributes = {{ipam::kAttrNamespace, "shop"}, {ipam::kAttrPod, "gone"}};
  ASSERT_TRUE(ipam.autoAssign(req).ok());

  const auto docs = coralYaml();
  denyAllBut(*fake, docs,
             granted(docs, {{"ClusterRole", "coral-controller"},
                            {"Role", "coral-controller-leader-election"}}));

  // Leader election on its Lease in coral-system.
  auto config = datastore::kubernetes::loadKubeconfig(fake->writeKubeconfig());
  ASSERT_TRUE(config.ok()) << config.status();
  auto client = datastore::kubernetes::KubeClient::create(*config);
  ASSERT_TRUE(client.ok()) << client.status();
  auto lock = controller::kubernetesLeaseLock(**client, "coral-system", "coral-controller");
  std::atomic<bool> led{false};
  controller::ElectionOptions election;
  election.identity = "coral-controller-0";
  election.lease_duration = 2s;
  election.renew_deadline = 1500ms;
  election.retry_period = 200ms;
  election.on_started_leading = [&led](const std::atomic<bool>& stop) {
    led = true;
    while (!stop) std::this_thread::sleep_for(10ms);
  };
  controller::LeaderElector elector(*lock, election);
  elector.start();
  for (int i = 0; i < 150 && !led; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(led.load()) << "never became leader";
  std::this_thread::sleep_for(500ms);  // a renewal or two
  EXPECT_TRUE(elector.isLeader());
  elector.stop(/*release=*/true);

  // node-2 leaves the cluster; after the grace period the controller cleans up after it.
  ASSERT_TRUE(fake->remove("/api/v1/nodes", "", "node-2").ok());
  common::FakeClock clock;
  controller::ControllerOptions options;
  options.kubernetes_nodes = true;
  options.node_grace = 30s;
  options.gc.leak_grace = 0s;
  options.gc.block_grace = 0s;
  controller::Controller controller(store, clock, options);
  auto round = controller.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  clock.advance(31s);
  round = controller.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->removed_nodes, std::vector<std::string>{"node-2"});
  EXPECT_EQ(round->removed_peers, std::vector<std::string>{"tor-node-2"});
  for (int i = 0; i < 3; ++i) {
    clock.advance(1s);
    round = controller.runOnce();
    ASSERT_TRUE(round.ok()) << round.status();
  }
  auto left = ipam.addressesOf(req.handle_id);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_TRUE(left->empty());

  // Not granted: the controller creates nothing.
  model::IPPool other = pool;
  other.metadata.name = "other";
  other.spec.cidr = "10.245.0.0/16";
  auto denied = store.create(other);
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
}

}  // namespace
}  // namespace coral::manifests_test
