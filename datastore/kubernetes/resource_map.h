// How datastore keys map onto Kubernetes API objects (pure: no I/O).
//
//   /coral/v1/<Kind>/<ns or _>/<name>, Kind a Coral kind  → the CRD <plural>.coral.network/v1
//        (the object is the resource's JSON; metadata.resourceVersion is the mod revision)
//   /coral/v1/Pod/<ns>/<name>                 → core v1 Pod (read-only), mapped to Coral's Pod
//   /coral/v1/Namespace/_/<name>              → core v1 Namespace (read-only)
//   /coral/v1/KubernetesNetworkPolicy/<ns>/<name> → networking.k8s.io/v1 NetworkPolicy (read-only)
//   /coral/v1/KubernetesNode/_/<name>         → core v1 Node (read-only; metadata, podCIDRs,
//        addresses)
//   any other key                             → a KeyValue object (keyvalues.coral.network/v1,
//        cluster-scoped, named "kv-" + SHA-256 of the key; key and value base64 in spec)
//
// The key-value seam's extras live in the object: the lease id in the label
// coral.network/lease; the create revision (Kubernetes has none) in the annotation
// coral.network/create-revision, written on the first update (absent: the object was never
// updated, so its create revision is its resourceVersion).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "datastore/backend.h"
#include "model/codec.h"

namespace coral::datastore::kubernetes {

inline constexpr std::string_view kLeaseLabel = "coral.network/lease";
inline constexpr std::string_view kCreateRevisionAnnotation = "coral.network/create-revision";
inline constexpr std::string_view kKubernetesNodePrefix = "/coral/v1/KubernetesNode/";

// One API collection: "/apis/coral.network/v1" + "keyvalues" (+ namespace).
struct Collection {
  std::string group{};     // "" (core), "coral.network", "networking.k8s.io"
  std::string version{};   // "v1"
  std::string resource{};  // plural
  std::string kind{};      // "Pod"
  std::string storage{};   // the key segment: "Pod", "IPPool"; empty for KeyValue
  bool namespaced = false;
  bool read_only = false;  // owned by Kubernetes, not by Coral
  bool generic = false;    // the KeyValue collection

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/pods", "/apis/coral.network/v1/namespaces/ns/ippools"
  std::string path(std::string_view ns = {}) const;
  bool operator==(const Collection&) const = default;
};

// Every collection Coral maps (the KeyValue one first).
const std::vector<Collection>& allCollections();
const Collection& keyValueCollection();

struct ObjectRef {
  const Collection* collection = nullptr;
  std::string ns;
  std::string name;
  // A key under /coral/v1/<a mapped kind>/ that is not /coral/v1/<Kind>/<ns or _>/<name>:
  // no object can hold it (writes are kInvalidArgument).
  bool malformed = false;
  std::string path() const;  // collection path + "/" + name
};

// The object a key lives in.
ObjectRef refForKey(std::string_view key);
// The collections (and namespace) whose objects may hold keys starting with `prefix`: the
// KeyValue collection, unless the prefix lies inside one mapped kind.
struct PrefixScope {
  const Collection* collection;
  std::string ns;  // empty: all namespaces
};
std::vector<PrefixScope> scopesForPrefix(std::string_view prefix);

// key/value (+ lease, + create revision) → the object to send (no resourceVersion).
absl::StatusOr<model::Json> encodeObject(const ObjectRef& ref, std::string_view key,
                                         std::string_view value, LeaseId lease,
                                         std::optional<Revision> create_revision);
// An API object of `collection` → its key and value. kDataLoss when it cannot be read.
absl::StatusOr<KeyValue> decodeObject(const Collection& collection, const model::Json& object);

// metadata.resourceVersion as a revision. Kubernetes calls it opaque; every etcd3-backed
// API server uses etcd's revision, and this backend relies on that (kDataLoss otherwise).
absl::StatusOr<Revision> revisionOf(const model::Json& object);
absl::StatusOr<Revision> parseRevision(std::string_view rv);

}  // namespace coral::datastore::kubernetes
