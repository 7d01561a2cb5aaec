// corald end to end: two node namespaces joined by a veth underlay, a real corald in
// each, pods as namespaces attached through the real coral-cni binary, routes between
// nodes from the datastore's block affinities. Every namespace and process is the
// test's own and removed on every path.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "datastore/file/file_backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/support/child_process.h"
#include "tests/support/corald_process.h"
#include "tests/support/netns.h"

namespace coral::testing {
namespace {

class CoraldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "agent" / "corald"));
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "cni" / "coral-cni"));
    n1_ = std::make_unique<TestNetns>("n1");
    n2_ = std::make_unique<TestNetns>("n2");
    for (const char* p : {"pa", "pb", "pc"}) pods_.push_back(std::make_unique<TestNetns>(p));
    ASSERT_TRUE(n1_->ok() && n2_->ok());
    ASSERT_TRUE(linkUnderlay(*n1_, *n2_));

    store_url_ = "file://" + tmp_.path() + "/store";
    auto backend = datastore::openBackend(store_url_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    datastore::ResourceStore store(**backend);
    for (auto& doc : model::parseResources(R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.244.0.0/16, blockSize: 26}
---
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:244::/48"}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: c, ports: [{name: http, containerPort: 80}]}]
)")) {
      ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();
      ASSERT_TRUE(store.apply(*doc.resource).ok());
    }
    n1d_ = startCorald(*n1_, "n1");
    n2d_ = startCorald(*n2_, "n2");
    ASSERT_TRUE(n1d_->waitReady()) << n1d_->log();
    ASSERT_TRUE(n2d_->waitReady()) << n2d_->log();
  }

  std::unique_ptr<CoraldProcess> startCorald(const TestNetns& ns, const std::string& node) {
    auto p = std::make_unique<CoraldProcess>(
        ns,
        std::map<std::string, std::string>{{"CORAL_NODENAME", node},
                                           {"CORAL_DATASTORE", store_url_},
                                           {"CORAL_CNI_SOCKET", socket(node)},
                                           {"CORAL_HTTP_PORT", "9099"},
                                           {"CORAL_LOG_LEVEL", "debug"}},
        tmp_.path() + "/" + node + ".log");
    EXPECT_TRUE(p->start());
    return p;
  }

  std::string socket(const std::string& node) const { return tmp_.path() + "/" + node + ".sock"; }
  std::string conf(const std::string& node, const std::string& version = "1.0.0") const {
    return R"({"cniVersion": ")" + version + R"(", "name": "coral", "type": "coral", "socket": ")" +
           socket(node) + R"("})";
  }

  TempDir tmp_;
  std::string store_url_;
  std::unique_ptr<TestNetns> n1_, n2_;
  std::vector<std::unique_ptr<TestNetns>> pods_;
  std::unique_ptr<CoraldProcess> n1d_, n2d_;
};

TEST_F(CoraldTest, PodsConnectOnOneNodeAndAcrossNodesThenDelCleansUp) {
  auto a = runCni("ADD", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
  ASSERT_EQ(a.exit_code, 0) << a.out << n1d_->log();
  auto b = runCni("ADD", "cid-b", pods_[1]->path(), "shop", "b", conf("n1"));
  ASSERT_EQ(b.exit_code, 0) << b.out;
  auto c = runCni("ADD", "cid-c", pods_[2]->path(), "shop", "c", conf("n2"));
  ASSERT_EQ(c.exit_code, 0) << c.out << n2d_->log();

  auto result = model::Json::parse(a.out);
  ASSERT_EQ(result["ips"].size(), 2u) << a.out;
  const std::string a4 = result["ips"][0]["address"].get<std::string>();
  EXPECT_EQ(a4.substr(0, 7), "10.244.");
  EXPECT_EQ(result["ips"][0]["gateway"], "169.254.1.1");
  auto c_ips = model::Json::parse(c.out)["ips"];
  const std::string c4 = c_ips[0]["address"].get<std::string>();
  const std::string c6 = c_ips[1]["address"].get<std::string>();
  auto strip = [](std::string s) { return s.substr(0, s.find('/')); };

  // Routes between nodes come from block affinities: wait for n1 to learn n2's block.
  bool routed = false;
  for (int i = 0; i < 100 && !routed; ++i) {
    routed = n1_->exec("ip route show proto 77").output.find("via 10.99.0.2") != std::string::npos;
    if (!routed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(routed) << n1_->exec("ip route").output;
  EXPECT_EQ(pods_[0]
                ->exec("ping -c1 -W2 " + strip(model::Json::parse(b.out)["ips"][0]["address"]))
                .exit_code,
            0)
      << "same node";
  EXPECT_EQ(pods_[0]->exec("ping -c1 -W2 " + strip(c4)).exit_code, 0) << "across nodes v4";
  bool v6 = false;
  for (int i = 0; i < 50 && !v6; ++i) {
    v6 = pods_[0]->exec("ping -6 -c1 -W1 " + strip(c6)).exit_code == 0;
  }
  EXPECT_TRUE(v6) << "across nodes v6\n" << n1_->exec("ip -6 route").output;

  // The endpoint record carries the pod's labels and named ports.
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  auto weps = store.list<model::WorkloadEndpoint>("shop").value();
  ASSERT_EQ(weps.size(), 3u);
  const auto& wa =
      weps[0].spec.pod == "a" ? weps[0] : (weps[1].spec.pod == "a" ? weps[1] : weps[2]);
  EXPECT_EQ(wa.metadata.labels.at("app"), "web");
  ASSERT_EQ(wa.spec.ports.size(), 1u);
  EXPECT_EQ(wa.spec.ports[0].name, "http");

  // coralctl node status reads corald's status service; the nodes mesh over iBGP.
  ExecResult status;
  for (int i = 0; i < 50; ++i) {
    status =
        shell((buildDir() / "ctl" / "coralctl").string() + " node status --socket " + socket("n1"));
    if (status.output.find("Established") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("node n1: ready"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(strip(a4)), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("local-block"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("Established"), std::string::npos) << "node-to-node mesh\n"
                                                                  << status.output << n1d_->log();

  // CHECK passes, then fails once the pod's address is gone.
  EXPECT_EQ(runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  pods_[0]->exec("ip addr flush dev eth0");
  auto broken = runCni("CHECK", "cid-a", pods_[0]->path(), "shop", "a", conf("n1"));
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.out.find("missing"), std::string::npos) << broken.out;

  // DEL removes every trace; DEL again succeeds.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(runCni("DEL", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  }
  EXPECT_EQ(pods_[0]->exec("ip link show eth0").exit_code, 1);
  EXPECT_EQ(n1_->exec("ip route show proto 77").output.find(strip(a4) + " dev"), std::string::npos);
  EXPECT_EQ(store.list<model::WorkloadEndpoint>("shop")->size(), 2u);
  // DEL of a container whose namespace is already gone still succeeds.
  EXPECT_EQ(runCni("DEL", "cid-zz", "/var/run/netns/gone", "shop", "zz", conf("n1")).exit_code, 0);
}

TEST_F(CoraldTest, FailedAddLeavesNothingBehind) {
  auto bad = runCni("ADD", "cid-bad", "/var/run/netns/does-not-exist", "shop", "x", conf("n1"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("\"code\""), std::string::npos) << bad.out;
  auto backend = datastore::openBackend(store_url_).value();
  datastore::ResourceStore store(*backend);
  EXPECT_TRUE(store.list<model::WorkloadEndpoint>()->empty());
  EXPECT_TRUE(store.list<model::IPAMHandle>()->empty());
  EXPECT_EQ(n1_->exec("ip -o link show | grep -c cor").output, "0\n");
}

TEST_F(CoraldTest, RestartKeepsPodsWorkingAndKernelStateUnchanged) {
  ASSERT_EQ(runCni("ADD", "cid-a", pods_[0]->path(), "shop", "a", conf("n1")).exit_code, 0);
  auto c = runCni("ADD", "cid-c", pods_[2]->path(), "shop", "c", conf("n2"));
  ASSERT_EQ(c.exit_code, 0);
  const std::string target = model::Json::parse(c.out)["ips"][0]["address"].get<std::string>();
  const std::string c4 = target.substr(0, target.find('/'));
  for (int i = 0; i < 100; ++i) {
    if (pods_[0]->exec("ping -c1 -W1 " + c4).exit_code == 0) break;
  }
  const std::string routes_before = n1_->exec("ip route; ip -6 route").output;
  const std::string links_before = n1_->exec("ip -o link show | cut -d: -f2").output;
  // A ping across nodes runs while corald on n1 is killed and started again.
  const std::string ping_log = tmp_.path() + "/ping.log";
  auto ping = shell("ip netns exec " + pods_[0]->name() + " ping -i 0.05 -c 80 " + c4 + " > " +
                    ping_log + " 2>&1 & echo $!");
  n1d_->kill(SIGKILL);
  n1d_ = startCorald(*n1_, "n1");
  ASSERT_TRUE(n1d_->waitReady()) << n1d_->log();
  shell("while kill -0 " + std::string(trim(ping.output)) + " 2>/dev/null; do sleep 0.1; done");
  const std::string ping_out = shell("cat " + ping_log).output;
  EXPECT_NE(ping_out.find("80 packets transmitted, 80 received"), std::string::npos) << ping_out;
  EXPECT_EQ(n1_->exec("ip route; ip -6 route").output, routes_before);
  EXPECT_EQ(n1_->exec("ip -o link show | cut -d: -f2").output, links_before);
  EXPECT_NE(n1d_->httpGet("/metrics").find("coral_endpoints 1"), std::string::npos);
}

}  // namespace
}  // namespace coral::testing
