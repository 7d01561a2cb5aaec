// The CRD schemas and the C++ validation agree: one table of resources, each accepted or
// rejected by both, or (the `kCoralOnly` rows) accepted by the schema and rejected by Coral
// because the reason needs arithmetic or parsing a schema cannot do (a /33 prefix, a
// selector's grammar, a rule across fields). No resource may pass Coral and fail the schema:
// the API server would refuse what coralctl accepts.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/strings.h"
#include "model/crd.h"
#include "model/yaml.h"
#include "tests/unit/manifests/openapi.h"

namespace coral::manifests_test {
namespace {

enum Verdict { kBothAccept, kBothReject, kCoralOnly };

struct Case {
  const char* name;
  Verdict verdict;
  const char* yaml;
};

const Case kCases[] = {
    // IPPool
    {"pool minimal", kBothAccept, "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.244.0.0/16}"},
    {"pool full", kBothAccept,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 'fd00:10::/48', blockSize: 122, "
     "encapsulation: VXLANCrossSubnet, natOutgoing: true, disabled: false, "
     "nodeSelector: \"zone == 'a'\"}"},
    {"pool without cidr", kBothReject, "kind: IPPool\nmetadata: {name: p}\nspec: {blockSize: 26}"},
    {"pool unknown encapsulation", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, encapsulation: IPIP}"},
    {"pool blockSize above 128", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, blockSize: 129}"},
    {"pool blockSize negative", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, blockSize: -1}"},
    {"pool blockSize a string", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, blockSize: '26'}"},
    {"pool natOutgoing a string", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, natOutgoing: 'yes'}"},
    {"pool unknown field", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, ipipMode: Always}"},
    {"pool cidr not a prefix", kBothReject,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: banana}"},
    {"pool cidr /33", kCoralOnly, "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/33}"},
    {"pool blockSize 64 in IPv4", kCoralOnly,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, blockSize: 64}"},
    {"pool bad selector", kCoralOnly,
     "kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/8, nodeSelector: 'a =='}"},
    {"pool name with capitals", kBothReject,
     "kind: IPPool\nmetadata: {name: Pool}\nspec: {cidr: 10.0.0.0/8}"},
    {"pool with a namespace", kBothReject,
     "kind: IPPool\nmetadata: {name: p, namespace: x}\nspec: {cidr: 10.0.0.0/8}"},
    // IPAMConfiguration
    {"ipam config", kBothAccept,
     "kind: IPAMConfiguration\nmetadata: {name: default}\n"
     "spec: {strictAffinity: true, maxBlocksPerHost: 4}"},
    {"ipam config negative max", kBothReject,
     "kind: IPAMConfiguration\nmetadata: {name: default}\nspec: {maxBlocksPerHost: -1}"},
    {"ipam config other name", kCoralOnly,
     "kind: IPAMConfiguration\nmetadata: {name: other}\nspec: {}"},
    // IPAM records
    {"block", kBothAccept,
     "kind: IPAMBlock\nmetadata: {name: 10-244-0-0-26}\nspec: {cidr: 10.244.0.0/26, "
     "affinity: 'host:n1', allocations: [{ordinal: 1, handleID: h, attributes: {pod: a}}]}"},
    {"block allocation without handle", kBothReject,
     "kind: IPAMBlock\nmetadata: {name: b}\nspec: {cidr: 10.244.0.0/26, allocations: "
     "[{ordinal: 1}]}"},
    {"block negative ordinal", kBothReject,
     "kind: IPAMBlock\nmetadata: {name: b}\nspec: {cidr: 10.244.0.0/26, allocations: "
     "[{ordinal: -1, handleID: h}]}"},
    {"affinity minimal", kBothAccept,
     "kind: BlockAffinity\nmetadata: {name: a}\nspec: {node: n1, cidr: 10.244.0.0/26}"},
    {"affinity", kBothAccept,
     "kind: BlockAffinity\nmetadata: {name: a}\nspec: {node: n1, cidr: 10.244.0.0/26, "
     "state: pending}"},
    {"affinity bad state", kBothReject,
     "kind: BlockAffinity\nmetadata: {name: a}\nspec: {node: n1, cidr: 10.244.0.0/26, "
     "state: gone}"},
    {"handle", kBothAccept,
     "kind: IPAMHandle\nmetadata: {name: h}\nspec: {handleID: h, blocks: {'10.244.0.0/26': 2}}"},
    {"handle count a string", kBothReject,
     "kind: IPAMHandle\nmetadata: {name: h}\nspec: {handleID: h, blocks: {'10.244.0.0/26': two}}"},
    // BGP
    {"bgp config", kBothAccept,
     "kind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 4200000000, "
     "listenPort: 1179, communities: [{name: c, value: '64512:100'}]}"},
    {"bgp config AS 0", kBothReject,
     "kind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 0}"},
    {"bgp config AS above 32 bits", kBothReject,
     "kind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 4294967296}"},
    {"bgp config port 0", kBothReject,
     "kind: BGPConfiguration\nmetadata: {name: default}\nspec: {listenPort: 0}"},
    {"bgp config community shape", kBothReject,
     "kind: BGPConfiguration\nmetadata: {name: default}\n"
     "spec: {communities: [{name: c, value: 'one:two'}]}"},
    {"bgp config community part too big", kCoralOnly,
     "kind: BGPConfiguration\nmetadata: {name: default}\n"
     "spec: {communities: [{name: c, value: '70000:1'}]}"},
    {"bgp config bad name", kCoralOnly, "kind: BGPConfiguration\nmetadata: {name: mine}\nspec: {}"},
    {"peer minimal", kBothAccept,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001}"},
    {"peer", kBothAccept,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001, "
     "holdTimeSeconds: 9, sourceAddress: None, nextHopMode: Self, "
     "importFilters: [{action: Accept, cidr: 10.0.0.0/8, prefixLength: {min: 8, max: 24}}]}"},
    {"peer filter action", kBothReject,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001, "
     "importFilters: [{action: Maybe}]}"},
    {"peer filter without action", kBothReject,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001, "
     "exportFilters: [{cidr: 10.0.0.0/8}]}"},
    {"peer multihop 256", kBothReject,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001, "
     "ebgpMultihop: 256}"},
    {"peer restart time 0", kBothReject,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.1, asNumber: 65001, "
     "gracefulRestart: {restartTimeSeconds: 0}}"},
    {"peer bad address", kCoralOnly,
     "kind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 192.0.2.300, asNumber: 65001}"},
    // Node
    {"node", kBothAccept,
     "kind: Node\nmetadata: {name: n1, labels: {rack: a}}\nspec: {ipv4Address: 10.0.0.11/24, "
     "addresses: [{address: 10.0.0.11, type: InternalIP}], asNumber: 65010}"},
    {"node address type", kBothReject,
     "kind: Node\nmetadata: {name: n1}\nspec: {addresses: [{address: 10.0.0.11, type: Other}]}"},
    {"node address missing", kBothReject,
     "kind: Node\nmetadata: {name: n1}\nspec: {addresses: [{type: InternalIP}]}"},
    {"node bad ipv4", kCoralOnly,
     "kind: Node\nmetadata: {name: n1}\nspec: {ipv4Address: 10.0.0.300/24}"},
    // WorkloadEndpoint (namespaced)
    {"endpoint", kBothAccept,
     "kind: WorkloadEndpoint\nmetadata: {name: n1-k8s-web-eth0, namespace: shop}\n"
     "spec: {node: n1, pod: web, interfaceName: cor0123456789a, ipNetworks: [10.244.0.5/32], "
     "ports: [{name: http, port: 80, protocol: TCP}]}"},
    {"endpoint without interface", kBothReject,
     "kind: WorkloadEndpoint\nmetadata: {name: e, namespace: shop}\nspec: {node: n1}"},
    {"endpoint port 0", kBothReject,
     "kind: WorkloadEndpoint\nmetadata: {name: e, namespace: shop}\n"
     "spec: {node: n1, interfaceName: cor1, ports: [{name: http, port: 0}]}"},
    // Policies
    {"policy", kBothAccept,
     "kind: NetworkPolicy\nmetadata: {name: allow, namespace: shop}\nspec: {order: 10.5, "
     "selector: app == 'api', types: [Ingress], ingress: [{action: Allow, protocol: TCP, "
     "source: {selector: app == 'web', nets: [10.0.0.0/8]}, destination: {ports: [80, "
     "'8080:8090', http]}}]}"},
    {"policy numeric protocol and icmp", kBothAccept,
     "kind: GlobalNetworkPolicy\nmetadata: {name: icmp}\nspec: {ingress: [{action: Allow, "
     "protocol: 1, icmp: {type: 8, code: 0}}], egress: [{action: Deny, notProtocol: UDP}]}"},
    {"policy bad action", kBothReject,
     "kind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
     "spec: {ingress: [{action: Permit}]}"},
    {"policy bad type", kBothReject,
     "kind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {types: [Sideways]}"},
    {"policy port a list", kBothReject,
     "kind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
     "spec: {ingress: [{action: Allow, destination: {ports: [[80]]}}]}"},
    {"policy icmp type 255", kBothReject,
     "kind: GlobalNetworkPolicy\nmetadata: {name: p}\n"
     "spec: {ingress: [{action: Allow, protocol: ICMP, icmp: {type: 255}}]}"},
    {"policy order a string", kBothReject,
     "kind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec: {order: first}"},
    {"policy bad selector", kCoralOnly,
     "kind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {selector: 'app =='}"},
    {"policy namespaceSelector on a namespaced policy", kCoralOnly,
     "kind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
     "spec: {namespaceSelector: all()}"},
    {"policy bad net", kCoralOnly,
     "kind: GlobalNetworkPolicy\nmetadata: {name: p}\n"
     "spec: {ingress: [{action: Allow, source: {nets: [10.0.0.0/40]}}]}"},
};

std::map<std::string, Json> crdsByKind() {
  std::map<std::string, Json> out;
  auto crds = model::customResourceDefinitions();
  EXPECT_TRUE(crds.ok());
  for (const auto& crd : *crds) out[crd["spec"]["names"]["kind"]] = crd;
  return out;
}

TEST(SchemaAgreement, SchemaAndCoralAgreeOnTheTable) {
  const auto crds = crdsByKind();
  std::map<std::string, int> kinds_covered;
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const std::string text = fmt::format("apiVersion: coral.network/v1\n{}\n", c.yaml);
    auto docs = model::parseYamlDocuments(text);
    ASSERT_EQ(docs.size(), 1u);
    ASSERT_TRUE(docs[0].json.ok()) << errorMessage(docs[0].json.status());
    const Json& r = *docs[0].json;
    const std::string kind = r["kind"];
    ASSERT_TRUE(crds.contains(kind));
    ++kinds_covered[kind];

    const auto schema_errors = validateCustomResource(r, crds.at(kind));
    auto parsed = model::parseResources(text);
    ASSERT_EQ(parsed.size(), 1u);
    const bool coral_ok = parsed[0].resource.ok();
    const std::string coral_error =
        coral_ok ? "" : std::string(errorMessage(parsed[0].resource.status()));
    const std::string schema_error = schema_errors.empty() ? "" : join(schema_errors, "; ");

    switch (c.verdict) {
      case kBothAccept:
        EXPECT_TRUE(schema_errors.empty()) << "schema rejects: " << schema_error;
        EXPECT_TRUE(coral_ok) << "Coral rejects: " << coral_error;
        break;
      case kBothReject:
        EXPECT_FALSE(schema_errors.empty()) << "schema accepts";
        EXPECT_FALSE(coral_ok) << "Coral accepts";
        break;
      case kCoralOnly:
        EXPECT_TRUE(schema_errors.empty())
            << "schema rejects (move the row to kBothReject): " << schema_error;
        EXPECT_FALSE(coral_ok) << "Coral accepts";
        break;
    }
  }
  // Every CRD of a model kind has rows (KeyValue is the datastore's, Coral never parses it).
  for (const auto& [kind, crd] : crds) {
    if (kind == "KeyValue") continue;
    EXPECT_GT(kinds_covered[kind], 0) << kind;
  }
}

// What Coral defaults unconditionally, the API server defaults the same way, so an object
// stored through either path reads back the same.
TEST(SchemaAgreement, SchemaDefaultsAreCoralsDefaults) {
  const auto crds = crdsByKind();
  int defaults = 0;
  for (const auto& [kind, crd] : crds) {
    const Json& spec_schema =
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    if (!spec_schema.contains("properties")) continue;
    // A minimal object: the required fields from the table's first accepted row.
    for (const auto& c : kCases) {
      if (c.verdict != kBothAccept) continue;
      const std::string text = fmt::format("apiVersion: coral.network/v1\n{}\n", c.yaml);
      auto parsed = model::parseResources(text);
      if (parsed.size() != 1 || !parsed[0].resource.ok() || parsed[0].resource->kind != kind)
        continue;
      auto docs = model::parseYamlDocuments(text);
      const Json& input_spec = (*docs[0].json)["spec"];
      for (auto it = spec_schema["properties"].begin(); it != spec_schema["properties"].end();
           ++it) {
        if (!it.value().contains("default") || input_spec.contains(it.key())) continue;
        ++defaults;
        EXPECT_EQ(parsed[0].resource->spec.value(it.key(), Json()), it.value()["default"])
            << kind << ".spec." << it.key();
      }
      break;
    }
  }
  EXPECT_GE(defaults, 3);
}

}  // namespace
}  // namespace coral::manifests_test
