// The ConfigMap's contents as corald reads them: corald.yaml loads with corald's own
// loader (unknown keys are errors there), with the DaemonSet's environment; the etcd
// variant's datastore URL parses, and its TLS files are where the DaemonSet mounts them.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "agent/config.h"
#include "common/strings.h"
#include "datastore/etcd/etcd_url.h"
#include "model/yaml.h"
#include "tests/unit/manifests/test_paths.h"

namespace coral::manifests_test {
namespace {

namespace fs = std::filesystem;
using Json = model::Json;

Json configMap(const std::string& file) {
  for (auto& doc : model::parseYamlDocuments(readFile(sourceDir() / "manifests" / file))) {
    if (doc.json.ok() && doc.json->is_object() && doc.json->value("kind", "") == "ConfigMap" &&
        (*doc.json)["metadata"].value("name", "") == "coral-config") {
      return *doc.json;
    }
  }
  ADD_FAILURE() << "no ConfigMap coral-config in " << file;
  return Json::object();
}

agent::AgentConfig load(const Json& cm) {
  const fs::path path = fs::temp_directory_path() / fmt::format("corald-{}.yaml", ::getpid());
  std::ofstream(path) << cm["data"]["corald.yaml"].get<std::string>();
  // What the DaemonSet sets: the node name from the pod, the datastore from the ConfigMap.
  auto config = agent::loadAgentConfig(
      path.string(), {{"CORAL_NODENAME", "node-1"},
                      {"CORAL_DATASTORE", cm["data"]["datastore"].get<std::string>()}});
  fs::remove(path);
  EXPECT_TRUE(config.ok()) << errorMessage(config.status());
  return config.ok() ? *config : agent::AgentConfig{};
}

TEST(ManifestsConfig, KubernetesVariantLoadsAsCoraldReadsIt) {
  const auto config = load(configMap("coral.yaml"));
  EXPECT_EQ(config.datastore, "kubernetes");
  EXPECT_EQ(config.node_name, "node-1");
  EXPECT_EQ(config.http_address, "127.0.0.1");
  EXPECT_EQ(config.cni_socket, "/var/run/coral/cni.sock");
}

TEST(ManifestsConfig, EtcdVariantLoadsAndItsUrlParses) {
  const auto config = load(configMap("coral-etcd.yaml"));
  auto etcd = datastore::etcd::parseEtcdUrl(config.datastore);
  ASSERT_TRUE(etcd.ok()) << errorMessage(etcd.status());
  EXPECT_TRUE(etcd->tls);
  EXPECT_EQ(etcd->endpoints.size(), 3u);
  for (const auto& file : {etcd->cacert_path, etcd->cert_path, etcd->key_path}) {
    EXPECT_TRUE(file.starts_with("/etc/coral/etcd-tls/")) << file;  // the Secret's mount
  }
}

TEST(ManifestsConfig, AgentLoaderRejectsATypo) {
  // The check above means something only if a wrong key fails.
  Json cm = configMap("coral.yaml");
  cm["data"]["corald.yaml"] = cm["data"]["corald.yaml"].get<std::string>() + "httpPrt: 1\n";
  const fs::path path = fs::temp_directory_path() / fmt::format("corald-bad-{}.yaml", ::getpid());
  std::ofstream(path) << cm["data"]["corald.yaml"].get<std::string>();
  auto config = agent::loadAgentConfig(path.string(), {});
  fs::remove(path);
  EXPECT_FALSE(config.ok());
}

}  // namespace
}  // namespace coral::manifests_test
