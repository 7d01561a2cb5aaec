// The Kubernetes backend's own behaviour against FakeKubeApiServer, beyond the conformance
// suite: Pods/Namespaces/NetworkPolicies mapped to Coral's model, Coral kinds as CRDs with
// CAS, in-cluster config with a rotating token, 10k pods paginated, watch resume after a
// dropped connection, 410 → kOutOfRange → relist, 429/5xx retries, 403 naming the
// missing permission, certificate verification.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "datastore/kubernetes/kube_client.h"
#include "datastore/kubernetes/kubernetes_backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "tests/support/child_process.h"
#include "tests/support/datastore_test_util.h"
#include "tests/support/fake_kube_api_server.h"

namespace coral::datastore {
namespace {

using coral::testing::FakeKubeApiServer;
using model::Json;
using namespace std::chrono_literals;

class KubernetesBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakeKubeApiServer::start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    url_ = "kubernetes://" + fake_->writeKubeconfig() + "?max_retries=4";
    auto backend = openKubernetesBackend(url_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    store_ = std::make_unique<ResourceStore>(*backend_);
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
    fake_.reset();
  }

  Json pod(const std::string& ns, const std::string& name, const std::string& ip) {
    return Json::parse(fmt::format(R"({{
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {{"name": "{1}", "namespace": "{0}", "labels": {{"app": "web", "tier": "front"}},
                   "managedFields": [{{"manager": "kubelet"}}], "ownerReferences": []}},
      "spec": {{"nodeName": "node-1", "containers": [{{"name": "c", "image": "nginx",
               "ports": [{{"name": "http", "containerPort": 8080, "protocol": "TCP"}}]}}]}},
      "status": {{"phase": "Running", "podIP": "{2}", "podIPs": [{{"ip": "{2}"}}],
                 "conditions": []}}}})",
                                   ns, name, ip));
  }

  std::unique_ptr<FakeKubeApiServer> fake_;
  std::string url_;
  BackendPtr backend_;
  std::unique_ptr<ResourceStore> store_;
};

TEST_F(KubernetesBackendTest, PodsNamespacesAndNetworkPoliciesMapToCoralsModel) {
  ASSERT_TRUE(fake_->create("/api/v1/pods", pod("shop", "web-1", "10.244.1.5")).ok());
  ASSERT_TRUE(
      fake_
          ->create("/api/v1/namespaces",
                   Json::parse(R"({"metadata": {"name": "shop", "labels": {"team": "a"}}})"))
          .ok());
  ASSERT_TRUE(fake_
                  ->create("/apis/networking.k8s.io/v1/networkpolicies", Json::parse(R"({
      "metadata": {"name": "deny-all", "namespace": "shop"},
      "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})"))
                  .ok());
  auto p = store_->get<model::Pod>("shop", "web-1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->metadata.labels.at("app"), "web");
  EXPECT_EQ(p->spec.node_name, "node-1");
  ASSERT_EQ(p->spec.containers.size(), 1u);
  ASSERT_EQ(p->spec.containers[0].ports.size(), 1u);
  EXPECT_EQ(p->spec.containers[0].ports[0].name, "http");
  EXPECT_EQ(p->spec.containers[0].ports[0].container_port, 8080);
  EXPECT_EQ(p->status.pod_ip, "10.244.1.5");
  ASSERT_EQ(p->status.pod_ips.size(), 1u);
  EXPECT_FALSE(p->metadata.resource_version.empty());

  auto ns = store_->get<model::Namespace>("", "shop");
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(ns->metadata.labels.at("team"), "a");
  EXPECT_EQ(ns->metadata.labels.at("kubernetes.io/metadata.name"), "shop");

  auto policies = store_->list<model::KubernetesNetworkPolicy>("shop");
  ASSERT_TRUE(policies.ok()) << policies.status();
  ASSERT_EQ(policies->size(), 1u);
  EXPECT_EQ((*policies)[0].spec.policy_types, std::vector<std::string>{"Ingress"});

  auto pods = store_->list<model::Pod>();
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_EQ(pods->size(), 1u);
  // Pods belong to Kubernetes: Coral never writes them.
  EXPECT_EQ(store_->create(*p).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(KubernetesBackendTest, CoralKindsAreCustomResourcesWithCas) {
  model::IPPool pool;
  pool.metadata.name = "blue";
  pool.spec.cidr = "10.244.0.0/16";
  auto created = store_->create(pool);
  ASSERT_TRUE(created.ok()) << created.status();
  // It is a coral.network/v1 IPPool object on the API server.
  auto kv = backend_->get("/coral/v1/IPPool/_/blue");
  ASSERT_TRUE(kv.ok()) << kv.status();
  auto json = Json::parse(kv->value);
  EXPECT_EQ(json["apiVersion"], "coral.network/v1");
  EXPECT_EQ(json["spec"]["cidr"], "10.244.0.0/16");
  model::IPPool stale = *created;
  model::IPPool next = *created;
  next.spec.nat_outgoing = true;
  ASSERT_TRUE(store_->update(next).ok());
  stale.spec.disabled = true;
  EXPECT_EQ(store_->update(stale).status().code(), absl::StatusCode::kAborted);
  auto list = store_->list<model::IPPool>();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].spec.nat_outgoing);
  // Typed watch: a MODIFIED event is kModified, DELETED carries the deletion revision.
  auto watch = store_->watch(model::kindOf<model::IPPool>(), std::nullopt, 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto removed = store_->remove(model::kindOf<model::IPPool>(), "", "blue");
  ASSERT_TRUE(removed.ok()) << removed.status();
  std::vector<ResourceEvent> events;
  for (int i = 0; i < 20 && events.empty(); ++i) {
    auto got = watch->next(250ms);
    ASSERT_TRUE(got.ok()) << got.status();
    events = *got;
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, ResourceEventType::kDeleted);
  EXPECT_EQ(events[0].revision, *removed);
  EXPECT_EQ(events[0].resource.metadata.name, "blue");
}

TEST_F(KubernetesBackendTest, InClusterConfigFollowsTokenRotation) {
  coral::testing::TempDir sa;
  std::filesystem::copy_file(fake_->caPath(), sa.path() + "/ca.crt");
  std::ofstream(sa.path() + "/token") << "token-1\n";
  std::ofstream(sa.path() + "/namespace") << "coral-system";
  fake_->setTokens({"token-1"});
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(fake_->port()).c_str(), 1);
  auto backend = openKubernetesBackend("kubernetes?serviceaccount_dir=" + sa.path());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(backend.ok()) << backend.status();
  ASSERT_TRUE((*backend)->put("/t/a", "1").ok());
  // The kubelet rotates the projected token; the server stops accepting the old one.
  std::ofstream(sa.path() + "/token.tmp") << "token-2\n";
  std::filesystem::rename(sa.path() + "/token.tmp", sa.path() + "/token");
  fake_->setTokens({"token-2"});
  auto put = (*backend)->put("/t/a", "2");
  ASSERT_TRUE(put.ok()) << put.status();
  // A revoked token is a clear kUnauthenticated error.
  fake_->setTokens({"token-3"});
  auto denied = (*backend)->get("/t/a");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kUnauthenticated) << denied.status();
}

TEST_F(KubernetesBackendTest, ListsTenThousandPodsInPages) {
  constexpr int kPods = 10000;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_TRUE(fake_
                    ->create("/api/v1/pods",
                             pod(fmt::format("ns-{}", i % 10), fmt::format("pod-{:05}", i),
                                 fmt::format("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)))
                    .ok());
  }
  const int64_t before = fake_->requestCount();
  const auto start = std::chrono::steady_clock::now();
  auto list = backend_->list("/coral/v1/Pod/");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->kvs.size(), static_cast<size_t>(kPods));
  EXPECT_EQ(list->revision, fake_->revision());
  EXPECT_EQ(fake_->requestCount() - before, kPods / 500) << "pages of 500";
  std::cout << "[ MEASURE  ] list of " << kPods << " pods: " << ms << " ms, "
            << (fake_->requestCount() - before) << " requests\n";
  // A continue token that expired mid-list (compaction): the list starts over.
  fake_->expireNextContinue();
  const int64_t before_expired = fake_->requestCount();
  auto again = backend_->list("/coral/v1/Pod/ns-3/");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->kvs.size(), static_cast<size_t>(kPods / 10));
  EXPECT_EQ(fake_->requestCount() - before_expired, 4) << "page 1, 410, pages 1 and 2 again";
  auto typed = store_->list<model::Pod>("ns-3");
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->size(), static_cast<size_t>(kPods / 10));
}

TEST_F(KubernetesBackendTest, WatchResumesAfterTheConnectionDrops) {
  auto watch = backend_->watch("/w/", 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::vector<Revision> want;
  for (int i = 0; i < 3; ++i) want.push_back(*backend_->put(fmt::format("/w/{}", i), "a"));
  auto first = conformance::collect(**watch, 3);
  ASSERT_TRUE(first.ok() && first->size() == 3u);
  fake_->dropWatches();
  for (int i = 0; i < 3; ++i) want.push_back(*backend_->put(fmt::format("/w/{}", i), "b"));
  auto rest = conformance::collect(**watch, 3);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->size(), 3u) << conformance::describe(*rest);
  first->insert(first->end(), rest->begin(), rest->end());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*first)[i].kv.mod_revision, want[i]) << i;
  auto none = (*watch)->next(300ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << conformance::describe(*none);
}

TEST_F(KubernetesBackendTest, GoneAfterCompactionIsOutOfRangeThenRelistAndWatchAgain) {
  auto watch = backend_->watch("/g/", 0);
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(backend_->put("/g/a", "1").ok());
  ASSERT_TRUE(conformance::collect(**watch, 1).ok());
  // While the watch is disconnected, history it has not seen is compacted away.
  fake_->dropWatches();
  fake_->compact(fake_->revision() + 1);  // nothing is gone yet...
  ASSERT_TRUE(backend_->put("/g/b", "2").ok());
  ASSERT_TRUE(backend_->put("/g/c", "3").ok());
  auto watch2 = backend_->watch("/g/", *backend_->currentRevision() - 5);
  ASSERT_TRUE(watch2.ok());
  fake_->compact(fake_->revision());
  auto gone = conformance::collect(**watch2, 10, 3s);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kOutOfRange) << gone.status();
  // The caller relists and watches from the list's revision: nothing lost.
  auto relist = backend_->list("/g/");
  ASSERT_TRUE(relist.ok());
  EXPECT_EQ(relist->kvs.size(), 3u);
  auto again = backend_->watch("/g/", relist->revision + 1);
  ASSERT_TRUE(again.ok());
  const Revision d = *backend_->put("/g/d", "4");
  auto events = conformance::collect(**again, 1);
  ASSERT_TRUE(events.ok() && events->size() == 1u) << events.status();
  EXPECT_EQ((*events)[0].kv.mod_revision, d);
}

TEST_F(KubernetesBackendTest, RetriesTooManyRequestsHonouringRetryAfterAndServerErrors) {
  fake_->failNext(2, 429, 1);
  auto start = std::chrono::steady_clock::now();
  auto put = backend_->put("/r/a", "1");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2s) << "Retry-After: 1 twice";
  fake_->failNext(3, 503);
  EXPECT_TRUE(backend_->get("/r/a").ok());
  fake_->failNext(100, 500);
  auto failed = backend_->get("/r/a");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  fake_->failNext(0, 0);
}

TEST_F(KubernetesBackendTest, ForbiddenNamesTheMissingRbacPermission) {
  fake_->deny("list", "", "pods");
  auto list = store_->list<model::Pod>();
  ASSERT_EQ(list.status().code(), absl::StatusCode::kPermissionDenied) << list.status();
  const std::string message(list.status().message());
  EXPECT_NE(message.find(R"(verb "list" on resource "pods" in API group "")"), std::string::npos)
      << message;
  fake_->deny("create", "coral.network", "ippools");
  model::IPPool pool;
  pool.metadata.name = "p";
  pool.spec.cidr = "10.0.0.0/16";
  auto created = store_->create(pool);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(created.status().message())
                .find(R"(verb "create" on resource "ippools" in API group "coral.network")"),
            std::string::npos)
      << created.status();
  // A refused watch is an error from next(), not an endless silence.
  fake_->deny("watch", "", "pods");
  auto watch = store_->watch(model::kindOf<model::Pod>(), std::nullopt, 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  absl::Status seen;
  for (int i = 0; i < 40 && seen.ok(); ++i)
    seen = watch->next(std::chrono::milliseconds(250)).status();
  EXPECT_EQ(seen.code(), absl::StatusCode::kPermissionDenied) << seen;
  EXPECT_NE(std::string(seen.message()).find(R"(verb "watch" on resource "pods")"),
            std::string::npos)
      << seen;
}

TEST_F(KubernetesBackendTest, RejectsAServerCertificateFromAnotherCa) {
  FakeKubeApiServer::Options own;
  own.own_ca = true;
  auto other = FakeKubeApiServer::start(own);
  ASSERT_TRUE(other.ok());
  // A kubeconfig naming our fake's address but the other fake's CA.
  const std::string path = fake_->dir() + "/wrong-ca";
  std::ofstream(path) << fmt::format(
      "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: c\n  cluster:\n"
      "    server: {}\n    certificate-authority: {}\nusers:\n- name: u\n  user:\n"
      "    token: coral-test-token\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
      "    user: u\n",
      fake_->server(), (*other)->caPath());
  auto backend = openKubernetesBackend("kubernetes://" + path + "?max_retries=0");
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto got = (*backend)->get("/x");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_NE(std::string(got.status().message()).find("handshake"), std::string::npos)
      << got.status();
}

TEST_F(KubernetesBackendTest, KubeconfigWithClientCertificate) {
  auto backend = openKubernetesBackend("kubernetes://" + fake_->writeClientCertKubeconfig());
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto put = (*backend)->put("/cert/a", "1");
  ASSERT_TRUE(put.ok()) << put.status();
  // Without any credential the server says 401.
  fake_->setTokens({"something-else"});
  EXPECT_EQ(backend_->get("/cert/a").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE((*backend)->get("/cert/a").ok());
}

TEST_F(KubernetesBackendTest, ClientSideRateLimit) {
  auto limited = openKubernetesBackend(url_ + "&qps=20&burst=5");
  ASSERT_TRUE(limited.ok()) << limited.status();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) (void)(*limited)->get("/rl/none");
  // 5 at once, then 20 at 20/s: about a second.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(KubernetesBackendTest, ConcurrentCallersShareAPoolOfConnections) {
  auto unlimited = openKubernetesBackend(url_ + "&qps=0");
  ASSERT_TRUE(unlimited.ok()) << unlimited.status();
  Backend& backend = **unlimited;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (!backend.put(fmt::format("/pool/{}/{}", t, i), "v").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = backend_->list("/pool/");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->kvs.size(), 240u);
}

TEST(KubernetesBackoff, ExponentialWithJitterAndRetryAfter) {
  using kubernetes::KubeClient;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const auto d = KubeClient::backoff(attempt);
    const int64_t cap = std::min<int64_t>(5000, int64_t{100} << attempt);
    EXPECT_GE(d.count(), cap / 2);
    EXPECT_LE(d.count(), cap);
  }
  const auto ra = KubeClient::backoff(0, "3");
  EXPECT_GE(ra, 3000ms);
  EXPECT_LE(ra, 3650ms);
}

}  // namespace
}  // namespace coral::datastore
