// PolicyDataplane next to other programs in the same node namespace: another program's
// nftables table and iptables rules stay exactly as they were through applies, updates and
// full resyncs; a deleted or edited `table inet coral` (or CORAL-* chain) is repaired by
// resync; an established flow survives the repair; ensureEndpoint programs a new pod's
// chains before its endpoint reaches the snapshot; counters are readable.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "agent/policy/iptables_dataplane.h"
#include "agent/policy/policy_dataplane.h"
#include "tests/integration/policy/policy_lab.h"

namespace coral::policy::testing {
namespace {

using coral::testing::ExecResult;

const char* kDenyX =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: "
    "x}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";

// Another program's state: an nftables table with a base chain and an iptables chain with
// rules, as a firewall or kube-proxy would leave them.
void installTheirs(const TestNetns& ns) {
  const std::string file = "/tmp/coral-theirs-" + std::to_string(::getpid()) + ".nft";
  {
    std::ofstream out(file);
    out << "table inet theirs {\n  chain fw {\n"
           "    type filter hook forward priority -10; policy accept;\n"
           "    ip saddr 198.51.100.1 counter drop comment \"theirs\"\n  }\n}\n";
  }
  ExecResult r =
      ns.exec("nft -f " + file +
              " && iptables -N THEIRS && iptables -A THEIRS -s 198.51.100.2 -j DROP && "
              "iptables -A FORWARD -j THEIRS && ip6tables -A INPUT -s 2001:db8::1 -j DROP");
  std::filesystem::remove(file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// Listing lines sorted: a rewrite may list chains in another order.
std::string sortedLines(const std::string& text) {
  std::vector<std::string> lines;
  for (auto line : split(text, '\n')) lines.emplace_back(line);
  std::sort(lines.begin(), lines.end());
  return join(lines, "\n");
}

// Their state, printed without counters or timestamps.
std::string theirs(const TestNetns& ns) {
  ExecResult nft = ns.exec("nft -s list table inet theirs");
  ExecResult ipt = ns.exec("iptables-save -t filter | grep -v \"^#\" | grep -v CORAL");
  ExecResult ip6 = ns.exec("ip6tables-save -t filter | grep -v \"^#\" | grep -v CORAL");
  return nft.output + "\n" + ipt.output + "\n" + ip6.output;
}

Snapshot withPolicy(const Snapshot& world, const std::string& yaml) {
  Snapshot s = world;
  applyYaml(s, yaml);
  return s;
}

class PolicyCoexistence : public ::testing::TestWithParam<std::string> {};

TEST_P(PolicyCoexistence, OthersUntouchedAndDriftRepaired) {
  CORAL_REQUIRE_ROOT();
  TestNetns node("co");
  ASSERT_TRUE(node.ok());
  ASSERT_NO_FATAL_FAILURE(installTheirs(node));
  const std::string before = theirs(node);
  ASSERT_NE(before.find("theirs"), std::string::npos) << before;
  auto dp = agent::makePolicyDataplane(GetParam(), "n1", node.path());
  ASSERT_TRUE(dp.ok()) << dp.status();
  const Snapshot world = makeWorld();

  ASSERT_TRUE((*dp)->apply(withPolicy(world, kDenyX)).ok());
  EXPECT_EQ(theirs(node), before);
  auto resynced = (*dp)->resync();
  ASSERT_TRUE(resynced.ok()) << resynced.status();
  EXPECT_FALSE(*resynced) << "nothing drifted";

  // An update that removes the policy, then one that brings it back.
  ASSERT_TRUE((*dp)->apply(world).ok());
  ASSERT_TRUE((*dp)->apply(withPolicy(world, kDenyX)).ok());
  EXPECT_EQ(theirs(node), before);
  resynced = (*dp)->resync();
  ASSERT_TRUE(resynced.ok());
  EXPECT_FALSE(*resynced);

  // Someone deletes or edits our state: resync puts it back, and only ours.
  const bool nft = GetParam() == "nftables";
  const std::string ours_cmd = nft ? "nft -s list table inet coral"
                                   : "iptables-save -t filter | grep CORAL | grep -v \"^#\"";
  const std::string ours = sortedLines(node.exec(ours_cmd).output);
  for (const char* vandalism :
       {"nft delete table inet coral", "nft flush chain inet coral wi-x.a",
        "iptables -F CORAL-FORWARD", "iptables -D FORWARD -j CORAL-FORWARD"}) {
    const bool is_nft = std::string(vandalism).starts_with("nft");
    if (is_nft != nft) continue;
    SCOPED_TRACE(vandalism);
    ASSERT_EQ(node.exec(vandalism).exit_code, 0);
    resynced = (*dp)->resync();
    ASSERT_TRUE(resynced.ok()) << resynced.status();
    EXPECT_TRUE(*resynced) << "the drift was not noticed";
    EXPECT_EQ(sortedLines(node.exec(ours_cmd).output), ours);
    EXPECT_EQ(theirs(node), before);
    resynced = (*dp)->resync();
    ASSERT_TRUE(resynced.ok());
    EXPECT_FALSE(*resynced);
  }

  // CNI ADD: a new pod of x gets its chains (default deny) before its endpoint arrives.
  Endpoint fresh;
  fresh.namespace_ = "x";
  fresh.name = "new";
  fresh.node = "n1";
  fresh.interface_name = "cornew";
  fresh.addresses = {*common::IpAddress::parse("10.1.0.9")};
  const Snapshot current = withPolicy(world, kDenyX);
  ASSERT_TRUE((*dp)->ensureEndpoint(current, fresh).ok());
  auto find_new = [&] {
    return nft ? node.exec("nft list chain inet coral wi-x.new").output
               : node.exec("iptables-save -t filter | grep \"x/new ingress\"").output;
  };
  if (nft) {
    // nftables stages it first (policy/staging.h): the shared staged chains deny it until
    // consolidate() gives it its own chains.
    auto staged_deny = [&] { return node.exec("nft list set inet coral staged-deny-in").output; };
    EXPECT_EQ((*dp)->staged(), 1u);
    EXPECT_NE(staged_deny().find("cornew"), std::string::npos) << staged_deny();
    EXPECT_EQ(find_new().find("default deny"), std::string::npos) << "no own chain yet";
    ASSERT_TRUE((*dp)->consolidate().ok());
    EXPECT_EQ((*dp)->staged(), 0u);
    EXPECT_EQ(staged_deny().find("cornew"), std::string::npos) << staged_deny();
  }
  EXPECT_NE(find_new().find("default deny"), std::string::npos) << find_new();
  ASSERT_TRUE((*dp)->apply(current).ok());  // the endpoint's WEP has not arrived yet
  EXPECT_NE(find_new().find("default deny"), std::string::npos) << "pending endpoint dropped";
  (*dp)->forgetEndpoint("x/new");
  ASSERT_TRUE((*dp)->apply(current).ok());
  EXPECT_EQ(find_new().find("default deny"), std::string::npos);

  // Counters: every rule of x/a's chains and the policy chains they use.
  auto counters = (*dp)->counters("x/a");
  ASSERT_TRUE(counters.ok()) << counters.status();
  EXPECT_FALSE(counters->empty());
  bool saw_default_deny = false;
  for (const auto& c : *counters) {
    EXPECT_TRUE(c.chain == "wi-x.a" || c.chain == "we-x.a" || c.chain.starts_with("pi-"))
        << c.chain;
    saw_default_deny = saw_default_deny || c.comment.find("default deny") != std::string::npos;
  }
  EXPECT_TRUE(saw_default_deny);
  EXPECT_EQ(theirs(node), before);
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyCoexistence, ::testing::Values("nftables", "iptables"),
                         [](const auto& info) { return info.param; });

// A full rewrite (repair after someone deleted our table) keeps established flows: conntrack
// survives the transaction and endpoint chains accept established packets first.
TEST(PolicyResync, EstablishedFlowSurvivesRepair) {
  CORAL_REQUIRE_ROOT();
  PolicyLab lab;
  ASSERT_EQ(lab.build(), "");
  auto dp = agent::makePolicyDataplane("nftables", "n1", lab.node("n1").path());
  ASSERT_TRUE(dp.ok()) << dp.status();
  ASSERT_TRUE((*dp)->apply(lab.world()).ok());
  // A UDP flow x/b -> y/a port 80 (both on n1): established after the first reply.
  auto flow = lab.openUdpFlow("x/b", "y/a", 80);
  ASSERT_TRUE(flow.ok()) << flow.status();
  ASSERT_TRUE(lab.exchange(**flow, 1000)) << "no reply before any policy";
  // y now denies all ingress; the table is deleted behind our back and repaired.
  Snapshot denied = lab.world();
  applyYaml(denied,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, "
            "namespace: y}\nspec:\n  podSelector: {}\n");
  ASSERT_TRUE((*dp)->apply(denied).ok());
  ASSERT_EQ(lab.node("n1").exec("nft delete table inet coral").exit_code, 0);
  auto repaired = (*dp)->resync();
  ASSERT_TRUE(repaired.ok() && *repaired);
  EXPECT_TRUE(lab.exchange(**flow, 1000)) << "the established flow was cut";
  auto fresh = lab.openUdpFlow("x/b", "y/a", 80);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(lab.exchange(**fresh, 300)) << "a new flow passed the deny";
}

}  // namespace
}  // namespace coral::policy::testing
