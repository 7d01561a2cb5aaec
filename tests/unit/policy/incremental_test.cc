// IncrementalCompiler against the whole-program compiler: random sequences of endpoint
// adds, removals, label/node/interface/address changes, duplicate addresses, pending
// (extra) endpoints, and now and then a policy or namespace change. After every step the
// incremental program and members must equal compile() + computeMembers() of the same
// snapshot, and the change it reports must equal diffPrograms() of the two states. The
// renderers are checked on the same changes: the update text must equal the one from the
// structural diff.
#include <gtest/gtest.h>

#include <random>

#include "policy/compiler.h"
#include "policy/incremental.h"
#include "policy/nftables.h"
#include "tests/unit/policy/policy_world.h"

namespace coral::policy::testing {
namespace {

const char* kPolicies[] = {
    // Kubernetes: app=web from app=api in ns0, named port.
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: "
    "ns0}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - "
    "podSelector: {matchLabels: {app: api}}\n    ports: [{port: http}]\n",
    // Kubernetes: default deny egress in ns1.
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: "
    "ns1}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n",
    // Kubernetes: db from namespaces labelled team=blue.
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: "
    "ns1}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n    - "
    "namespaceSelector: {matchLabels: {team: blue}}\n",
    // Coral global: deny from app=bad, ordered first.
    "apiVersion: coral.network/v1\nkind: GlobalNetworkPolicy\nmetadata: {name: bad}\nspec:\n"
    "  order: 5\n  selector: app != 'none'\n  types: [Ingress]\n  ingress:\n  - action: Deny\n"
    "    source: {selector: app == 'bad'}\n  - action: Pass\n",
    // Coral namespaced: tier=front may reach dns on anything.
    "apiVersion: coral.network/v1\nkind: NetworkPolicy\nmetadata: {name: dns, namespace: ns2}\n"
    "spec:\n  selector: tier == 'front'\n  types: [Egress]\n  egress:\n  - action: Allow\n"
    "    protocol: UDP\n    destination: {ports: [dns]}\n",
};

class World {
 public:
  explicit World(uint32_t seed) : rng_(seed) {
    for (int n = 0; n < 3; ++n) {
      s_.addNamespace({fmt::format("ns{}", n), {{"team", n == 2 ? "red" : "blue"}}});
    }
    s_.setNodeAddresses("n1", {common::IpAddress::v4(0xc0a80101)});
    s_.setNodeAddresses("n2", {common::IpAddress::v4(0xc0a80102)});
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  Endpoint randomEndpoint(int index) {
    static const char* kApps[] = {"web", "api", "db", "bad", "cache"};
    Endpoint e;
    e.namespace_ = fmt::format("ns{}", index % 3);
    e.name = fmt::format("pod{}", index);
    e.node = pick(3) == 0 ? "n2" : "n1";
    e.interface_name = fmt::format("cor{:04x}{}", index, pick(2));
    e.labels = {{"app", kApps[pick(5)]}};
    if (pick(2)) e.labels["tier"] = pick(2) ? "front" : "back";
    // A small address space so that duplicates happen (IP reuse before a record goes).
    e.addresses = {common::IpAddress::v4(0x0a000000u + static_cast<uint32_t>(pick(40)))};
    if (pick(4) == 0) {
      auto v6 = common::IpAddress::parse(fmt::format("fd00::{:x}", pick(40) + 1));
      e.addresses.push_back(*v6);
    }
    if (pick(2)) e.ports.push_back({"http", kProtoTcp, static_cast<uint16_t>(80 + pick(2))});
    if (pick(2)) e.ports.push_back({"dns", kProtoUdp, 53});
    return e;
  }

  // One random mutation of the snapshot or of the extra list.
  void step() {
    const int what = pick(100);
    const int index = pick(30);
    if (what < 40) {
      s_.addEndpoint(randomEndpoint(index));
    } else if (what < 60) {
      s_.removeEndpoint(fmt::format("ns{}/pod{}", index % 3, index));
    } else if (what < 72) {  // label change only
      if (const Endpoint* e = s_.findEndpoint(fmt::format("ns{}/pod{}", index % 3, index))) {
        Endpoint copy = *e;
        copy.labels["app"] = pick(2) ? "web" : "api";
        s_.addEndpoint(std::move(copy));
      }
    } else if (what < 80) {  // extras: a pod being added
      if (extra_.size() < 3) {
        extra_.push_back(randomEndpoint(pick(35)));
      } else {
        extra_.erase(extra_.begin() + pick(static_cast<int>(extra_.size())));
      }
    } else if (what < 88) {  // a copy of the same snapshot (same revisions)
    } else if (what < 92) {  // rebuilt snapshot: equal content, new revisions
      Snapshot rebuilt;
      for (const auto& [name, ns] : s_.namespaces()) rebuilt.addNamespace(ns);
      for (const auto& p : s_.policies()) rebuilt.addPolicy(p);
      for (const auto& e : s_.endpoints()) rebuilt.addEndpoint(e);
      for (const char* node : {"n1", "n2"}) {
        rebuilt.setNodeAddresses(node, s_.nodeAddresses(node));
      }
      s_ = std::move(rebuilt);
    } else if (what < 97) {  // policy added or removed
      const int p = pick(static_cast<int>(std::size(kPolicies)));
      auto docs = model::parseResources(kPolicies[p]);
      ASSERT_TRUE(docs[0].resource.ok());
      if (pick(2)) {
        ASSERT_TRUE(applyResource(s_, *docs[0].resource).ok());
      } else {
        Snapshot probe;
        ASSERT_TRUE(applyResource(probe, *docs[0].resource).ok());
        s_.removePolicy(probe.policies().front().id());
      }
    } else {  // namespace labels
      s_.addNamespace({fmt::format("ns{}", pick(3)), {{"team", pick(2) ? "red" : "blue"}}});
    }
  }

  Snapshot merged() const {
    Snapshot m = s_;
    for (const auto& e : extra_) m.addEndpoint(e);
    return m;
  }

  Snapshot s_;
  std::vector<Endpoint> extra_;
  std::mt19937 rng_;
};

TEST(IncrementalCompiler, EqualsWholeProgramCompilerOverRandomChanges) {
  size_t incremental = 0, full = 0, nonempty = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    World w(seed);
    IncrementalCompiler inc("n1");
    Program before;
    MemberMap before_members;
    for (int step = 0; step < 150; ++step) {
      SCOPED_TRACE(fmt::format("step {}", step));
      w.step();
      if (::testing::Test::HasFatalFailure()) return;
      ProgramChange change = inc.update(w.s_, w.extra_);
      const Snapshot m = w.merged();
      const Program want = compile(m, "n1");
      const MemberMap want_members = computeMembers(want, m);
      ASSERT_EQ(renderNftables(inc.program(), inc.members()), renderNftables(want, want_members))
          << (inc.lastWasFull() ? "full" : "incremental");
      ASSERT_EQ(inc.program(), want);
      ASSERT_EQ(inc.members(), want_members);
      if (step > 0) {
        ProgramChange diff = diffPrograms(before, before_members, want, want_members);
        diff.normalize();
        ASSERT_EQ(change, diff) << (inc.lastWasFull() ? "full" : "incremental");
        EXPECT_EQ(renderNftablesChange(want, change),
                  renderNftablesUpdate(before, before_members, want, want_members));
        (inc.lastWasFull() ? full : incremental)++;
        if (!change.empty()) ++nonempty;
      }
      before = want;
      before_members = want_members;
    }
  }
  std::printf("%zu incremental updates, %zu full, %zu changed something\n", incremental, full,
              nonempty);
  EXPECT_GT(incremental, full);
}

TEST(IncrementalCompiler, OnePodAddedTouchesOnlyItsChainsAndSets) {
  Snapshot s = makeWorld();
  applyYaml(s,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a-from-b, "
            "namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n"
            "    - podSelector: {matchLabels: {pod: b}}\n");
  IncrementalCompiler inc("n1");
  inc.update(s);
  Endpoint b2 = *s.findEndpoint("x/b");
  b2.name = "b2";
  b2.interface_name = "corb2";
  b2.addresses = {common::IpAddress::v4(0x0a0100f0)};
  s.addEndpoint(b2);
  const ProgramChange change = inc.update(s);
  EXPECT_FALSE(inc.lastWasFull());
  EXPECT_EQ(change.endpoints_added, std::vector<std::string>{"x/b2"});
  EXPECT_TRUE(change.policy_chains_added.empty());
  ASSERT_EQ(change.elements_added.size(), 1u);
  EXPECT_EQ(change.elements_added.begin()->second.addresses,
            std::vector<common::IpAddress>{common::IpAddress::v4(0x0a0100f0)});
  const std::string text = renderNftablesChange(inc.program(), change);
  EXPECT_NE(text.find("add chain inet coral wi-x.b2"), std::string::npos) << text;
  EXPECT_NE(text.find("add element inet coral to-wl { \"corb2\" : jump wi-x.b2 }"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("flush"), std::string::npos) << text;
}

}  // namespace
}  // namespace coral::policy::testing
