// Malformed UPDATEs from a real ExaBGP (Debian's exabgp, /usr/sbin/exabgp) in its own
// network namespace, built with raw `attribute [ code flags value ]` hex, against
// coral-bgpd: each gets its RFC 7606 action and the session stays up. Checked through
// coral-bgpd's status socket (what `coralctl bgp peers/routes -o json` reads).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/integration/bgp/bird_harness.h"

namespace coral::testing {
namespace {

using namespace std::chrono_literals;

#define CORAL_REQUIRE_EXABGP()                                                    \
  do {                                                                            \
    CORAL_REQUIRE_ROOT();                                                         \
    if (!std::filesystem::exists("/usr/sbin/exabgp")) {                           \
      FAIL() << "/usr/sbin/exabgp is missing: install the Debian package exabgp"; \
    }                                                                             \
  } while (0)

// ExaBGP in a namespace, by pid. Debian's package runs it as `exabgp CONFIG` in the
// foreground; as root it would drop to the user `exabgp` and open named pipes for its
// CLI, so both are turned off through its environment variables.
class ExaBgp {
 public:
  ExaBgp(const TestNetns& ns, const std::string& dir, const std::string& config)
      : conf_(dir + "/exabgp.conf"), log_(dir + "/exabgp.log") {
    writeFile(conf_, config);
    // sh execs env, env execs ip, ip execs exabgp: the pid is exabgp's.
    proc_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/bin/sh", "-c",
        "exec /usr/bin/env exabgp_daemon_drop=false exabgp_daemon_daemonize=false "
        "exabgp_api_cli=false exabgp_log_packets=true /usr/sbin/ip netns exec " +
            ns.name() + " /usr/sbin/exabgp " + conf_ + " >>" + log_ + " 2>&1"});
  }
  ~ExaBgp() { proc_.reset(); }
  std::string log() const { return readFile(log_); }

 private:
  std::string conf_, log_;
  std::unique_ptr<ChildProcess> proc_;
};

// AGGREGATOR (7, optional transitive) must be 8 bytes on a 4-octet session: 3 is
// malformed, RFC 7606 7.7 says discard the attribute and keep the route. ORIGIN (1,
// well-known) with value 5 is malformed, RFC 7606 7.1 says treat-as-withdraw.
constexpr const char* kExaBgpConfig = R"(
neighbor 10.97.0.1 {{
  router-id 10.97.0.2;
  local-address 10.97.0.2;
  local-as 65002;
  peer-as 65001;
  hold-time 9;
  family {{ ipv4 unicast; }}
  static {{
    route 10.202.1.0/24 next-hop 10.97.0.2 community [ 65002:1 ] attribute [ 0x07 0xc0 0x0000fd ];
    route 10.202.2.0/24 next-hop 10.97.0.2 attribute [ 0x01 0x40 0x05 ];
    route 10.202.3.0/24 next-hop 10.97.0.2;
  }}
}}
)";

std::string coralConfig(const std::string& dir) {
  return fmt::format(R"(
routerID: 10.97.0.1
asNumber: 65001
listenPort: 179
statusSocket: {dir}/bgpd.sock
neighbours:
  - peerIP: 10.97.0.2
    asNumber: 65002
    holdTimeSeconds: 9
    connectRetrySeconds: 1
)",
                     fmt::arg("dir", dir));
}

TEST(ExaBgpMalformed, AttributeDiscardAndTreatAsWithdrawKeepTheSession) {
  CORAL_REQUIRE_EXABGP();
  TestNetns coral_ns("ce"), exa_ns("ee");
  ASSERT_TRUE(coral_ns.ok() && exa_ns.ok());
  ASSERT_TRUE(linkNamespaces(coral_ns, "vc", exa_ns, "ve"));
  ASSERT_EQ(coral_ns.exec("ip addr add 10.97.0.1/24 dev vc").exit_code, 0);
  ASSERT_EQ(exa_ns.exec("ip addr add 10.97.0.2/24 dev ve").exit_code, 0);
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());

  CoralBgpd coral(coral_ns, dir.path(), coralConfig(dir.path()));
  ExaBgp exa(exa_ns, dir.path(), fmt::format(kExaBgpConfig));

  ASSERT_TRUE(waitUntil([&] { return coral.established(); }, 30s)) << coral.log() << exa.log();
  // The well-formed route is the last ExaBGP sends: once it is here, all three arrived.
  ASSERT_TRUE(waitUntil([&] { return !coral.route("10.202.3.0/24").is_null(); }, 20s))
      << coral.log() << exa.log();

  // Bad AGGREGATOR length: attribute discarded, route accepted with the rest intact.
  const auto r1 = coral.route("10.202.1.0/24");
  ASSERT_FALSE(r1.is_null()) << coral.log();
  const auto& a1 = r1["paths"][0]["attributes"];
  EXPECT_FALSE(a1.contains("aggregator")) << a1.dump();
  EXPECT_EQ(a1["communities"], nlohmann::json({"65002:1"}));
  EXPECT_EQ(a1["asPath"], "65002");
  EXPECT_EQ(a1["nextHop"], "10.97.0.2");

  // Bad ORIGIN value: treat-as-withdraw, the route is not there.
  EXPECT_TRUE(coral.route("10.202.2.0/24").is_null()) << coral.route("10.202.2.0/24").dump();

  const std::string log = coral.log();
  EXPECT_NE(log.find("attribute-discard (3/5): AGGREGATOR"), std::string::npos) << log;
  EXPECT_NE(log.find("treat-as-withdraw (3/6): ORIGIN"), std::string::npos) << log;

  // The session survived both, a few keepalives later, with two prefixes accepted.
  std::this_thread::sleep_for(4s);
  auto peers = coral.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0]["state"], "Established") << peers.dump();
  EXPECT_EQ(peers[0]["prefixesAccepted"], 2) << peers.dump();
  EXPECT_GE(peers[0]["uptimeSeconds"].get<int64_t>(), 4) << peers.dump();
  EXPECT_EQ(coral.log().find("session down"), std::string::npos) << coral.log();
  EXPECT_EQ(exa.log().find("otification"), std::string::npos) << exa.log();
}

}  // namespace
}  // namespace coral::testing
