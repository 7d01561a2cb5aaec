// ObjectMeta and Resource: the Kubernetes-shaped envelope of every kind.
// A Resource keeps spec and status as JSON so the datastore and coralctl can carry any
// kind; kinds/*.h give the typed views and the registry converts between the two.
#pragma once

#include <map>
#include <string>

#include "common/labels.h"
#include "model/codec.h"
#include "model/field.h"

namespace coral::model {

inline constexpr const char* kApiGroupVersion = "coral.network/v1";

struct ObjectMeta {
  // Kubernetes objects carry more metadata (ownerReferences, managedFields, ...); Coral
  // ignores what it does not use instead of rejecting real objects.
  static constexpr bool kAllowUnknownFields = true;

  std::string name;
  std::string namespace_;
  common::Labels labels;
  std::map<std::string, std::string> annotations;
  std::string resource_version;
  std::string uid;
  std::string creation_timestamp;

  template <class V>
  void describe(V& v) {
    v("name", name, {.required = true});
    v("namespace", namespace_);
    v("labels", labels);
    v("annotations", annotations);
    v("resourceVersion", resource_version);
    v("uid", uid);
    v("creationTimestamp", creation_timestamp);
  }
  void validate(Validation& v) const;
  bool operator==(const ObjectMeta&) const = default;
};

struct Resource {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  Json spec;
  Json status;

  template <class V>
  void describe(V& v) {
    v("apiVersion", api_version, {.required = true});
    v("kind", kind, {.required = true});
    v("metadata", metadata, {.required = true});
    v("spec", spec);
    v("status", status);
  }
  bool operator==(const Resource&) const = default;

  // "IPPool \"blue\"" or "NetworkPolicy \"ns/allow-web\"" for error messages.
  std::string displayName() const;
};

// DNS-1123 subdomain (names) and label (namespaces) checks, as Kubernetes does.
absl::Status validateObjectName(std::string_view name);
absl::Status validateNamespaceName(std::string_view name);

}  // namespace coral::model
