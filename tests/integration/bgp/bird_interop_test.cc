// coral-bgpd against BIRD 2, each in its own network namespace joined by a veth: session,
// IPv4 and IPv6 both ways with 4-octet ASNs, communities and large communities, route
// refresh, TCP MD5 (and a wrong password refused), graceful restart across a SIGKILL of
// coral-bgpd, and coral-bgpd as route reflector for two BIRD clients.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/integration/bgp/bird_harness.h"

namespace coral::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCoralAs = "4200000001";
constexpr const char* kBirdAs = "4200000002";

std::string birdConfig(const std::string& password) {
  return fmt::format(
      R"(
router id 10.99.0.2;
protocol device {{}}
protocol static s4 {{ ipv4; route 10.200.1.0/24 blackhole; }}
protocol static s6 {{ ipv6; route fd00:200:1::/64 blackhole; }}
protocol bgp coral {{
  local 10.99.0.2 as {bird_as};
  neighbor 10.99.0.1 as {coral_as};
  hold time 9;
  connect retry time 1;
  error wait time 1, 3;
  graceful restart on;
  {password}
  ipv4 {{
    import all;
    export filter {{
      if net = 10.200.1.0/24 then {{
        bgp_community.add((65002, 7));
        bgp_large_community.add(({bird_as}, 1, 2));
      }}
      accept;
    }};
  }};
  ipv6 {{ import all; export all; next hop address fd99::2; }};
}}
)",
      fmt::arg("bird_as", kBirdAs), fmt::arg("coral_as", kCoralAs),
      fmt::arg("password", password.empty() ? "" : "password \"" + password + "\";"));
}

std::string coralConfig(const std::string& dir, const std::string& password) {
  return fmt::format(R"(
routerID: 10.99.0.1
asNumber: {coral_as}
listenPort: 179
statusSocket: {dir}/bgpd.sock
prefixes:
  - cidr: 10.100.1.0/24
    communities: ["65001:10", "{coral_as}:5:6"]
  - cidr: fd00:100:1::/64
neighbours:
  - peerIP: 10.99.0.2
    asNumber: {bird_as}
    holdTimeSeconds: 9
    connectRetrySeconds: 1
    nextHopSelfV6: fd99::1
    gracefulRestart: {{enabled: true, restartTimeSeconds: 60}}
{password}
)",
                     fmt::arg("coral_as", kCoralAs), fmt::arg("bird_as", kBirdAs),
                     fmt::arg("dir", dir),
                     fmt::arg("password", password.empty() ? "" : "    password: " + password));
}

class BirdInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_BIRD();
    coral_ns_ = std::make_unique<TestNetns>("cb");
    bird_ns_ = std::make_unique<TestNetns>("bb");
    ASSERT_TRUE(coral_ns_->ok() && bird_ns_->ok());
    ASSERT_TRUE(linkNamespaces(*coral_ns_, "vc", *bird_ns_, "vb"));
    ASSERT_EQ(
        coral_ns_->exec("ip addr add 10.99.0.1/24 dev vc && ip addr add fd99::1/64 dev vc nodad")
            .exit_code,
        0);
    ASSERT_EQ(
        bird_ns_->exec("ip addr add 10.99.0.2/24 dev vb && ip addr add fd99::2/64 dev vb nodad")
            .exit_code,
        0);
    ASSERT_FALSE(dir_.path().empty());
  }

  void startBoth(const std::string& bird_password, const std::string& coral_password) {
    bird_ = std::make_unique<Bird>(*bird_ns_, dir_.path(), "bird", birdConfig(bird_password));
    coral_ = std::make_unique<CoralBgpd>(*coral_ns_, dir_.path(),
                                         coralConfig(dir_.path(), coral_password));
  }

  void TearDown() override {
    coral_.reset();
    bird_.reset();
  }

  std::unique_ptr<TestNetns> coral_ns_, bird_ns_;
  TempDir dir_;
  std::unique_ptr<Bird> bird_;
  std::unique_ptr<CoralBgpd> coral_;
};

TEST_F(BirdInterop, RoutesBothWaysWithCommunitiesAndRefresh) {
  startBoth("", "");
  ASSERT_TRUE(waitUntil([&] { return coral_->established() && bird_->established("coral"); }, 30s))
      << coral_->log() << bird_->birdc("show protocols all coral");
  auto peers = coral_->peers();
  EXPECT_EQ(peers[0]["peerAS"], 4200000002u);
  EXPECT_EQ(peers[0]["families"], nlohmann::json({"ipv4-unicast", "ipv6-unicast"}));

  // BIRD → coral, both families, communities kept.
  ASSERT_TRUE(waitUntil([&] { return !coral_->route("10.200.1.0/24").is_null(); }, 20s));
  auto r4 = coral_->route("10.200.1.0/24");
  const auto& a4 = r4["paths"][0]["attributes"];
  EXPECT_EQ(a4["asPath"], kBirdAs);
  EXPECT_EQ(a4["nextHop"], "10.99.0.2");
  EXPECT_EQ(a4["communities"], nlohmann::json({"65002:7"}));
  EXPECT_EQ(a4["largeCommunities"], nlohmann::json({std::string(kBirdAs) + ":1:2"}));
  ASSERT_TRUE(waitUntil([&] { return !coral_->route("fd00:200:1::/64").is_null(); }, 20s));
  EXPECT_EQ(coral_->route("fd00:200:1::/64")["paths"][0]["attributes"]["nextHop"], "fd99::2");

  // coral → BIRD, both families.
  ASSERT_TRUE(waitUntil([&] { return bird_->hasRoute("10.100.1.0/24"); }, 20s))
      << bird_->birdc("show route all");
  const std::string all4 = bird_->birdc("show route 10.100.1.0/24 all");
  EXPECT_NE(all4.find("BGP.as_path: 4200000001"), std::string::npos) << all4;
  EXPECT_NE(all4.find("(65001,10)"), std::string::npos) << all4;
  EXPECT_NE(all4.find("(4200000001, 5, 6)"), std::string::npos) << all4;
  EXPECT_NE(all4.find("10.99.0.1"), std::string::npos) << all4;
  ASSERT_TRUE(waitUntil([&] { return bird_->hasRoute("fd00:100:1::/64"); }, 20s))
      << bird_->birdc("show route all");
  EXPECT_NE(bird_->birdc("show route fd00:100:1::/64 all").find("fd99::1"), std::string::npos);

  // Route refresh: BIRD asks, coral-bgpd resends, the route stays.
  bird_->birdc("reload in coral");
  ASSERT_TRUE(
      waitUntil([&] { return coral_->log().find("route refresh") != std::string::npos; }, 10s))
      << coral_->log();
  EXPECT_TRUE(bird_->hasRoute("10.100.1.0/24"));
  EXPECT_TRUE(coral_->established());
}

TEST_F(BirdInterop, Md5PasswordsMustMatch) {
  startBoth("s3cret", "s3cret");
  ASSERT_TRUE(waitUntil([&] { return coral_->established() && bird_->established("coral"); }, 30s))
      << coral_->log() << bird_->birdc("show protocols all coral");
  ASSERT_TRUE(waitUntil([&] { return bird_->hasRoute("10.100.1.0/24"); }, 20s));
  coral_.reset();
  bird_.reset();
  startBoth("s3cret", "wrong");
  std::this_thread::sleep_for(8s);
  EXPECT_FALSE(coral_->established()) << coral_->log();
  EXPECT_FALSE(bird_->established("coral"));
}

TEST_F(BirdInterop, GracefulRestartKeepsRoutesAcrossSigkill) {
  startBoth("", "");
  ASSERT_TRUE(waitUntil([&] { return coral_->established() && bird_->established("coral"); }, 30s))
      << coral_->log();
  ASSERT_TRUE(waitUntil([&] { return bird_->hasRoute("10.100.1.0/24"); }, 20s));
  coral_->kill(SIGKILL);
  // BIRD keeps the routes (stale) while coral-bgpd is away ...
  const auto away_until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < away_until) {
    ASSERT_TRUE(bird_->hasRoute("10.100.1.0/24")) << bird_->birdc("show protocols all coral");
    std::this_thread::sleep_for(200ms);
  }
  // ... and through the restart: never withdrawn.
  coral_->start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool up = false;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(bird_->hasRoute("10.100.1.0/24")) << coral_->log();
    ASSERT_TRUE(bird_->hasRoute("fd00:100:1::/64")) << coral_->log();
    if (coral_->established() && bird_->established("coral")) {
      up = true;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(up) << coral_->log();
  // After our End-of-RIB BIRD drops the stale flag; the routes are still there.
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(bird_->hasRoute("10.100.1.0/24"));
  EXPECT_TRUE(bird_->hasRoute("fd00:100:1::/64"));
  EXPECT_NE(coral_->log().find("restarting=true"), std::string::npos);
}

}  // namespace
}  // namespace coral::testing
