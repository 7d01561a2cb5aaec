// Kubernetes NetworkPolicy semantics as truth tables: for each case, apply the policies to
// the x/y/z × a/b/c world (policy_world.h), trace every ordered pod pair on TCP and UDP
// ports 80 and 81, and compare the matrix with the expected one. The kernel truth-table
// test runs the same cases against real nftables.
#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "tests/unit/policy/policy_world.h"

namespace coral::policy {
namespace {

using testing::allPods;
using testing::Expectation;
using testing::kTcpUdp;
using testing::PodRef;
using testing::Probe;

struct Case {
  std::string name;
  std::string yaml;
  Expectation expect;
  std::vector<Probe> probes = kTcpUdp;
};

std::string knp(const std::string& ns, const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {}\n  "
      "namespace: {}\nspec:\n{}---\n",
      name, ns, spec);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"no_policy", "", [](auto&, auto&, auto&) { return true; }},
      {"default_deny_ingress", knp("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
       [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; }},
      {"default_deny_ingress_inferred_types", knp("x", "deny", "  podSelector: {}\n"),
       [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; }},
      {"default_deny_egress", knp("x", "deny", "  podSelector: {}\n  policyTypes: [Egress]\n"),
       [](const PodRef& from, const PodRef&, auto&) { return from.ns != "x"; }},
      {"default_deny_all",
       knp("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"),
       [](const PodRef& from, const PodRef& to, auto&) { return from.ns != "x" && to.ns != "x"; }},
      {"allow_all_ingress",
       knp("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress]\n") +
           knp("x", "allow", "  podSelector: {}\n  ingress:\n  - {}\n"),
       [](auto&, auto&, auto&) { return true; }},
      // policyTypes omitted: Ingress is always inferred, so this also isolates ingress.
      {"allow_all_egress_inferred_types_isolate_ingress",
       knp("x", "allow", "  podSelector: {}\n  egress:\n  - {}\n"),
       [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; }},
      {"pod_selector_same_namespace",
       knp("x", "a-from-b",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - podSelector:\n"
           "        matchLabels: {pod: b}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.id() == "x/b";
       }},
      {"namespace_selector_match_labels",
       knp("x", "a-from-y",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
           "namespaceSelector:\n        matchLabels: {ns: y}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "y";
       }},
      {"match_expressions",
       knp("x", "a-from-yz-not-c",
           "  podSelector:\n    matchExpressions:\n    - {key: tier, operator: Exists}\n"
           "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
           "        - {key: ns, operator: In, values: [y, z]}\n      podSelector:\n"
           "        matchExpressions:\n        - {key: pod, operator: NotIn, values: [c]}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         const bool selected = to.ns == "x" && to.pod != "c";
         return !selected || (from.ns != "x" && from.pod != "c");
       }},
      {"and_peer",
       knp("x", "a-from-y-b",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
           "namespaceSelector:\n        matchLabels: {ns: y}\n      podSelector:\n"
           "        matchLabels: {pod: b}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.id() == "y/b";
       }},
      {"or_peers",
       knp("x", "a-from-y-or-b",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
           "namespaceSelector:\n        matchLabels: {ns: y}\n    - podSelector:\n"
           "        matchLabels: {pod: b}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns == "y" || from.id() == "x/b";
       }},
      {"namespace_selector_empty_means_all_namespaces",
       knp("x", "a-from-any-c",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
           "namespaceSelector: {}\n      podSelector:\n        matchLabels: {pod: c}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.pod == "c";
       }},
      {"ip_block_except_overlapping_allow",
       knp("x", "a-ipblock",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - ipBlock:\n"
           "        cidr: 10.0.0.0/8\n        except: [10.2.0.0/16]\n  - from:\n"
           "    - namespaceSelector:\n        matchLabels: {ns: y}\n      podSelector:\n"
           "        matchLabels: {pod: b}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.id() != "x/a" || from.ns != "y" || from.pod == "b";
       }},
      {"ip_block_egress",
       knp("x", "egress-to-z",
           "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n"
           "        cidr: 10.3.0.0/16\n        except: [10.3.0.3/32]\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" && (from.ns != "x" || (to.ns == "z" && to.pod != "c"));
       }},
      {"named_port_ingress",
       knp("x", "http", "  podSelector: {}\n  ingress:\n  - ports:\n    - port: http\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         // http is 80/TCP on a and b, 81/TCP on c.
         return to.ns != "x" || (testing::isTcp(p) && p.port == (to.pod == "c" ? 81 : 80));
       }},
      {"named_port_egress_resolves_on_peer",
       knp("x", "to-dns",
           "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n"
           "    - namespaceSelector: {}\n    ports:\n    - protocol: UDP\n      port: dns\n"),
       [](const PodRef& from, const PodRef& to, const Probe& p) {
         return from.ns != "x" || (!testing::isTcp(p) && p.port == (to.pod == "c" ? 81 : 80));
       }},
      {"named_port_protocol_mismatch",
       knp("x", "http-udp",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - port: http\n"
           "      protocol: UDP\n"),
       [](const PodRef&, const PodRef& to, auto&) { return to.ns != "x"; }},
      {"end_port",
       knp("x", "range",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 79\n"
           "      endPort: 81\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || testing::isTcp(p);
       }},
      {"end_port_excludes_81",
       knp("x", "range",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 70\n"
           "      endPort: 80\n      protocol: UDP\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (!testing::isTcp(p) && p.port == 80);
       }},
      {"udp_only_rule_does_not_admit_tcp",
       knp("x", "udp80",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: UDP\n"
           "      port: 80\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (!testing::isTcp(p) && p.port == 80);
       }},
      {"sctp_is_not_tcp",
       knp("x", "sctp80",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: SCTP\n"
           "      port: 80\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (p.protocol == kProtoSctp && p.port == 80);
       },
       {{kProtoTcp, 80}, {kProtoUdp, 80}, {kProtoSctp, 80}, {kProtoSctp, 81}}},
      {"ports_without_port_mean_all_ports_of_protocol",
       knp("x", "all-udp",
           "  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: UDP\n"
           "    - protocol: UDP\n      port: 80\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || !testing::isTcp(p);
       }},
      {"stacked_policies_union",
       knp("x", "a-from-b",
           "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - podSelector:\n"
           "        matchLabels: {pod: b}\n") +
           knp("x", "a-from-z-on-81",
               "  podSelector:\n    matchLabels: {pod: a}\n  ingress:\n  - from:\n    - "
               "namespaceSelector:\n        matchLabels: {ns: z}\n    ports:\n    - port: 81\n"),
       [](const PodRef& from, const PodRef& to, const Probe& p) {
         return to.id() != "x/a" || from.id() == "x/b" ||
                (from.ns == "z" && testing::isTcp(p) && p.port == 81);
       }},
      {"empty_ingress_list_with_egress_rules_denies_ingress",
       knp("x", "egress-only-to-y",
           "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress: []\n  egress:\n"
           "  - to:\n    - namespaceSelector:\n        matchLabels: {ns: y}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" && (from.ns != "x" || to.ns == "y");
       }},
      {"egress_and_ingress_both_needed",
       knp("x", "deny-in", "  podSelector: {}\n  policyTypes: [Ingress]\n") +
           knp("y", "deny-out",
               "  podSelector:\n    matchLabels: {pod: a}\n  policyTypes: [Egress]\n  egress:\n"
               "  - to:\n    - namespaceSelector:\n        matchLabels: {ns: x}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         if (to.ns == "x") return false;
         return from.id() != "y/a";
       }},
  };
  return kCases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class KubernetesSemantics : public ::testing::TestWithParam<Case> {};

TEST_P(KubernetesSemantics, Matrix) {
  const Case& c = GetParam();
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, c.yaml);
  EXPECT_EQ(testing::matrixDiff(s, c.probes, c.expect), "") << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(Cases, KubernetesSemantics, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(KubernetesSemantics, NodeTrafficIsAllowedToLocalPodsOnly) {
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, knp("x", "deny", "  podSelector: {}\n"));
  Tracer tracer(s);
  // n1 hosts x/a; n2 hosts x/c.
  EXPECT_TRUE(testing::traceAllowed(tracer, "192.168.1.1", "x/a", {kProtoTcp, 80}));
  EXPECT_FALSE(testing::traceAllowed(tracer, "192.168.1.2", "x/a", {kProtoTcp, 80}));
  EXPECT_TRUE(testing::traceAllowed(tracer, "192.168.1.2", "x/c", {kProtoTcp, 80}));
  EXPECT_FALSE(testing::traceAllowed(tracer, "172.16.0.1", "x/c", {kProtoTcp, 80}));
}

TEST(KubernetesSemantics, IpBlockMatchesExternalAddresses) {
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, knp("x", "from-outside",
                            "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n"
                            "        cidr: 172.16.0.0/12\n        except: [172.16.1.0/24]\n"));
  Tracer tracer(s);
  EXPECT_TRUE(testing::traceAllowed(tracer, "172.16.0.1", "x/a", {kProtoTcp, 80}));
  EXPECT_FALSE(testing::traceAllowed(tracer, "172.16.1.1", "x/a", {kProtoTcp, 80}));
  EXPECT_FALSE(testing::traceAllowed(tracer, "y/a", "x/a", {kProtoTcp, 80}));
}

TEST(KubernetesSemantics, ConversionErrorsNameThePolicy) {
  model::KubernetesNetworkPolicy p;
  p.metadata.name = "bad";
  p.metadata.namespace_ = "x";
  p.spec.ingress.push_back({});
  p.spec.ingress[0].from.push_back({});
  p.spec.ingress[0].from[0].ip_block = model::IPBlock{"10.0.0.0/33", {}};
  auto converted = fromKubernetes(p);
  ASSERT_FALSE(converted.ok());
  EXPECT_NE(std::string(errorMessage(converted.status()))
                .find("NetworkPolicy \"x/bad\": ingress[0].from[0]"),
            std::string::npos)
      << converted.status();
}

}  // namespace
}  // namespace coral::policy
