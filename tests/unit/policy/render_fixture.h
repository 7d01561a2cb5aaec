// The world and policies behind the renderer golden files, and the golden-file check.
//
// Golden files live in tests/unit/policy/golden/. To regenerate them after an intended
// change, run the test with CORAL_UPDATE_GOLDEN=1 in the environment:
//   CORAL_UPDATE_GOLDEN=1 build-policy/tests/unit/policy/policy_render_test
// then review the diff with `git diff tests/unit/policy/golden`.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/policy/policy_world.h"

namespace coral::policy::testing {

inline constexpr const char* kRenderPolicies = R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: x}
spec:
  podSelector:
    matchLabels: {pod: a}
  ingress:
  - from:
    - podSelector:
        matchLabels: {tier: back}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.2.0.0/16]}
    ports:
    - port: http
    - port: 81
      protocol: UDP
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {team: blue}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 8000, endPort: 8100}
    - {protocol: SCTP, port: 80}
---
apiVersion: coral.network/v1
kind: NetworkPolicy
metadata: {name: b-rules, namespace: x}
spec:
  order: 10
  selector: pod == 'b'
  types: [Ingress]
  ingress:
  - action: Log
    protocol: TCP
    source: {selector: tier == 'front'}
  - action: Deny
    protocol: TCP
    source: {nets: [10.3.0.0/16], notNets: [10.3.0.1/32]}
    destination: {notPorts: [22, "6000:6010"]}
  - action: Pass
    source: {namespaceSelector: team == 'red'}
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 0}
  - action: Allow
    notProtocol: UDP
    source: {notSelector: pod == 'c'}
---
apiVersion: coral.network/v1
kind: GlobalNetworkPolicy
metadata: {name: deny-z-to-c}
spec:
  order: 5
  selector: pod == 'c'
  namespaceSelector: team == 'blue'
  ingress:
  - action: Deny
    source: {namespaceSelector: ns == 'z'}
)";

inline std::string goldenPath(const std::string& name) {
  return std::string(CORAL_POLICY_GOLDEN_DIR) + "/" + name;
}

inline void expectGolden(const std::string& name, const std::string& actual) {
  const std::string path = goldenPath(name);
  if (const char* update = std::getenv("CORAL_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path << " is missing; run with CORAL_UPDATE_GOLDEN=1 to create it";
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_EQ(buffer.str(), actual) << "golden file " << path
                                  << " differs; if intended, rerun with CORAL_UPDATE_GOLDEN=1";
}

}  // namespace coral::policy::testing
