// Coral NetworkPolicy / GlobalNetworkPolicy semantics as truth tables over the policy_world.h
// world: order (lower first, absent last, ties by name, Kubernetes policies at 1000),
// Allow/Deny/Pass/Log, selectors with namespace scoping and namespace-profile labels,
// nets/notNets, ports/notPorts, protocol/notProtocol, named ports, ICMP.
#include <gtest/gtest.h>

#include "tests/unit/policy/policy_world.h"

namespace coral::policy {
namespace {

using testing::kTcpUdp;
using testing::PodRef;
using testing::Probe;

struct Case {
  std::string name;
  std::string yaml;
  testing::Expectation expect;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string np(const std::string& ns, const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: coral.network/v1\nkind: NetworkPolicy\nmetadata: {{name: {}, namespace: {}}}\n"
      "spec:\n{}---\n",
      name, ns, spec);
}
std::string gnp(const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: coral.network/v1\nkind: GlobalNetworkPolicy\nmetadata: {{name: {}}}\n"
      "spec:\n{}---\n",
      name, spec);
}
std::string knp(const std::string& ns, const std::string& name, const std::string& spec) {
  return fmt::format(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {}, namespace: "
      "{}}}\nspec:\n{}---\n",
      name, ns, spec);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"pass_skips_later_policies_including_kubernetes",
       gnp("deny-z",
           "  order: 10\n  selector: all()\n  types: [Ingress]\n  ingress:\n"
           "  - action: Deny\n    source: {namespaceSelector: ns == 'z'}\n"
           "  - action: Pass\n") +
           knp("y", "deny", "  podSelector: {}\n"),
       [](const PodRef& from, const PodRef&, auto&) { return from.ns != "z"; }},
      {"lower_order_first",
       np("x", "allow-a",
          "  order: 10\n  ingress:\n  - action: Allow\n"
          "    source: {selector: pod == 'a'}\n") +
           np("x", "deny-tcp", "  order: 20\n  ingress:\n  - action: Deny\n    protocol: TCP\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() == "x/a";
       }},
      {"absent_order_is_after_kubernetes",
       np("x", "deny-all", "  ingress:\n  - action: Deny\n") +
           knp("x", "allow-all", "  podSelector: {}\n  ingress:\n  - {}\n"),
       [](auto&, auto&, auto&) { return true; }},
      {"kubernetes_before_order_2000",
       np("x", "allow-all", "  order: 2000\n  ingress:\n  - action: Allow\n") +
           knp("x", "deny", "  podSelector: {}\n"),
       // The Kubernetes policy has no rules: it does not decide, so order 2000 allows.
       [](auto&, auto&, auto&) { return true; }},
      {"equal_order_ties_by_name",
       np("x", "a-allow", "  order: 10\n  ingress:\n  - action: Allow\n") +
           np("x", "b-deny", "  order: 10\n  ingress:\n  - action: Deny\n"),
       [](auto&, auto&, auto&) { return true; }},
      {"deny_wins_when_first",
       np("x", "a-deny",
          "  order: 10\n  ingress:\n  - action: Deny\n"
          "    source: {selector: pod == 'b'}\n") +
           np("x", "b-allow", "  order: 10\n  ingress:\n  - action: Allow\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() != "x/b";
       }},
      {"log_continues",
       np("x", "log",
          "  order: 1\n  ingress:\n  - action: Log\n  - action: Allow\n"
          "    source: {namespaceSelector: ns == 'y'}\n"),
       [](const PodRef& from, const PodRef& to, auto&) { return to.ns != "x" || from.ns == "y"; }},
      {"global_policy_across_namespaces",
       gnp("c-from-z-a",
           "  selector: pod == 'c'\n  ingress:\n  - action: Allow\n"
           "    source: {selector: pod == 'a', namespaceSelector: ns == 'z'}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.pod != "c" || from.id() == "z/a";
       }},
      {"namespace_profile_labels_in_selectors",
       gnp("b-from-red",
           "  selector: pod == 'b'\n  ingress:\n  - action: Allow\n"
           "    source: {selector: pcns.team == 'red'}\n"),
       [](const PodRef& from, const PodRef& to, auto&) { return to.pod != "b" || from.ns == "z"; }},
      {"global_namespace_selector_narrows_what_it_applies_to",
       gnp("blue-no-egress", "  namespaceSelector: team == 'blue'\n  types: [Egress]\n"),
       [](const PodRef& from, const PodRef&, auto&) { return from.ns == "z"; }},
      {"namespaced_selector_stays_in_namespace",
       np("x", "from-a", "  ingress:\n  - action: Allow\n    source: {selector: pod == 'a'}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() == "x/a";
       }},
      {"not_selector",
       np("x", "not-a", "  ingress:\n  - action: Allow\n    source: {notSelector: pod == 'a'}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || from.id() != "x/a";
       }},
      {"nets_and_not_nets",
       np("x", "nets",
          "  ingress:\n  - action: Allow\n"
          "    source: {nets: [10.0.0.0/8], notNets: [10.2.0.0/16, 10.3.0.3/32]}\n"),
       [](const PodRef& from, const PodRef& to, auto&) {
         return to.ns != "x" || (from.ns != "y" && from.id() != "z/c");
       }},
      {"ports_not_ports_protocol_not_protocol",
       np("x", "ports",
          "  ingress:\n  - action: Allow\n    protocol: UDP\n"
          "    destination: {ports: ['81']}\n  - action: Allow\n    protocol: TCP\n"
          "    destination: {notPorts: [80]}\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || p.port == 81;
       }},
      {"not_protocol", np("x", "not-udp", "  ingress:\n  - action: Allow\n    notProtocol: UDP\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || testing::isTcp(p);
       }},
      {"port_range",
       np("x", "range",
          "  ingress:\n  - action: Allow\n    protocol: TCP\n"
          "    destination: {ports: ['81:90']}\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (testing::isTcp(p) && p.port == 81);
       }},
      {"named_port",
       np("x", "http",
          "  ingress:\n  - action: Allow\n    protocol: TCP\n"
          "    destination: {ports: [http]}\n"),
       [](const PodRef&, const PodRef& to, const Probe& p) {
         return to.ns != "x" || (testing::isTcp(p) && p.port == (to.pod == "c" ? 81 : 80));
       }},
      {"egress_deny_by_destination_selector",
       np("x", "no-z",
          "  types: [Egress]\n  egress:\n  - action: Deny\n"
          "    destination: {namespaceSelector: ns == 'z'}\n  - action: Allow\n"),
       [](const PodRef& from, const PodRef& to, auto&) { return from.ns != "x" || to.ns != "z"; }},
  };
  return kCases;
}

class CoralSemantics : public ::testing::TestWithParam<Case> {};

TEST_P(CoralSemantics, Matrix) {
  const Case& c = GetParam();
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, c.yaml);
  EXPECT_EQ(testing::matrixDiff(s, kTcpUdp, c.expect), "") << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(Cases, CoralSemantics, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(CoralSemantics, IcmpTypeAndCode) {
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, np("x", "ping",
                           "  ingress:\n  - action: Allow\n    protocol: ICMP\n"
                           "    icmp: {type: 8, code: 0}\n"));
  Tracer tracer(s);
  auto trace = [&](int type, int code) {
    TraceRequest req{"y/a", "x/a", kProtoIcmp, 0, type, code};
    auto r = tracer.trace(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->allowed;
  };
  EXPECT_TRUE(trace(8, 0));
  EXPECT_FALSE(trace(8, 1));
  EXPECT_FALSE(trace(0, 0));
  EXPECT_FALSE(testing::traceAllowed(tracer, "y/a", "x/a", {kProtoTcp, 80}));
}

TEST(CoralSemantics, ConversionErrorsNameThePolicyAndRule) {
  model::NetworkPolicy p;
  p.metadata.name = "bad";
  p.metadata.namespace_ = "x";
  p.spec.ingress.push_back({});
  p.spec.ingress[0].action = "Allow";
  p.spec.ingress[0].source.selector = "app == ";
  auto converted = fromCoral(p);
  ASSERT_FALSE(converted.ok());
  EXPECT_NE(std::string(errorMessage(converted.status()))
                .find("NetworkPolicy \"x/bad\": ingress[0].source: selector \"app == \""),
            std::string::npos)
      << converted.status();
}

}  // namespace
}  // namespace coral::policy
