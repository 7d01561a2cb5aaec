#include "model/crd.h"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <utility>

#include "model/schema.h"
#include "model/yaml.h"

namespace coral::model {
namespace {

// Where `kubectl get` finds each of coralctl's table columns. Columns that coralctl
// computes (counts, joined lists) have no JSON path and are listed with an empty one.
struct Column {
  const char* json_path;
  const char* type;  // string | integer | number | boolean | date
};

const std::map<std::pair<std::string, std::string>, Column>& columnPaths() {
  static const std::map<std::pair<std::string, std::string>, Column> paths = {
      {{"IPPool", "CIDR"}, {".spec.cidr", "string"}},
      {{"IPPool", "BLOCKSIZE"}, {".spec.blockSize", "integer"}},
      {{"IPPool", "ENCAPSULATION"}, {".spec.encapsulation", "string"}},
      {{"IPPool", "NATOUTGOING"}, {".spec.natOutgoing", "boolean"}},
      {{"IPPool", "DISABLED"}, {".spec.disabled", "boolean"}},
      {{"IPPool", "NODESELECTOR"}, {".spec.nodeSelector", "string"}},
      {{"IPAMConfiguration", "STRICTAFFINITY"}, {".spec.strictAffinity", "boolean"}},
      {{"IPAMConfiguration", "MAXBLOCKSPERHOST"}, {".spec.maxBlocksPerHost", "integer"}},
      {{"IPAMBlock", "CIDR"}, {".spec.cidr", "string"}},
      {{"IPAMBlock", "AFFINITY"}, {".spec.affinity", "string"}},
      {{"IPAMBlock", "ALLOCATED"}, {"", ""}},
      {{"BlockAffinity", "NODE"}, {".spec.node", "string"}},
      {{"BlockAffinity", "CIDR"}, {".spec.cidr", "string"}},
      {{"BlockAffinity", "STATE"}, {".spec.state", "string"}},
      {{"IPAMHandle", "HANDLE"}, {".spec.handleID", "string"}},
      {{"IPAMHandle", "BLOCKS"}, {"", ""}},
      {{"BGPConfiguration", "ASNUMBER"}, {".spec.asNumber", "integer"}},
      {{"BGPConfiguration", "NODETONODEMESH"}, {".spec.nodeToNodeMesh", "boolean"}},
      {{"BGPConfiguration", "LISTENPORT"}, {".spec.listenPort", "integer"}},
      {{"BGPPeer", "PEERIP"}, {".spec.peerIP", "string"}},
      {{"BGPPeer", "ASNUMBER"}, {".spec.asNumber", "integer"}},
      {{"BGPPeer", "NODE"}, {".spec.node", "string"}},
      {{"BGPPeer", "NODESELECTOR"}, {".spec.nodeSelector", "string"}},
      {{"BGPPeer", "PEERSELECTOR"}, {".spec.peerSelector", "string"}},
      {{"Node", "IPV4ADDRESS"}, {".spec.ipv4Address", "string"}},
      {{"Node", "IPV6ADDRESS"}, {".spec.ipv6Address", "string"}},
      {{"Node", "ASNUMBER"}, {".spec.asNumber", "integer"}},
      {{"Node", "RRCLUSTERID"}, {".spec.routeReflectorClusterID", "string"}},
      {{"Node", "LABELS"}, {"", ""}},
      {{"WorkloadEndpoint", "NODE"}, {".spec.node", "string"}},
      {{"WorkloadEndpoint", "POD"}, {".spec.pod", "string"}},
      {{"WorkloadEndpoint", "INTERFACE"}, {".spec.interfaceName", "string"}},
      {{"WorkloadEndpoint", "NETWORKS"}, {".spec.ipNetworks", "string"}},
      {{"WorkloadEndpoint", "CONTAINERID"}, {".spec.containerID", "string"}},
      {{"WorkloadEndpoint", "MAC"}, {".spec.mac", "string"}},
      {{"NetworkPolicy", "ORDER"}, {".spec.order", "number"}},
      {{"NetworkPolicy", "SELECTOR"}, {".spec.selector", "string"}},
      {{"NetworkPolicy", "TYPES"}, {".spec.types", "string"}},
      {{"NetworkPolicy", "INGRESS"}, {"", ""}},
      {{"NetworkPolicy", "EGRESS"}, {"", ""}},
      {{"GlobalNetworkPolicy", "ORDER"}, {".spec.order", "number"}},
      {{"GlobalNetworkPolicy", "SELECTOR"}, {".spec.selector", "string"}},
      {{"GlobalNetworkPolicy", "TYPES"}, {".spec.types", "string"}},
      {{"GlobalNetworkPolicy", "NAMESPACESELECTOR"}, {".spec.namespaceSelector", "string"}},
      {{"GlobalNetworkPolicy", "INGRESS"}, {"", ""}},
      {{"GlobalNetworkPolicy", "EGRESS"}, {"", ""}},
  };
  return paths;
}

const std::map<std::string, std::string>& kindDescriptions() {
  static const std::map<std::string, std::string> descriptions = {
      {"IPPool", "A range of pod addresses, handed to nodes in blocks."},
      {"IPAMConfiguration", "Cluster-wide IPAM settings; the one resource is named default."},
      {"IPAMBlock", "A block of a pool and its allocations; written by IPAM."},
      {"BlockAffinity", "A node's claim on a block; written by IPAM."},
      {"IPAMHandle", "The addresses held by one workload; written by IPAM."},
      {"BGPConfiguration",
       "BGP settings: cluster-wide (named default) or per node (named node.<name>)."},
      {"BGPPeer", "A BGP session from some nodes to a router, route reflector or other node."},
      {"Node", "A host running corald: its addresses and BGP identity."},
      {"WorkloadEndpoint", "A pod's interface; written by corald."},
      {"NetworkPolicy", "Coral network policy for the endpoints of one namespace."},
      {"GlobalNetworkPolicy", "Coral network policy across namespaces and hosts."},
      {"KeyValue",
       "A datastore key outside the resource kinds; written by the Kubernetes datastore."},
  };
  return descriptions;
}

// keyvalues.coral.network: where the Kubernetes datastore (datastore/kubernetes/
// resource_map.h) keeps keys that are not resources of a Coral kind. Not a model kind, so
// described here.
struct KeyValueSpec {
  std::string key;
  std::string value;
  template <class V>
  void describe(V& v) {
    v("key", key, {.required = true, .doc = "The datastore key, base64"});
    v("value", value, {.required = true, .doc = "The value, base64"});
  }
};

const KindInfo& keyValueKind() {
  static const KindInfo kind = [] {
    KindInfo k;
    k.kind = "KeyValue";
    k.api_version = kApiGroupVersion;
    k.plural = "keyvalues";
    k.namespaced = false;
    k.spec_schema = [] { return schemaOf<KeyValueSpec>(); };
    return k;
  }();
  return kind;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

absl::StatusOr<Json> printerColumns(const KindInfo& kind) {
  Json columns = Json::array();
  auto add = [&](const std::string& header, bool wide) -> absl::Status {
    auto it = columnPaths().find({kind.kind, header});
    if (it == columnPaths().end()) {
      return absl::InternalError(
          fmt::format("{}: column {} has no JSON path in model/crd.cc", kind.kind, header));
    }
    if (it->second.json_path[0] == '\0') return absl::OkStatus();  // computed by coralctl
    // The column's name is its field's ("PeerIP"); kubectl prints it upper-cased.
    std::string name = it->second.json_path;
    name = name.substr(name.rfind('.') + 1);
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    Json c = {{"name", name}, {"type", it->second.type}, {"jsonPath", it->second.json_path}};
    if (wide) c["priority"] = 1;  // shown by `kubectl get -o wide`
    columns.push_back(std::move(c));
    return absl::OkStatus();
  };
  for (const auto& h : kind.columns) {
    if (auto s = add(h, false); !s.ok()) return s;
  }
  for (const auto& h : kind.wide_columns) {
    if (auto s = add(h, true); !s.ok()) return s;
  }
  // Kubernetes shows Age only when a CRD lists no columns of its own.
  columns.push_back(
      {{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}});
  return columns;
}

}  // namespace

absl::StatusOr<Json> customResourceDefinition(const KindInfo& kind) {
  if (kind.api_version != kApiGroupVersion) {
    return absl::InvalidArgumentError(fmt::format("{} is {}, not a kind of {}: it has no CRD",
                                                  kind.kind, kind.api_version, kApiGroupVersion));
  }
  auto columns = printerColumns(kind);
  if (!columns.ok()) return columns.status();
  Json spec_schema = kind.spec_schema();
  Json schema = {{"type", "object"},
                 {"properties",
                  {{"apiVersion", {{"type", "string"}}},
                   {"kind", {{"type", "string"}}},
                   // Structural schemas may restrict only name and generateName here; Kubernetes
                   // checks names itself, Coral again when it reads the object.
                   {"metadata", {{"type", "object"}}},
                   {"spec", std::move(spec_schema)}}}};
  auto desc = kindDescriptions().find(kind.kind);
  if (desc != kindDescriptions().end()) schema["description"] = desc->second;

  const std::string version =
      std::string(kApiGroupVersion).substr(std::string(kApiGroup).size() + 1);
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata",
               {{"name", fmt::format("{}.{}", kind.plural, kApiGroup)},
                {"labels", {{"app.kubernetes.io/part-of", "coral"}}}}},
              {"spec",
               {{"group", kApiGroup},
                {"scope", kind.namespaced ? "Namespaced" : "Cluster"},
                {"names",
                 {{"kind", kind.kind},
                  {"listKind", kind.kind + "List"},
                  {"plural", kind.plural},
                  {"singular", lower(kind.kind)},
                  // `kubectl get coral` lists every Coral resource.
                  {"categories", Json::array({"coral"})}}},
                {"versions", Json::array({{{"name", version},
                                           {"served", true},
                                           {"storage", true},
                                           {"schema", {{"openAPIV3Schema", std::move(schema)}}},
                                           {"additionalPrinterColumns", std::move(*columns)}}})}}}};
  return crd;
}

absl::StatusOr<std::vector<Json>> customResourceDefinitions() {
  std::vector<Json> out;
  for (const auto& kind : allKinds()) {
    if (kind.api_version != kApiGroupVersion) continue;
    auto crd = customResourceDefinition(kind);
    if (!crd.ok()) return crd.status();
    out.push_back(std::move(*crd));
  }
  auto kv = customResourceDefinition(keyValueKind());
  if (!kv.ok()) return kv.status();
  out.push_back(std::move(*kv));
  return out;
}

absl::StatusOr<std::string> customResourceDefinitionsYaml() {
  auto crds = customResourceDefinitions();
  if (!crds.ok()) return crds.status();
  std::string out =
      "# GENERATED by scripts/gen-manifests.sh from the resource model (model/crd.cc,\n"
      "# model/schema.h and each kind's describe()). Do not edit: change the model and rerun.\n";
  for (const auto& crd : *crds) {
    out += "---\n";
    out += jsonToYaml(crd);
  }
  return out;
}

}  // namespace coral::model
