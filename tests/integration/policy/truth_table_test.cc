// The policy truth table in the kernel: the x/y/z × a/b/c world of policy_world.h built as
// network namespaces on two node namespaces (policy_lab.h), policies applied through
// PolicyDataplane (nftables and the iptables fallback), every ordered pod pair probed on
// TCP and UDP ports 80 and 81. Each matrix must equal the one policy::Tracer predicts and
// the hand-written expectation; on failure the differing grids are printed, titled with
// their family. Every pod is dual-stack (policy_lab.h): cases with an IPv6 expectation
// are probed over IPv6 as well, so default deny, pod selectors, ipBlock with except,
// named ports and Coral `nets` are proven for both families. "nftables-staged" loads each
// case's table with every pod staged (policy/staging.h): the shared staged chains must
// decide exactly as the pods' own chains do.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "agent/policy/iptables_dataplane.h"
#include "agent/policy/nft_applier.h"
#include "agent/policy/policy_dataplane.h"
#include "policy/compiler.h"
#include "policy/nftables.h"
#include "tests/integration/policy/policy_lab.h"

namespace coral::policy::testing {
namespace {

constexpr int kProbeTimeoutMs = 250;

struct Case {
  std::string name;
  std::string yaml;
  Expectation expect;
  // Applied to the snapshot after the policies (label changes).
  std::function<void(Snapshot&)> mutate = {};
  // When set, the matrix is probed over IPv6 too, against this expectation.
  Expectation expect6 = {};
};

// A case probed over IPv4 and IPv6 with (possibly) different expectations.
Case dual(std::string name, std::string yaml, Expectation expect4, Expectation expect6,
          std::function<void(Snapshot&)> mutate = {}) {
  return {std::move(name), std::move(yaml), std::move(expect4), std::move(mutate),
          std::move(expect6)};
}
Case dual(std::string name, std::string yaml, const Expectation& both,
          std::function<void(Snapshot&)> mutate = {}) {
  return dual(std::move(name), std::move(yaml), both, both, std::move(mutate));
}

std::string knp(const std::string& ns, const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {}, namespace: "
      "{}}}\nspec:\n{}---\n",
      name, ns, spec);
}
std::string gnp(const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: coral.network/v1\nkind: GlobalNetworkPolicy\nmetadata: {{name: {}}}\n"
      "spec:\n{}---\n",
      name, spec);
}
std::string np(const std::string& ns, const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: coral.network/v1\nkind: NetworkPolicy\nmetadata: {{name: {}, namespace: {}}}\n"
      "spec:\n{}---\n",
      name, ns, spec);
}

const std::string kAFromB =
    knp("x", "a-from-b",
        "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - podSelector:\n"
        "        matchLabels: {pod: b}\n");

const std::string kAFromRed =
    knp("x", "a-from-red",
        "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n"
        "    - namespaceSelector:\n        matchLabels: {team: red}\n");

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"no_policy", "", [](auto&, auto&, auto&) { return true; }},
      dual("default_deny_ingress",
           knp("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
           [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; }),
      {"default_deny_egress", knp("x", "deny", "  podSelector: {}\n  policyTypes: [Egress]\n"),
       [](const PodRef& from, const PodRef&, auto&) { return from.ns != "x"; }},
      {"namespace_selector",
       knp("x", "a-from-y",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
           "namespaceSelector:\n        matchLabels: {ns: y}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "y";
       }},
      dual("named_port_ingress",
           knp("x", "http", "  podSelector: {}\n  ingress:\n  - ports:\n    - port: http\n"),
           [](const PodRef&, const PodRef& to, const Probe& p) {
             return to.ns != "x" || (isTcp(p) && p.port == (to.pod == "c" ? 81 : 80));
           }),
      dual(
          "ip_block_except_overlapping_allow",
          knp("x", "a-ipblock",
              "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - ipBlock:\n"
              "        cidr: 10.0.0.0/8\n        except: [10.2.0.0/16]\n  - from:\n"
              "    - namespaceSelector:\n        matchLabels: {ns: y}\n      podSelector:\n"
              "        matchLabels: {pod: b}\n"),
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.id() != "x/a" || from.ns != "y" || from.pod == "b";
          },
          // An IPv4 ipBlock admits no IPv6 source: only the y/b peer.
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.id() != "x/a" || from.id() == "y/b";
          }),
      dual(
          "ip_block_v6_except_overlapping_allow",
          knp("x", "a-ipblock6",
              "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - ipBlock:\n"
              "        cidr: fd00:10::/32\n        except: [fd00:10:2::/48, fd00:10:3::3/128]\n"
              "  - from:\n    - namespaceSelector:\n        matchLabels: {ns: y}\n"
              "      podSelector:\n        matchLabels: {pod: b}\n"),
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.id() != "x/a" || from.id() == "y/b";
          },
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.id() != "x/a" || (from.ns != "y" && from.id() != "z/c") || from.id() == "y/b";
          }),
      dual(
          "coral_v6_nets_and_not_nets",
          np("x", "v6-nets",
             "  order: 10\n  ingress:\n  - action: Deny\n    source: {nets: ['fd00:10:3::/48']}\n"
             "  - action: Allow\n    source:\n      nets: ['fd00:10::/32']\n"
             "      notNets: ['fd00:10:2::1/128']\n"),
          // No IPv4 rule: every IPv4 source meets default deny.
          [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; },
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.ns != "x" || (from.ns != "z" && from.id() != "y/a");
          }),
      {"udp_only_rule_does_not_admit_tcp",
       knp("x", "udp80",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: UDP\n      port: 80\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (!isTcp(p) && p.port == 80);
       }},
      {"global_deny_then_pass_skips_kubernetes",
       gnp("deny-z",
           "  order: 10\n  selector: all()\n  types: [Ingress]\n  ingress:\n"
           "  - action: Deny\n    source: {namespaceSelector: ns == 'z'}\n"
           "  - action: Pass\n") +
           knp("y", "deny", "  podSelector: {}\n"),
       [](const PodRef& from, const PodRef&, auto&) { return from.ns != "z"; }},
      {"coral_lower_order_first",
       np("x", "allow-a",
          "  order: 10\n  ingress:\n  - action: Allow\n    source: {selector: pod == 'a'}\n") +
           np("x", "deny-tcp", "  order: 20\n  ingress:\n  - action: Deny\n    protocol: TCP\n"),
       // UDP from others falls through both policies: default deny, since they select x.
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() == "x/a";
       }},
      {"k8s_end_port_range",
       knp("x", "tcp-80-81",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: TCP\n      port: 80\n"
           "      endPort: 81\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) { return to.ns != "x" || isTcp(p); }},
      {"separate_peers_are_or",
       knp("x", "a-from-y-or-b",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n"
           "    - namespaceSelector:\n        matchLabels: {ns: y}\n    - podSelector:\n"
           "        matchLabels: {pod: b}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "y" || from.id() == "x/b";
       }},
      {"coral_log_then_allow",
       np("x", "log-all",
          "  order: 10\n  ingress:\n  - action: Log\n  - action: Allow\n"
          "    source: {selector: pod == 'b'}\n"),
       // Log records and goes on; only x/b is allowed in; the rest meets default deny.
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() == "x/b";
       }},
      {"namespace_labels_before_change", kAFromRed,
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "z";
       }},
      {"namespace_labels_after_change", kAFromRed,
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "z" || from.ns == "y";
       },
       [](Snapshot& s) {
         s.addNamespace(
             {"y", {{"ns", "y"}, {"team", "red"}, {"kubernetes.io/metadata.name", "y"}}});
       }},
      dual("pod_selector_before_label_change", kAFromB,
           [](const PodRef& from, const PodRef& to, auto&) {
             return to.id() != "x/a" || from.id() == "x/b";
           }),
      dual(
          "pod_selector_after_label_change", kAFromB,
          [](const PodRef& from, const PodRef& to, auto&) {
            return to.id() != "x/a" || from.id() == "x/b" || from.id() == "x/c";
          },
          [](Snapshot& s) {
            Endpoint c = *s.findEndpoint("x/c");
            c.labels["pod"] = "b";
            s.addEndpoint(std::move(c));
          }),
      {"every_policy_deleted", "", [](auto&, auto&, auto&) { return true; }},
  };
  return kCases;
}

// Every case in order on one lab, through `backend` on both nodes.
void runTruthTable(const std::string& backend, LabOptions options) {
  const auto started = std::chrono::steady_clock::now();
  PolicyLab lab(options);
  const std::string built = lab.build();
  ASSERT_EQ(built, "") << "building the lab";
  // "nftables-staged": the nftables table with every pod staged (policy/staging.h), so the
  // shared staged chains make every decision instead of the pods' own chains.
  const bool staged = backend == "nftables-staged";
  std::map<std::string, agent::PolicyDataplanePtr> dataplanes;
  std::map<std::string, agent::NftApplierPtr> nft;
  for (const char* node : {"n1", "n2"}) {
    auto dp =
        agent::makePolicyDataplane(staged ? "nftables" : backend, node, lab.node(node).path());
    ASSERT_TRUE(dp.ok()) << dp.status();
    dataplanes[node] = std::move(*dp);
    if (staged) {
      auto applier = agent::makeLibNftApplier(lab.node(node).path());
      ASSERT_TRUE(applier.ok()) << applier.status();
      nft[node] = std::move(*applier);
    }
  }
  std::string previous_yaml;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    Snapshot snapshot = lab.world();
    applyYaml(snapshot, c.yaml);
    if (c.mutate) c.mutate(snapshot);
    for (auto& [node, dp] : dataplanes) {
      if (staged) {
        ASSERT_TRUE(dp->resync().ok()) << node;  // back to the table it wrote
      }
      ASSERT_TRUE(dp->apply(snapshot).ok()) << node;
      if (!staged) continue;
      const Program program = compile(snapshot, node);
      std::set<std::string> ids;
      for (const auto& ep : program.endpoints) ids.insert(ep.endpoint_id);
      const absl::Status loaded =
          nft[node]->run(renderNftables(program, computeMembers(program, snapshot), ids));
      ASSERT_TRUE(loaded.ok()) << node << ": " << loaded;
    }
    if (backend == "nftables" && c.yaml == previous_yaml && !previous_yaml.empty()) {
      // Only labels changed: a delta, not the whole table.
      EXPECT_FALSE(dataplanes["n1"]->lastApply().full);
    }
    previous_yaml = c.yaml;
    for (const auto family : {common::Family::kV4, common::Family::kV6}) {
      const bool v4 = family == common::Family::kV4;
      if (!v4 && !c.expect6) continue;
      const Matrix predicted = predictMatrix(snapshot, kTcpUdp, family);
      const Matrix expected = expectationMatrix(v4 ? c.expect : c.expect6, kTcpUdp, family);
      const Matrix kernel = lab.probeMatrix(
          kTcpUdp, kProbeTimeoutMs, [&](const ProbeKey& k) { return predicted.at(k); }, family);
      EXPECT_EQ(diffMatrix(predicted, expected, kTcpUdp, family), "")
          << c.name << " " << common::familyName(family)
          << ": the trace evaluator disagrees with the hand-written expectation";
      EXPECT_EQ(diffMatrix(kernel, predicted, kTcpUdp, family), "")
          << c.name << " " << common::familyName(family) << " (" << backend
          << "): the kernel disagrees with the trace evaluator";
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%s: %zu cases in %.1f s\n", backend.c_str(), cases().size(), seconds);
}

class PolicyTruthTable : public ::testing::TestWithParam<std::string> {};

// The nodes resolve their pods' IPv6 addresses by neighbour discovery, which every endpoint
// chain accepts ahead of policy (an ingress-isolated pod must still answer its node's
// solicitations, from a link-local address no policy names).
TEST_P(PolicyTruthTable, KernelMatchesTraceAndExpectation) {
  CORAL_REQUIRE_ROOT();
  runTruthTable(GetParam(), {.ipv6 = true});
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyTruthTable,
                         ::testing::Values("nftables", "nftables-staged", "iptables"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace coral::policy::testing
