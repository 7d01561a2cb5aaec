// The key ↔ API object mapping (see resource_map.h).
#include "datastore/kubernetes/resource_map.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "datastore/resource_store.h"
#include "model/registry.h"

namespace coral::datastore::kubernetes {
namespace {

using model::Json;

std::vector<Collection> makeCollections() {
  std::vector<Collection> out;
  out.push_back({.group = "coral.network",
                 .version = "v1",
                 .resource = "keyvalues",
                 .kind = "KeyValue",
                 .generic = true});
  for (const model::KindInfo& k : model::allKinds()) {
    if (k.api_version == model::kApiGroupVersion) {
      out.push_back({.group = "coral.network",
                     .version = "v1",
                     .resource = k.plural,
                     .kind = k.kind,
                     .storage = k.storage_name,
                     .namespaced = k.namespaced});
    }
  }
  out.push_back({.group = "",
                 .version = "v1",
                 .resource = "pods",
                 .kind = "Pod",
                 .storage = "Pod",
                 .namespaced = true,
                 .read_only = true});
  out.push_back({.group = "",
                 .version = "v1",
                 .resource = "namespaces",
                 .kind = "Namespace",
                 .storage = "Namespace",
                 .read_only = true});
  out.push_back({.group = "networking.k8s.io",
                 .version = "v1",
                 .resource = "networkpolicies",
                 .kind = "NetworkPolicy",
                 .storage = "KubernetesNetworkPolicy",
                 .namespaced = true,
                 .read_only = true});
  out.push_back({.group = "",
                 .version = "v1",
                 .resource = "nodes",
                 .kind = "Node",
                 .storage = "KubernetesNode",
                 .read_only = true});
  return out;
}

const Collection* byStorage(std::string_view storage) {
  for (const Collection& c : allCollections()) {
    if (!c.generic && c.storage == storage) return &c;
  }
  return nullptr;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string out;
  for (unsigned char b : digest) out += fmt::format("{:02x}", b);
  return out;
}

std::string base64(std::string_view s) { return absl::Base64Escape(std::string(s)); }

// Only the metadata Coral reads; managedFields and friends stay on the server.
Json slimMetadata(const Json& meta, bool keep_namespace) {
  Json out = Json::object();
  for (const char* field : {"name", "labels", "annotations", "uid", "creationTimestamp"}) {
    if (meta.contains(field) && !meta[field].is_null()) out[field] = meta[field];
  }
  if (keep_namespace && meta.contains("namespace")) out["namespace"] = meta["namespace"];
  return out;
}

// Takes the lease label and the create-revision annotation out of `meta`.
void takeExtras(Json& meta, KeyValue& kv) {
  if (meta.contains("labels") && meta["labels"].is_object()) {
    auto& labels = meta["labels"];
    if (labels.contains(kLeaseLabel)) {
      kv.lease = parseInt<LeaseId>(labels[std::string(kLeaseLabel)].get<std::string>()).value_or(0);
      labels.erase(std::string(kLeaseLabel));
    }
    if (labels.empty()) meta.erase("labels");
  }
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    auto& annotations = meta["annotations"];
    if (annotations.contains(kCreateRevisionAnnotation)) {
      kv.create_revision =
          parseInt<Revision>(annotations[std::string(kCreateRevisionAnnotation)].get<std::string>())
              .value_or(0);
      annotations.erase(std::string(kCreateRevisionAnnotation));
    }
    if (annotations.empty()) meta.erase("annotations");
  }
}

std::string keyOf(const Collection& c, const Json& meta) {
  const std::string ns = c.namespaced ? meta.value("namespace", "") : "";
  return fmt::format("/coral/v1/{}/{}/{}", c.storage, ns.empty() ? "_" : ns,
                     meta.value("name", ""));
}

Json mapPod(const Json& pod) {
  Json out = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  out["metadata"] = slimMetadata(pod.value("metadata", Json::object()), true);
  const Json spec = pod.value("spec", Json::object());
  Json s = Json::object();
  for (const char* f : {"nodeName", "hostNetwork", "serviceAccountName"}) {
    if (spec.contains(f)) s[f] = spec[f];
  }
  Json containers = Json::array();
  for (const Json& c : spec.value("containers", Json::array())) {
    Json mc = {{"name", c.value("name", "")}};
    Json ports = Json::array();
    for (const Json& p : c.value("ports", Json::array())) {
      Json mp = {{"containerPort", p.value("containerPort", 0)}};
      if (p.contains("name")) mp["name"] = p["name"];
      if (p.contains("protocol")) mp["protocol"] = p["protocol"];
      ports.push_back(std::move(mp));
    }
    if (!ports.empty()) mc["ports"] = std::move(ports);
    containers.push_back(std::move(mc));
  }
  s["containers"] = std::move(containers);
  out["spec"] = std::move(s);
  const Json status = pod.value("status", Json::object());
  Json st = Json::object();
  for (const char* f : {"phase", "podIP", "podIPs"}) {
    if (status.contains(f)) st[f] = status[f];
  }
  out["status"] = std::move(st);
  return out;
}

Json mapNamespace(const Json& ns) {
  Json out = {{"apiVersion", "v1"}, {"kind", "Namespace"}};
  out["metadata"] = slimMetadata(ns.value("metadata", Json::object()), false);
  // Set by the API server since 1.21; older servers and fakes may not have it.
  out["metadata"]["labels"]["kubernetes.io/metadata.name"] = out["metadata"].value("name", "");
  return out;
}

Json mapNetworkPolicy(const Json& np) {
  Json out = {{"apiVersion", "networking.k8s.io/v1"}, {"kind", "NetworkPolicy"}};
  out["metadata"] = slimMetadata(np.value("metadata", Json::object()), true);
  out["spec"] = np.value("spec", Json::object());
  return out;
}

Json mapNode(const Json& node) {
  Json out = {{"apiVersion", "v1"}, {"kind", "Node"}};
  out["metadata"] = slimMetadata(node.value("metadata", Json::object()), false);
  const Json spec = node.value("spec", Json::object());
  Json s = Json::object();
  for (const char* f : {"podCIDR", "podCIDRs", "providerID"}) {
    if (spec.contains(f)) s[f] = spec[f];
  }
  out["spec"] = std::move(s);
  const Json status = node.value("status", Json::object());
  out["status"] = Json{{"addresses", status.value("addresses", Json::array())}};
  return out;
}

}  // namespace

std::string Collection::path(std::string_view ns) const {
  const std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) return fmt::format("{}/namespaces/{}/{}", base, ns, resource);
  return base + "/" + resource;
}

std::string ObjectRef::path() const { return collection->path(ns) + "/" + name; }

const std::vector<Collection>& allCollections() {
  static const std::vector<Collection> all = makeCollections();
  return all;
}

const Collection& keyValueCollection() { return allCollections().front(); }

ObjectRef refForKey(std::string_view key) {
  constexpr std::string_view kRoot = "/coral/v1/";
  bool malformed = false;
  if (key.starts_with(kRoot)) {
    auto parts = split(key.substr(kRoot.size()), '/');
    if (const Collection* c = byStorage(parts[0])) {
      if (parts.size() == 3 && !parts[2].empty() && c->namespaced == (parts[1] != "_")) {
        return {c, c->namespaced ? std::string(parts[1]) : "", std::string(parts[2])};
      }
      malformed = true;
    }
  }
  return {&keyValueCollection(), "", "kv-" + sha256Hex(key).substr(0, 40), malformed};
}

std::vector<PrefixScope> scopesForPrefix(std::string_view prefix) {
  constexpr std::string_view kRoot = "/coral/v1/";
  std::vector<PrefixScope> out;
  if (prefix.starts_with(kRoot)) {
    std::string_view rest = prefix.substr(kRoot.size());
    auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
      const Collection* c = byStorage(rest.substr(0, slash));
      if (c == nullptr) return {{&keyValueCollection(), ""}};
      std::string_view after = rest.substr(slash + 1);
      std::string ns;
      if (auto s2 = after.find('/'); s2 != std::string_view::npos && c->namespaced) {
        ns = std::string(after.substr(0, s2));
      }
      return {{c, ns}};
    }
  }
  // Generic keys can have any prefix, including /coral/v1/<unknown>/.
  out.push_back({&keyValueCollection(), ""});
  if (prefix.starts_with(kRoot)) {
    std::string_view rest = prefix.substr(kRoot.size());
    for (const Collection& c : allCollections()) {
      if (!c.generic && c.storage.starts_with(rest)) out.push_back({&c, ""});
    }
    return out;
  }
  if (std::string_view(kRoot).starts_with(prefix)) {
    for (const Collection& c : allCollections()) {
      if (!c.generic) out.push_back({&c, ""});
    }
  }
  return out;
}

absl::StatusOr<Json> encodeObject(const ObjectRef& ref, std::string_view key,
                                  std::string_view value, LeaseId lease,
                                  std::optional<Revision> create_revision) {
  const Collection& c = *ref.collection;
  if (ref.malformed) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: keys under /coral/v1/<Kind>/ must be /coral/v1/<Kind>/<namespace or _>/<name>", key));
  }
  if (c.read_only) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: {} are owned by Kubernetes; Coral reads them and never writes them", key, c.resource));
  }
  Json obj;
  if (c.generic) {
    obj = Json{{"spec", {{"key", base64(key)}, {"value", base64(value)}}}};
  } else {
    obj = Json::parse(value, nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the value of a {} key must be its JSON resource", key, c.kind));
    }
  }
  obj["apiVersion"] = c.apiVersion();
  obj["kind"] = c.kind;
  Json meta = obj.value("metadata", Json::object());
  meta.erase("resourceVersion");
  meta.erase("uid");
  meta.erase("creationTimestamp");
  meta["name"] = ref.name;
  if (c.namespaced) {
    meta["namespace"] = ref.ns;
  } else {
    meta.erase("namespace");
  }
  if (lease != 0) meta["labels"][std::string(kLeaseLabel)] = std::to_string(lease);
  if (create_revision) {
    meta["annotations"][std::string(kCreateRevisionAnnotation)] = std::to_string(*create_revision);
  }
  obj["metadata"] = std::move(meta);
  return obj;
}

absl::StatusOr<Revision> parseRevision(std::string_view rv) {
  auto value = parseInt<Revision>(rv);
  if (!value || *value < 0) {
    return absl::DataLossError(fmt::format(
        "resourceVersion \"{}\" is not a number: the kubernetes datastore needs an etcd3-backed "
        "API server, whose resourceVersions are etcd revisions",
        rv));
  }
  return *value;
}

absl::StatusOr<Revision> revisionOf(const Json& object) {
  if (!object.contains("metadata") || !object["metadata"].contains("resourceVersion")) {
    return absl::DataLossError("API object without metadata.resourceVersion");
  }
  return parseRevision(object["metadata"]["resourceVersion"].get<std::string>());
}

absl::StatusOr<KeyValue> decodeObject(const Collection& c, const Json& object) {
  if (!object.is_object() || !object.contains("metadata")) {
    return absl::DataLossError(fmt::format("{}: an item without metadata", c.resource));
  }
  KeyValue kv;
  auto rev = revisionOf(object);
  if (!rev.ok()) return rev.status();
  kv.mod_revision = *rev;
  Json meta = object["metadata"];
  takeExtras(meta, kv);
  if (kv.create_revision == 0) kv.create_revision = kv.mod_revision;
  if (c.generic) {
    const Json spec = object.value("spec", Json::object());
    std::string key, value;
    if (!absl::Base64Unescape(spec.value("key", ""), &key) ||
        !absl::Base64Unescape(spec.value("value", ""), &value)) {
      return absl::DataLossError(
          fmt::format("keyvalues \"{}\": spec is not base64", meta.value("name", "")));
    }
    kv.key = std::move(key);
    kv.value = std::move(value);
    return kv;
  }
  Json mapped;
  if (c.resource == "pods" && c.group.empty()) {
    mapped = mapPod(object);
  } else if (c.resource == "namespaces" && c.group.empty()) {
    mapped = mapNamespace(object);
  } else if (c.resource == "nodes" && c.group.empty()) {
    mapped = mapNode(object);
  } else if (c.group == "networking.k8s.io") {
    mapped = mapNetworkPolicy(object);
  } else {
    mapped = object;
    mapped["apiVersion"] = c.apiVersion();
    mapped["kind"] = c.kind;
  }
  Json slim = slimMetadata(meta, c.namespaced);
  if (c.resource == "namespaces" && c.group.empty()) slim["labels"] = mapped["metadata"]["labels"];
  mapped["metadata"] = std::move(slim);
  kv.key = keyOf(c, mapped["metadata"]);
  kv.value = mapped.dump();
  return kv;
}

}  // namespace coral::datastore::kubernetes
