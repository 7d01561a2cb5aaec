// Every example resource parses, validates, and round-trips through JSON and YAML
// unchanged; every kind in the registry has an example.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "model/registry.h"
#include "model/yaml.h"

namespace coral::model {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path examplesDir() {
  const char* src = std::getenv("CORAL_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / "examples" / "resources";
}

std::vector<Resource> loadExamples() {
  std::vector<Resource> out;
  for (const auto& entry : std::filesystem::directory_iterator(examplesDir())) {
    if (entry.path().extension() != ".yaml") continue;
    for (auto& parsed : parseResources(readFile(entry.path()))) {
      EXPECT_TRUE(parsed.resource.ok())
          << entry.path() << " document " << parsed.index << ": " << parsed.resource.status();
      if (parsed.resource.ok()) out.push_back(*parsed.resource);
    }
  }
  return out;
}

TEST(ResourcesTest, ExamplesCoverEveryKind) {
  std::set<std::string> seen;
  for (const auto& r : loadExamples()) seen.insert(findKind(r.api_version, r.kind)->storage_name);
  for (const auto& kind : allKinds()) {
    EXPECT_TRUE(seen.contains(kind.storage_name)) << "no example for " << kind.storage_name;
  }
}

TEST(ResourcesTest, JsonRoundTripIsLossless) {
  for (const auto& r : loadExamples()) {
    auto back = resourceFromJson(resourceToJson(r));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, r) << resourceToJson(r).dump();
  }
}

TEST(ResourcesTest, YamlRoundTripIsLossless) {
  for (const auto& r : loadExamples()) {
    const std::string yaml = jsonToYaml(resourceToJson(r));
    auto docs = parseResources(yaml);
    ASSERT_EQ(docs.size(), 1u) << yaml;
    ASSERT_TRUE(docs[0].resource.ok()) << docs[0].resource.status() << "\n" << yaml;
    EXPECT_EQ(*docs[0].resource, r) << yaml;
  }
}

TEST(ResourcesTest, NormalizeIsIdempotent) {
  for (auto r : loadExamples()) {
    Resource again = r;
    ASSERT_TRUE(normalize(again).ok());
    EXPECT_EQ(again, r);
  }
}

TEST(ResourcesTest, TypedViewsRoundTrip) {
  for (const auto& r : loadExamples()) {
    if (r.kind == "IPPool") {
      auto pool = fromResource<IPPool>(r);
      ASSERT_TRUE(pool.ok());
      EXPECT_EQ(toResource(*pool), r);
    } else if (r.kind == "Pod") {
      auto pod = fromResource<Pod>(r);
      ASSERT_TRUE(pod.ok());
      EXPECT_EQ(pod->status.pod_ip, "10.244.0.7");
      ASSERT_EQ(pod->spec.containers.size(), 1u);
      EXPECT_EQ(pod->spec.containers[0].ports[0].name, "http");
    }
  }
}

TEST(ResourcesTest, AppliesCalicoDefaults) {
  auto docs = parseResources(R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.0.0.0/16}
---
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00::/48"}
---
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: tiny}
spec: {cidr: 10.1.0.0/28}
---
apiVersion: coral.network/v1
kind: BGPConfiguration
metadata: {name: default}
---
apiVersion: coral.network/v1
kind: BGPConfiguration
metadata: {name: node.n1}
spec: {listenPort: 1179}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: coral.network/v1
kind: NetworkPolicy
metadata: {name: p}
spec:
  egress: [{action: Allow}]
)");
  ASSERT_EQ(docs.size(), 7u);
  for (auto& d : docs) ASSERT_TRUE(d.resource.ok()) << d.resource.status();
  auto v4 = fromResource<IPPool>(*docs[0].resource).value();
  EXPECT_EQ(v4.spec.block_size, 26);
  EXPECT_EQ(v4.spec.encapsulation, "None");
  EXPECT_EQ(v4.spec.node_selector, "all()");
  EXPECT_EQ(fromResource<IPPool>(*docs[1].resource)->spec.block_size, 122);
  EXPECT_EQ(fromResource<IPPool>(*docs[2].resource)->spec.block_size, 28);
  auto bgp = fromResource<BGPConfiguration>(*docs[3].resource).value();
  EXPECT_EQ(bgp.spec.as_number, 64512u);
  EXPECT_EQ(bgp.spec.node_to_node_mesh, true);
  EXPECT_EQ(bgp.spec.listen_port, 179);
  auto node_bgp = fromResource<BGPConfiguration>(*docs[4].resource).value();
  EXPECT_EQ(node_bgp.spec.as_number, std::nullopt);  // inherits from "default"
  EXPECT_EQ(docs[5].resource->metadata.labels.at("kubernetes.io/metadata.name"), "shop");
  auto policy = fromResource<NetworkPolicy>(*docs[6].resource).value();
  EXPECT_EQ(policy.metadata.namespace_, "default");
  EXPECT_EQ(policy.spec.types, (std::vector<std::string>{"Ingress", "Egress"}));
}

TEST(ResourcesTest, FindsKindsByAnyName) {
  EXPECT_EQ(findKindByName("ippools")->kind, "IPPool");
  EXPECT_EQ(findKindByName("IPPool")->kind, "IPPool");
  EXPECT_EQ(findKindByName("gnp")->kind, "GlobalNetworkPolicy");
  EXPECT_EQ(findKindByName("knp")->storage_name, "KubernetesNetworkPolicy");
  EXPECT_EQ(findKindByName("networkpolicy")->api_version, "coral.network/v1");
  EXPECT_EQ(findKindByName("bogus"), nullptr);
  EXPECT_EQ(findKind("networking.k8s.io/v1", "NetworkPolicy")->storage_name,
            "KubernetesNetworkPolicy");
}

}  // namespace
}  // namespace coral::model
