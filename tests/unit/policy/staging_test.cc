// Stager (policy/staging.h): which endpoint changes become staging set elements, which
// still need chains, and that consolidation and structural changes give every staged
// endpoint its chains. The kernel side (the staged chains decide like the endpoint chains,
// the netlink and text writers agree) is in tests/integration/policy.
#include "policy/staging.h"

#include <gtest/gtest.h>

#include <functional>

#include "policy/compiler.h"
#include "policy/nftables.h"
#include "tests/unit/policy/policy_world.h"

namespace coral::policy::testing {
namespace {

const char* kDenyXIngress =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: "
    "x}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";

Endpoint newPod(const std::string& ns, const std::string& name, const std::string& iface) {
  Endpoint e;
  e.namespace_ = ns;
  e.name = name;
  e.node = "n1";
  e.interface_name = iface;
  e.labels = {{"pod", "a"}};
  e.addresses = {*common::IpAddress::parse("10.9.0.1")};
  return e;
}

struct State {
  Program program;
  MemberMap members;
};
State stateOf(const Snapshot& s) {
  State st{compile(s, "n1"), {}};
  st.members = computeMembers(st.program, s);
  return st;
}
ProgramChange diff(const State& a, const State& b) {
  return diffPrograms(a.program, a.members, b.program, b.members);
}

std::vector<std::string> names(const std::map<std::string, std::vector<std::string>>& m,
                               const std::string& set) {
  auto it = m.find(set);
  return it == m.end() ? std::vector<std::string>{} : it->second;
}

TEST(Stager, PodWhosePolicyChainsExistBecomesSetElementsOnly) {
  Snapshot s = makeWorld();
  applyYaml(s, kDenyXIngress);
  const State before = stateOf(s);
  s.addEndpoint(newPod("x", "new", "corxnew"));
  const State after = stateOf(s);
  Stager stager;
  auto plan = stager.plan(after.program, diff(before, after));
  stager.commit();
  EXPECT_TRUE(plan.change.endpoints_added.empty()) << "no chains for a staged pod";
  EXPECT_TRUE(plan.change.sets_added.empty() && plan.change.policy_chains_added.empty());
  EXPECT_EQ(names(plan.staging.add, kStagedSetIn), std::vector<std::string>{"corxnew"});
  EXPECT_EQ(names(plan.staging.add, kStagedSetOut), std::vector<std::string>{"corxnew"});
  EXPECT_EQ(names(plan.staging.add, kStagedDenySetIn), std::vector<std::string>{"corxnew"});
  EXPECT_TRUE(names(plan.staging.add, kStagedDenySetOut).empty()) << "no egress policy";
  EXPECT_EQ(names(plan.staging.add, stagedPolicySet("pi-knp.x.deny")),
            std::vector<std::string>{"corxnew"});
  EXPECT_TRUE(plan.staging.remove.empty());
  EXPECT_EQ(stager.staged(), 1u);

  // The text form: set elements only, no chain and no jump.
  const std::string text = renderNftablesChange(after.program, plan.change, plan.staging);
  EXPECT_EQ(text.find("chain"), std::string::npos) << text;
  EXPECT_EQ(text.find("jump"), std::string::npos) << text;
  EXPECT_NE(text.find("add element inet coral staged-deny-in { \"corxnew\" }"), std::string::npos)
      << text;

  // Consolidation: its chains and dispatch entries, and out of every set.
  auto consolidated = stager.consolidate(after.program);
  stager.commit();
  EXPECT_EQ(consolidated.change.endpoints_added, std::vector<std::string>{"x/new"});
  EXPECT_TRUE(consolidated.staging.add.empty());
  EXPECT_EQ(names(consolidated.staging.remove, kStagedDenySetIn),
            std::vector<std::string>{"corxnew"});
  EXPECT_EQ(consolidated.staging.remove.size(), plan.staging.add.size());
  EXPECT_EQ(stager.staged(), 0u);
}

TEST(Stager, PodNeedingANewPolicyChainGetsItsChains) {
  Snapshot s = makeWorld();
  const State before = stateOf(s);
  // The first pod of namespace q: a policy selecting it has no chain on this node yet.
  s.addNamespace({"q", {{"kubernetes.io/metadata.name", "q"}}});
  applyYaml(s,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, "
            "namespace: q}\nspec:\n  podSelector: {}\n");
  s.addEndpoint(newPod("q", "first", "corqfirst"));
  const State after = stateOf(s);
  Stager stager;
  auto plan = stager.plan(after.program, diff(before, after));
  stager.commit();
  EXPECT_EQ(plan.change.endpoints_added, std::vector<std::string>{"q/first"});
  EXPECT_TRUE(plan.staging.empty());
  EXPECT_EQ(stager.staged(), 0u);
}

// A node (namespace x isolated for ingress) and a Stager following its snapshot.
class StagerSteps : public ::testing::Test {
 protected:
  void SetUp() override {
    applyYaml(s_, kDenyXIngress);
    state_ = stateOf(s_);
  }
  // Edits the snapshot and plans the change from the last state; commit() follows unless
  // the write is to count as failed.
  Stager::Plan step(const std::function<void(Snapshot&)>& edit, bool commit = true) {
    edit(s_);
    const State next = stateOf(s_);
    Stager::Plan plan = stager_.plan(next.program, diff(state_, next));
    if (commit) {
      stager_.commit();
      state_ = next;
    }
    return plan;
  }
  Snapshot s_ = makeWorld();
  State state_;
  Stager stager_;
};

TEST_F(StagerSteps, StagedPodThatChangesOrGoesLeavesItsSets) {
  step([](Snapshot& s) { s.addEndpoint(newPod("x", "new", "corxnew")); });

  // Moved to another interface: the old name leaves every set, the new one joins.
  Endpoint moved = newPod("x", "new", "corxnew2");
  auto plan = step([&](Snapshot& s) { s.addEndpoint(moved); });
  EXPECT_TRUE(plan.change.endpoints_changed.empty()) << "it has no chains to rewrite";
  EXPECT_TRUE(plan.change.endpoints_added.empty());
  EXPECT_EQ(names(plan.staging.remove, kStagedSetIn), std::vector<std::string>{"corxnew"});
  EXPECT_EQ(names(plan.staging.add, kStagedSetIn), std::vector<std::string>{"corxnew2"});
  EXPECT_EQ(stager_.staged(), 1u);

  // A relabel that keeps the interface: nothing moves in the staging sets.
  moved.labels["extra"] = "1";
  plan = step([&](Snapshot& s) { s.addEndpoint(moved); });
  EXPECT_TRUE(plan.staging.empty());
  EXPECT_TRUE(plan.change.endpoints_changed.empty());

  plan = step([](Snapshot& s) { s.removeEndpoint("x/new"); });
  EXPECT_TRUE(plan.change.endpoints_removed.empty()) << "no chains to delete";
  EXPECT_EQ(names(plan.staging.remove, kStagedSetIn), std::vector<std::string>{"corxnew2"});
  EXPECT_EQ(stager_.staged(), 0u);
}

TEST_F(StagerSteps, StructuralChangeConsolidatesEveryStagedPod) {
  step([](Snapshot& s) { s.addEndpoint(newPod("x", "new", "corxnew")); });
  auto plan = step(
      [](Snapshot& s) {
        applyYaml(s,
                  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: "
                  "egress, namespace: x}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n");
      },
      /*commit=*/false);
  EXPECT_NE(
      std::find(plan.change.endpoints_added.begin(), plan.change.endpoints_added.end(), "x/new"),
      plan.change.endpoints_added.end());
  EXPECT_EQ(names(plan.staging.remove, kStagedSetIn), std::vector<std::string>{"corxnew"});
  EXPECT_TRUE(plan.staging.add.empty());
  // Not committed (the write failed): still staged; reset() forgets it (a full write follows).
  EXPECT_EQ(stager_.staged(), 1u);
  stager_.reset();
  EXPECT_EQ(stager_.staged(), 0u);
}

TEST(Stager, FullTableCanHoldStagedEndpoints) {
  Snapshot s = makeWorld();
  applyYaml(s, kDenyXIngress);
  const State st = stateOf(s);
  const std::string text = renderNftables(st.program, st.members, {"x/a"});
  EXPECT_EQ(text.find("chain wi-x.a"), std::string::npos);
  EXPECT_EQ(text.find("\"corxa\" : jump"), std::string::npos);
  EXPECT_NE(text.find("chain wi-x.b"), std::string::npos);
  EXPECT_NE(text.find("set staged-deny-in {\n    type ifname\n    comment"), std::string::npos);
  EXPECT_NE(text.find("\"corxa\""), std::string::npos);
}

}  // namespace
}  // namespace coral::policy::testing
