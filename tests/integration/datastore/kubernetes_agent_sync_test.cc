// corald in Kubernetes mode reads Pods, Namespaces and NetworkPolicies through the
// kubernetes datastore: the agent's ResourceCache (agent/sync) over FakeKubeApiServer
// follows pod label changes made by "kubectl", deletions, and relists after a 410 Gone
// that hid changes made while its watch was disconnected.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "agent/sync/resource_cache.h"
#include "datastore/kubernetes/kubernetes_backend.h"
#include "model/registry.h"
#include "tests/support/fake_kube_api_server.h"

namespace coral::agent {
namespace {

using namespace std::chrono_literals;
using model::Json;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

Json pod(const std::string& name, const std::string& app) {
  return Json{{"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", {{"app", app}}}}},
              {"spec", {{"nodeName", "node-1"}, {"containers", Json::array()}}},
              {"status", {{"podIP", "10.244.0.7"}}}};
}

std::string labelOf(const ResourceCache& cache, const std::string& name) {
  for (const auto& p : cache.typed<model::Pod>()) {
    if (p.metadata.name == name)
      return p.metadata.labels.contains("app") ? p.metadata.labels.at("app") : "";
  }
  return "<absent>";
}

TEST(KubernetesAgentSync, PodCacheFollowsLabelsDeletesAndRelistsAfterGone) {
  auto fake = coral::testing::FakeKubeApiServer::start();
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto backend = datastore::openKubernetesBackend("kubernetes://" + (*fake)->writeKubeconfig());
  ASSERT_TRUE(backend.ok()) << backend.status();
  datastore::ResourceStore store(**backend);
  ASSERT_TRUE((*fake)->create("/api/v1/pods", pod("web-1", "web")).ok());
  ASSERT_TRUE((*fake)->create("/api/v1/pods", pod("db-1", "db")).ok());

  std::atomic<int> changes{0};
  ResourceCache pods(store, model::kindOf<model::Pod>(), [&] { ++changes; });
  pods.start();
  ASSERT_TRUE(eventually([&] { return pods.synced(); }));
  EXPECT_EQ(pods.snapshot().size(), 2u);
  EXPECT_EQ(labelOf(pods, "web-1"), "web");

  // kubectl label pod web-1 app=frontend --overwrite
  auto relabeled = pod("web-1", "frontend");
  ASSERT_TRUE((*fake)->update("/api/v1/pods", relabeled).ok());
  EXPECT_TRUE(eventually([&] { return labelOf(pods, "web-1") == "frontend"; }));
  ASSERT_TRUE((*fake)->remove("/api/v1/pods", "shop", "db-1").ok());
  EXPECT_TRUE(eventually([&] { return labelOf(pods, "db-1") == "<absent>"; }));

  // The watch drops; while it reconnects, history is compacted past what it saw, so it
  // gets 410 Gone and the cache relists: the pod added meanwhile shows up.
  (*fake)->setTokens({});  // reconnects fail (401) until we let them in again
  (*fake)->dropWatches();
  ASSERT_TRUE((*fake)->create("/api/v1/pods", pod("web-2", "web")).ok());
  ASSERT_TRUE((*fake)->create("/api/v1/pods", pod("web-3", "web")).ok());
  (*fake)->compact((*fake)->revision());
  (*fake)->setTokens({"coral-test-token"});
  EXPECT_TRUE(eventually([&] { return labelOf(pods, "web-3") == "web"; }, 10s));
  EXPECT_EQ(pods.snapshot().size(), 3u);
  pods.stop();
}

}  // namespace
}  // namespace coral::agent
