// corald on one node, seen from outside: a real corald in each of two node namespaces
// joined by a veth underlay (10.99.0.0/24, fd00:99::/64), meshed over iBGP, routes from
// the datastore. Checks that blocks of nodes beyond the underlay's subnet (another data
// center) are left to BGP, logged once and never retried every round, and that SIGTERM
// stops corald within a second, exit code 0, after Cease, keeping the kernel's routes.
// Every namespace and process is the test's own and removed on every path.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "datastore/file/file_backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/support/child_process.h"
#include "tests/support/corald_process.h"
#include "tests/support/netns.h"

namespace coral::testing {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class CoraldNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "agent" / "corald"));
    n1_ = std::make_unique<TestNetns>("cn1");
    n2_ = std::make_unique<TestNetns>("cn2");
    ASSERT_TRUE(n1_->ok() && n2_->ok());
    ASSERT_TRUE(linkUnderlay(*n1_, *n2_));
    store_url_ = "file://" + tmp_.path() + "/store";
    apply(R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v4}
spec: {cidr: 10.244.0.0/16, blockSize: 26}
---
apiVersion: coral.network/v1
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:244::/48"}
)");
    n1d_ = startCorald(*n1_, "n1");
    n2d_ = startCorald(*n2_, "n2");
    ASSERT_TRUE(n1d_->waitReady()) << n1d_->log();
    ASSERT_TRUE(n2d_->waitReady()) << n2d_->log();
  }

  void apply(const std::string& yaml) {
    auto backend = datastore::openBackend(store_url_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    datastore::ResourceStore store(**backend);
    for (auto& doc : model::parseResources(yaml)) {
      ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();
      ASSERT_TRUE(store.apply(*doc.resource).ok());
    }
  }

  std::unique_ptr<CoraldProcess> startCorald(const TestNetns& ns, const std::string& node) {
    auto p = std::make_unique<CoraldProcess>(
        ns,
        std::map<std::string, std::string>{{"CORAL_NODENAME", node},
                                           {"CORAL_DATASTORE", store_url_},
                                           {"CORAL_CNI_SOCKET", tmp_.path() + "/" + node + ".sock"},
                                           {"CORAL_HTTP_PORT", "9099"},
                                           {"CORAL_LOG_LEVEL", "debug"}},
        tmp_.path() + "/" + node + ".log");
    EXPECT_TRUE(p->start());
    return p;
  }

  // Polls until `done` holds (bounded).
  template <typename Fn>
  bool eventually(Fn done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }

  TempDir tmp_;
  std::string store_url_;
  std::unique_ptr<TestNetns> n1_, n2_;
  std::unique_ptr<CoraldProcess> n1d_, n2d_;
};

TEST_F(CoraldNodeTest, BlocksOfNodesBeyondTheUnderlaySubnetAreLeftToBgp) {
  // n3 shares the underlay subnet; d2 is in another data center (another subnet, reached
  // only through routers). Each owns a v4 and a v6 block.
  const std::string nodes = R"(
apiVersion: coral.network/v1
kind: Node
metadata: {name: n3, labels: {round: "0"}}
spec: {ipv4Address: 10.99.0.3/24, ipv6Address: "fd00:99::3/64"}
---
apiVersion: coral.network/v1
kind: Node
metadata: {name: d2, labels: {round: "0"}}
spec: {ipv4Address: 10.102.0.11/24, ipv6Address: "fd00:102::11/64"}
---
apiVersion: coral.network/v1
kind: IPAMBlock
metadata: {name: 10-244-64-0-26}
spec: {cidr: 10.244.64.0/26, affinity: "host:n3"}
---
apiVersion: coral.network/v1
kind: IPAMBlock
metadata: {name: fd00-244--100-122}
spec: {cidr: "fd00:244::100/122", affinity: "host:n3"}
---
apiVersion: coral.network/v1
kind: IPAMBlock
metadata: {name: 10-244-128-0-26}
spec: {cidr: 10.244.128.0/26, affinity: "host:d2"}
---
apiVersion: coral.network/v1
kind: IPAMBlock
metadata: {name: fd00-244--200-122}
spec: {cidr: "fd00:244::200/122", affinity: "host:d2"}
)";
  apply(nodes);
  auto routes = [&] {
    return n1_->exec("ip route show proto 77; ip -6 route show proto 77").output;
  };
  ASSERT_TRUE(eventually([&] {
    const std::string r = routes();
    return r.find("10.244.64.0/26 via 10.99.0.3") != std::string::npos &&
           r.find("fd00:244::100/122 via fd00:99::3") != std::string::npos;
  })) << routes()
      << n1d_->log();

  // More rounds: every change to a Node reconciles.
  for (int round = 1; round <= 3; ++round) {
    std::string next = nodes;
    for (size_t at = next.find("round: \"0\""); at != std::string::npos;
         at = next.find("round: \"0\"", at + 1)) {
      next.replace(at, 10, "round: \"" + std::to_string(round) + "\"");
    }
    apply(next);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const std::string r = routes();
  EXPECT_EQ(r.find("10.244.128.0"), std::string::npos) << r;
  EXPECT_EQ(r.find("fd00:244::200"), std::string::npos) << r;
  const std::string log = n1d_->log();
  EXPECT_EQ(count(log, "cannot install route"), 0u) << log;
  // Logged once per block and owner, not once per round.
  EXPECT_EQ(count(log, "route left to BGP"), 2u) << log;
  EXPECT_EQ(count(log, "route=10.244.128.0/26 node=d2 via=10.102.0.11"), 1u) << log;
  EXPECT_EQ(count(log, "route=fd00:244::200/122 node=d2 via=fd00:102::11"), 1u) << log;

  // d2 moves into the underlay's subnet: its blocks are routed via it from then on.
  std::string moved = nodes;
  moved.replace(moved.find("10.102.0.11/24"), 14, "10.99.0.11/24");
  apply(moved);
  ASSERT_TRUE(eventually([&] {
    return routes().find("10.244.128.0/26 via 10.99.0.11") != std::string::npos;
  })) << routes()
      << n1d_->log();
}

TEST_F(CoraldNodeTest, SigtermStopsWithinASecondAfterCeaseKeepingRoutes) {
  // n1 owns a block (a blackhole route to keep) and its mesh session to n2 is up, so
  // stopping sends a Cease.
  apply(R"(
apiVersion: coral.network/v1
kind: IPAMBlock
metadata: {name: 10-244-0-0-26}
spec: {cidr: 10.244.0.0/26, affinity: "host:n1"}
)");
  ASSERT_TRUE(eventually([&] {
    return n1_->exec("ip route show proto 77").output.find("blackhole 10.244.0.0/26") !=
               std::string::npos &&
           n1d_->log().find("bgp: session established") != std::string::npos;
  })) << n1_->exec("ip route show proto 77").output
      << n1d_->log();
  const std::string routes_before = n1_->exec("ip route show proto 77").output;

  const auto t0 = std::chrono::steady_clock::now();
  const std::optional<int> code = n1d_->stopWithin(SIGTERM, std::chrono::seconds(1));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(code.has_value()) << "corald still running 1 s after SIGTERM\n" << n1d_->log();
  EXPECT_EQ(*code, 0) << n1d_->log();
  RecordProperty("stop_ms", static_cast<int>(ms));
  std::cout << "corald stopped in " << ms << " ms\n";
  const std::string log = n1d_->log();
  EXPECT_NE(log.find("stopped by operator"), std::string::npos) << log;
  EXPECT_NE(log.find("corald stopped"), std::string::npos) << log;
  // Graceful restart: Coral's routes stay in the kernel.
  EXPECT_EQ(n1_->exec("ip route show proto 77").output, routes_before);
}

}  // namespace
}  // namespace coral::testing
