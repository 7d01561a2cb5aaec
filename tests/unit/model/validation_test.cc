// Invalid resources are rejected with errors that name the resource, the field path and
// the reason.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "model/registry.h"
#include "model/yaml.h"

namespace coral::model {
namespace {

struct Case {
  const char* yaml;
  const char* error;  // expected substring of the error message
};

class ValidationTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTest, RejectsWithFieldPath) {
  auto docs = parseResources(GetParam().yaml);
  ASSERT_EQ(docs.size(), 1u);
  ASSERT_FALSE(docs[0].resource.ok()) << GetParam().yaml;
  EXPECT_NE(errorMessage(docs[0].resource.status()).find(GetParam().error), std::string::npos)
      << "got: " << docs[0].resource.status();
}

constexpr const char* kPool =
    "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: blue}\n";
constexpr const char* kPeer = "apiVersion: coral.network/v1\nkind: BGPPeer\nmetadata: {name: p}\n";
constexpr const char* kPolicy =
    "apiVersion: coral.network/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n";
constexpr const char* kKnp =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: k, namespace: x}\n";

std::string with(const char* head, const char* body) { return std::string(head) + body; }

std::vector<Case>& cases() {
  static std::vector<std::string> storage;
  static std::vector<Case> out;
  if (!out.empty()) return out;
  auto add = [&](std::string yaml, const char* error) {
    storage.push_back(std::move(yaml));
    out.push_back({storage.back().c_str(), error});
  };
  storage.reserve(64);
  add(with(kPool, "spec: {cidr: 10.0.0.0/33}"),
      "IPPool \"blue\": spec.cidr \"10.0.0.0/33\": prefix length 33 out of range (0-32)");
  add(with(kPool, "spec: {cidr: 10.0.0.1/16}"),
      "has host bits set (did you mean \"10.0.0.0/16\"?)");
  add(with(kPool, "spec: {cidr: 10.0.0.0/16, blockSize: 33}"),
      "spec.blockSize: 33 is larger than /32");
  add(with(kPool, "spec: {cidr: 10.0.0.0/24, blockSize: 22}"),
      "spec.blockSize: 22 is shorter than the pool's /24");
  add(with(kPool, "spec: {cidr: 10.0.0.0/16, encapsulation: IPIP}"),
      "spec.encapsulation \"IPIP\" is not one of: None, VXLAN, VXLANCrossSubnet");
  add(with(kPool, "spec: {cidr: 10.0.0.0/16, natOutgoing: yes please}"),
      "spec.natOutgoing: expected true or false, got a string");
  add(with(kPool, "spec: {cidr: 10.0.0.0/16, blocksize: 26}"), "spec.blocksize: unknown field");
  add(with(kPool, "spec: {}"), "spec.cidr: required field is missing");
  add(with(kPool, "spec: {cidr: 10.0.0.0/16, nodeSelector: \"rack ==\"}"), "spec.nodeSelector");
  add("apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: Blue_1}\nspec: {cidr: "
      "10.0.0.0/8}",
      "metadata.name");
  add("apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: a, namespace: x}\nspec: {cidr: "
      "10.0.0.0/8}",
      "metadata.namespace: IPPool is cluster-scoped");
  add("apiVersion: coral.network/v2\nkind: IPPool\nmetadata: {name: a}\n",
      "apiVersion \"coral.network/v2\" is not served for kind IPPool");
  add("apiVersion: coral.network/v1\nkind: IPPol\nmetadata: {name: a}\n", "unknown kind \"IPPol\"");
  add("apiVersion: coral.network/v1\nkind: IPPool\nspec: {cidr: 10.0.0.0/8}",
      "metadata: required field is missing");
  add("kind: IPPool\nmetadata: {name: a}", "apiVersion: required field is missing");
  add("apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: a, labels: {\"bad key!\": x}}\n"
      "spec: {cidr: 10.0.0.0/8}",
      "metadata.labels[\"bad key!\"]");
  add(with(kPeer, "spec: {peerIP: 10.0.0.1}"), "spec.asNumber: required field is missing");
  add(with(kPeer, "spec: {peerIP: 10.0.0.300, asNumber: 1}"), "spec.peerIP \"10.0.0.300\"");
  add(with(kPeer, "spec: {peerIP: \"10.0.0.1:70000\", asNumber: 1}"), "port \"70000\"");
  add(with(kPeer, "spec: {asNumber: 1}"), "exactly one of peerIP and peerSelector");
  add(with(kPeer, "spec: {peerIP: 10.0.0.1, asNumber: 4294967296}"),
      "spec.asNumber: 4294967296 is out of range");
  add(with(kPeer, "spec: {peerIP: 10.0.0.1, asNumber: 1, holdTimeSeconds: 2}"),
      "spec.holdTimeSeconds: 2 is not allowed");
  add(with(
          kPeer,
          "spec: {peerIP: 10.0.0.1, asNumber: 1, importFilters: [{action: Reject, localPref: 5}]}"),
      "spec.importFilters[0].action: a Reject rule cannot also change attributes");
  add(with(kPeer,
           "spec: {peerIP: 10.0.0.1, asNumber: 1, exportFilters: [{action: Accept, cidr: "
           "10.0.0.0/16, prefixLength: {min: 8}}]}"),
      "spec.exportFilters[0].prefixLength.min: 8 is shorter than the cidr's /16");
  add(with(kPolicy, "spec: {ingress: [{action: Allow, destination: {ports: [80]}}]}"),
      "spec.ingress[0].protocol: ports need protocol TCP, UDP, SCTP or UDPLite");
  add(with(kPolicy,
           "spec: {ingress: [{action: Allow, protocol: TCP, destination: {ports: [\"90:80\"]}}]}"),
      "spec.ingress[0].destination.ports[0] \"90:80\" is not a port range");
  add(with(kPolicy,
           "spec: {ingress: [{action: Allow, protocol: TCP, destination: {ports: [70000]}}]}"),
      "70000 is not a port");
  add(with(kPolicy, "spec: {egress: [{action: Drop}]}"),
      "spec.egress[0].action \"Drop\" is not one of: Allow, Deny, Pass, Log");
  add(with(kPolicy, "spec: {selector: \"app = 'x'\"}"), "spec.selector");
  add(with(kPolicy, "spec: {ingress: [{action: Allow, protocol: tcpx}]}"),
      "spec.ingress[0].protocol \"tcpx\" is not one of");
  add(with(kPolicy,
           "spec: {ingress: [{action: Allow, ipVersion: 4, source: {nets: [\"fd00::/64\"]}}]}"),
      "does not match ipVersion 4");
  add(with(kPolicy, "spec: {namespaceSelector: all()}"),
      "only a GlobalNetworkPolicy has a namespaceSelector");
  add(with(kKnp,
           "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: "
           "[11.0.0.0/16]}}]}]}"),
      "spec.ingress[0].from[0].ipBlock.except[0] \"11.0.0.0/16\" must be strictly inside cidr");
  add(with(kKnp,
           "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, "
           "podSelector: {}}]}]}"),
      "spec.ingress[0].from[0]: ipBlock cannot be combined");
  add(with(kKnp, "spec: {podSelector: {}, ingress: [{ports: [{port: 80, endPort: 79}]}]}"),
      "spec.ingress[0].ports[0].endPort: 79 is less than port 80");
  add(with(kKnp, "spec: {podSelector: {matchExpressions: [{key: a, operator: In}]}}"),
      "spec.podSelector.matchExpressions[0].values: In needs at least one value");
  add(with(kKnp, "spec: {podSelector: {}, policyTypes: [ingress]}"),
      "spec.policyTypes[0] \"ingress\" is not one of: Ingress, Egress");
  add(with(kKnp, "spec: {}"), "spec.podSelector: required field is missing");
  add("apiVersion: coral.network/v1\nkind: BGPConfiguration\nmetadata: {name: global}\n",
      "a BGPConfiguration is named \"default\"");
  add("apiVersion: coral.network/v1\nkind: WorkloadEndpoint\nmetadata: {name: w}\nspec: {node: n, "
      "interfaceName: i, ipNetworks: [10.0.0.0/24]}",
      "spec.ipNetworks[0] \"10.0.0.0/24\" must be a single address");
  add("apiVersion: coral.network/v1\nkind: Node\nmetadata: {name: n}\nspec: {vxlanTunnelMACAddr: "
      "zz}",
      "spec.vxlanTunnelMACAddr \"zz\" is not a MAC address");
  add("apiVersion: coral.network/v1\nkind: IPAMBlock\nmetadata: {name: b}\nspec: {cidr: "
      "10.0.0.0/30, "
      "allocations: [{ordinal: 4, handleID: h}]}",
      "spec.allocations[0].ordinal: 4 is outside the block 10.0.0.0/30");
  add("key: [unclosed", "YAML syntax error at line 2");
  add("- just\n- a list", "expected an object, got a list");
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidationTest, ::testing::ValuesIn(cases()));

TEST(ValidationTest, ReportsEveryErrorAtOnce) {
  auto docs = parseResources(with(kPool, "spec: {cidr: nope, encapsulation: x, extra: 1}"));
  ASSERT_FALSE(docs[0].resource.ok());
  const auto message = std::string(errorMessage(docs[0].resource.status()));
  EXPECT_NE(message.find("spec.encapsulation"), std::string::npos) << message;
  EXPECT_NE(message.find("spec.extra: unknown field"), std::string::npos) << message;
}

}  // namespace
}  // namespace coral::model
