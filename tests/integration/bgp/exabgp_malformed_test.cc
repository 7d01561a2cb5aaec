// Malformed UPDATEs from a real ExaBGP (Debian's exabgp, /usr/sbin/exabgp) in its own
// network namespace, built with raw `attribute [ code flags value ]` hex, against
// coral-bgpd: each gets its RFC 7606 action (attribute discard or treat-as-withdraw) and
// the session stays up. Checked through
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

// One route per malformed attribute, each built from raw `attribute [ code flags value ]`
// hex, and a well-formed route last. Attribute discard (route kept without it):
//   AGGREGATOR (7) of 3 bytes, must be 8 on a 4-octet session      RFC 7606 7.7
//   ATOMIC_AGGREGATE (6) of 1 byte, must be empty                    RFC 7606 7.6
// Treat-as-withdraw (route dropped, session kept):
//   ORIGIN (1) value 5                                               RFC 7606 7.1
//   MULTI_EXIT_DISC (4) of 3 bytes                                   RFC 7606 7.4
//   COMMUNITIES (8) without the Optional flag (0x40)                 RFC 7606 3(c), 7.8
//   LARGE_COMMUNITIES (32) of 10 bytes, not a multiple of 12           RFC 8092 5
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
    route 10.202.2.0/24 next-hop 10.97.0.2 community [ 65002:2 ] attribute [ 0x06 0x40 0x00 ];
    route 10.202.11.0/24 next-hop 10.97.0.2 attribute [ 0x01 0x40 0x05 ];
    route 10.202.12.0/24 next-hop 10.97.0.2 attribute [ 0x04 0x80 0x000001 ];
    route 10.202.13.0/24 next-hop 10.97.0.2 attribute [ 0x08 0x40 0xfdea0001 ];
    route 10.202.14.0/24 next-hop 10.97.0.2 attribute [ 0x20 0xc0 0x0000fdea000000010000 ];
    route 10.202.99.0/24 next-hop 10.97.0.2;
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
  // The well-formed route is the last ExaBGP sends; give the others time to be processed.
  ASSERT_TRUE(waitUntil([&] { return !coral.route("10.202.99.0/24").is_null(); }, 20s))
      << coral.log() << exa.log();
  std::this_thread::sleep_for(4s);

  // Attribute discard: the route is there, without the bad attribute, the rest intact.
  const auto r1 = coral.route("10.202.1.0/24");
  ASSERT_FALSE(r1.is_null()) << coral.log();
  const auto& a1 = r1["paths"][0]["attributes"];
  EXPECT_FALSE(a1.contains("aggregator")) << a1.dump();
  EXPECT_EQ(a1["communities"], nlohmann::json({"65002:1"}));
  EXPECT_EQ(a1["asPath"], "65002");
  EXPECT_EQ(a1["nextHop"], "10.97.0.2");
  const auto r2 = coral.route("10.202.2.0/24");
  ASSERT_FALSE(r2.is_null()) << coral.log();
  EXPECT_FALSE(r2["paths"][0]["attributes"].contains("atomicAggregate")) << r2.dump();
  EXPECT_EQ(r2["paths"][0]["attributes"]["communities"], nlohmann::json({"65002:2"}));

  // Treat-as-withdraw: the routes are not there.
  for (const char* prefix :
       {"10.202.11.0/24", "10.202.12.0/24", "10.202.13.0/24", "10.202.14.0/24"}) {
    EXPECT_TRUE(coral.route(prefix).is_null()) << prefix << " " << coral.route(prefix).dump();
  }

  const std::string log = coral.log();
  for (const char* line :
       {"attribute-discard (3/5): AGGREGATOR", "attribute-discard (3/5): ATOMIC_AGGREGATE",
        "treat-as-withdraw (3/6): ORIGIN", "treat-as-withdraw (3/5): MULTI_EXIT_DISC",
        "treat-as-withdraw (3/4): COMMUNITIES flags",
        "treat-as-withdraw (3/5): LARGE_COMMUNITIES"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << "\n" << log;
  }

  // The session survived all of them: three prefixes accepted, no NOTIFICATION either way.
  auto peers = coral.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0]["state"], "Established") << peers.dump();
  EXPECT_EQ(peers[0]["prefixesAccepted"], 3) << peers.dump();
  EXPECT_GE(peers[0]["uptimeSeconds"].get<int64_t>(), 4) << peers.dump();
  EXPECT_EQ(coral.log().find("session down"), std::string::npos) << coral.log();
  EXPECT_EQ(exa.log().find("otification"), std::string::npos) << exa.log();
}

}  // namespace
}  // namespace coral::testing
