// resource_map: keys ↔ API objects, and the metadata the seam keeps in them.
#include "datastore/kubernetes/resource_map.h"

#include <gtest/gtest.h>

namespace coral::datastore::kubernetes {
namespace {

using model::Json;

TEST(ResourceMap, KeysMapToCollections) {
  auto pool = refForKey("/coral/v1/IPPool/_/blue");
  EXPECT_EQ(pool.path(), "/apis/coral.network/v1/ippools/blue");
  auto wep = refForKey("/coral/v1/WorkloadEndpoint/shop/node1-k8s-web-eth0");
  EXPECT_EQ(wep.path(),
            "/apis/coral.network/v1/namespaces/shop/workloadendpoints/node1-k8s-web-eth0");
  EXPECT_EQ(refForKey("/coral/v1/Pod/shop/web").path(), "/api/v1/namespaces/shop/pods/web");
  EXPECT_EQ(refForKey("/coral/v1/Namespace/_/shop").path(), "/api/v1/namespaces/shop");
  EXPECT_EQ(refForKey("/coral/v1/KubernetesNetworkPolicy/shop/deny").path(),
            "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny");
  EXPECT_EQ(refForKey("/coral/v1/KubernetesNode/_/node-1").path(), "/api/v1/nodes/node-1");
  auto generic = refForKey("/anything/else");
  EXPECT_TRUE(generic.collection->generic);
  EXPECT_TRUE(generic.name.starts_with("kv-"));
  EXPECT_EQ(generic.name.size(), 43u);
  EXPECT_TRUE(refForKey("/coral/v1/IPPool/extra/part/s").malformed);
}

TEST(ResourceMap, PrefixScopes) {
  auto pods = scopesForPrefix("/coral/v1/Pod/shop/");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].collection->resource, "pods");
  EXPECT_EQ(pods[0].ns, "shop");
  EXPECT_EQ(scopesForPrefix("/coral/v1/IPPool/").size(), 1u);
  auto generic = scopesForPrefix("/conformance/");
  ASSERT_EQ(generic.size(), 1u);
  EXPECT_TRUE(generic[0].collection->generic);
  EXPECT_GT(scopesForPrefix("/coral/").size(), 10u) << "every collection";
}

TEST(ResourceMap, GenericRoundTripKeepsBinaryLeaseAndCreateRevision) {
  const std::string key("/x/\xff\x00y", 6);
  const std::string value("bin\0ary", 7);
  auto obj = encodeObject(refForKey(key), key, value, 42, 7);
  ASSERT_TRUE(obj.ok()) << obj.status();
  (*obj)["metadata"]["resourceVersion"] = "9";
  auto kv = decodeObject(keyValueCollection(), *obj);
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->key, key);
  EXPECT_EQ(kv->value, value);
  EXPECT_EQ(kv->lease, 42);
  EXPECT_EQ(kv->create_revision, 7);
  EXPECT_EQ(kv->mod_revision, 9);
}

TEST(ResourceMap, PodsAreReadOnlyAndSlimmed) {
  EXPECT_EQ(encodeObject(refForKey("/coral/v1/Pod/a/b"), "/coral/v1/Pod/a/b", "{}", 0, {})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  const Json pod = Json::parse(R"({"metadata": {"name": "web", "namespace": "shop",
      "resourceVersion": "5", "labels": {"app": "web"}, "managedFields": [{}]},
      "spec": {"nodeName": "n1", "volumes": [], "containers": [{"name": "c", "image": "x",
               "ports": [{"name": "http", "containerPort": 80}]}]},
      "status": {"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}], "conditions": []}})");
  const Collection* pods = refForKey("/coral/v1/Pod/a/b").collection;
  auto kv = decodeObject(*pods, pod);
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->key, "/coral/v1/Pod/shop/web");
  const Json v = Json::parse(kv->value);
  EXPECT_EQ(v["apiVersion"], "v1");
  EXPECT_FALSE(v["metadata"].contains("managedFields"));
  EXPECT_FALSE(v["spec"].contains("volumes"));
  EXPECT_EQ(v["spec"]["containers"][0]["ports"][0]["name"], "http");
  EXPECT_EQ(v["status"]["podIP"], "10.0.0.1");
  EXPECT_EQ(kv->mod_revision, 5);
}

TEST(ResourceMap, NonNumericResourceVersionIsDataLoss) {
  EXPECT_EQ(parseRevision("abc").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(*parseRevision("123"), 123);
}

}  // namespace
}  // namespace coral::datastore::kubernetes
