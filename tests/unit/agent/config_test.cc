#include "agent/config.h"
#include "agent/cni_handler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/strings.h"

namespace coral::agent {
namespace {

std::string writeTemp(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("corald-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(AgentConfigTest, FileThenEnvironment) {
  const auto path = writeTemp("nodeName: n1\nmtu: 1400\nhttpPort: 9100\nlogFormat: json\n");
  auto config = loadAgentConfig(path, {{"CORAL_MTU", "1380"}, {"CORAL_DATASTORE", "etcd://x:1"}});
  std::filesystem::remove(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node_name, "n1");
  EXPECT_EQ(config->mtu, 1380);
  EXPECT_EQ(config->http_port, 9100);
  EXPECT_EQ(config->datastore, "etcd://x:1");
  EXPECT_EQ(config->log_format, "json");
  EXPECT_EQ(config->cni_socket, "/var/run/coral/cni.sock");
}

TEST(AgentConfigTest, VxlanDefaultsFileAndEnvironment) {
  auto defaults = loadAgentConfig("", {});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->vxlan_vni, 4096);
  EXPECT_EQ(defaults->vxlan_port, 4789);
  const auto path = writeTemp("vxlanVNI: 7\nvxlanPort: 8472\n");
  auto config = loadAgentConfig(
      path,
      {{"CORAL_VXLAN_VNI", "9"}, {"CORAL_BGP", "disabled"}, {"CORAL_POLICY_BACKEND", "disabled"}});
  auto bad = loadAgentConfig(path, {{"CORAL_VXLAN_VNI", "16777216"}});
  std::filesystem::remove(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->vxlan_vni, 9);
  EXPECT_EQ(config->vxlan_port, 8472);
  EXPECT_EQ(config->bgp, "disabled");
  EXPECT_EQ(config->policy_backend, "disabled");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(errorMessage(bad.status()).find("vxlanVNI"), std::string::npos)
      << errorMessage(bad.status());
}

TEST(AgentConfigTest, ErrorsNameTheField) {
  const auto path = writeTemp("nodename: n1\nhttpPort: 70000\naddressDetection: guess\n");
  auto config = loadAgentConfig(path, {});
  std::filesystem::remove(path);
  ASSERT_FALSE(config.ok());
  const std::string msg(errorMessage(config.status()));
  EXPECT_NE(msg.find("nodename: unknown field"), std::string::npos) << msg;
  EXPECT_NE(msg.find("httpPort: 70000 is out of range"), std::string::npos) << msg;
  EXPECT_FALSE(loadAgentConfig("", {{"CORAL_HTTP_PORT", "abc"}}).ok());
  EXPECT_FALSE(loadAgentConfig("/nonexistent/corald.yaml", {}).ok());
  auto detection = loadAgentConfig("", {{"CORAL_NODENAME", "n"}});
  ASSERT_TRUE(detection.ok());
  EXPECT_EQ(detection->address_detection, "auto");
}

TEST(AgentConfigTest, DefaultsNodeNameToHostName) {
  auto config = loadAgentConfig("", {});
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->node_name.empty());
}

// The conflist's "mtu" reaches corald with the whole network configuration; 0 leaves the
// choice to corald (its config, then the underlay).
TEST(AgentConfigTest, ConflistMtuOverridesOnlyWhenSet) {
  EXPECT_EQ(
      conflistMtu(R"({"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coral","mtu":1400})"),
      1400u);
  EXPECT_EQ(conflistMtu(R"({"cniVersion":"1.0.0","type":"coral"})"), 0u);
  EXPECT_EQ(conflistMtu(R"({"type":"coral","mtu":0})"), 0u);
  EXPECT_EQ(conflistMtu(R"({"type":"coral","mtu":"1400"})"), 0u);
  EXPECT_EQ(conflistMtu(R"({"type":"coral","mtu":-1})"), 0u);
  EXPECT_EQ(conflistMtu("not json"), 0u);
  EXPECT_EQ(conflistMtu(""), 0u);
}

}  // namespace
}  // namespace coral::agent
