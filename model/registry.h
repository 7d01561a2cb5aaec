// The table of kinds: how each is named, scoped, stored, validated, defaulted and shown.
// Typed code converts with fromResource<T>/toResource; generic code (the datastore,
// coralctl) looks a kind up here and calls normalize() before writing anything.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/strings.h"
#include "model/kinds/bgp.h"
#include "model/kinds/ipam.h"
#include "model/kinds/k8s.h"
#include "model/kinds/node.h"
#include "model/kinds/policy.h"
#include "model/meta.h"

namespace coral::model {

struct KindInfo {
  std::string kind;                  // "IPPool"
  std::string api_version;           // "coral.network/v1"
  std::string storage_name;          // key segment: /coral/v1/<storage_name>/<ns or _>/<name>
  std::string plural;                // "ippools"
  std::vector<std::string> aliases;  // other names coralctl accepts ("ippool", "pool")
  bool namespaced = false;
  // Validates a resource of this kind and applies defaults to its spec, in place.
  std::function<absl::Status(Resource&)> normalize;
  // Table columns after NAME (and NAMESPACE): headers, then the wide-only ones.
  std::vector<std::string> columns;
  std::vector<std::string> wide_columns;
  // Values for columns followed by wide_columns.
  std::function<std::vector<std::string>(const Resource&)> row;
  // The OpenAPI v3 schema of the spec (model/schema.h), for the CRD generator (model/crd.h).
  std::function<Json()> spec_schema;
};

const std::vector<KindInfo>& allKinds();
// By kind, plural or alias, case-insensitive ("IPPool", "ippools", "pool").
const KindInfo* findKindByName(std::string_view name);
const KindInfo* findKind(std::string_view api_version, std::string_view kind);
template <typename T>
const KindInfo& kindOf();  // defined below

// Validates apiVersion/kind, metadata scope and the spec; applies defaults. Errors name the
// resource and every bad field: `IPPool "blue": spec.cidr "10.0.0.0/33": ...`.
absl::Status normalize(Resource& resource);

template <typename T>
constexpr const char* apiVersionOf() {
  if constexpr (requires { T::kApiVersion; }) {
    return T::kApiVersion;
  } else {
    return kApiGroupVersion;
  }
}

absl::Status joinErrors(const Resource& resource, const Validation& v);

template <typename T>
absl::StatusOr<T> fromResource(const Resource& r) {
  Validation v;
  T out{};
  out.metadata = r.metadata;
  Validation spec_v = v.at("spec");
  readValue(r.spec.is_null() ? Json::object() : r.spec, out.spec, spec_v, FieldInfo{});
  if constexpr (requires { out.status; }) {
    if (!r.status.is_null()) {
      Validation status_v = v.at("status");
      readValue(r.status, out.status, status_v, FieldInfo{});
    }
  }
  if (!v.ok()) return joinErrors(r, v);
  return out;
}

template <typename T>
Resource toResource(const T& obj) {
  Resource r;
  r.api_version = apiVersionOf<T>();
  r.kind = T::kKind;
  r.metadata = obj.metadata;
  r.spec = writeValue(obj.spec);
  if constexpr (requires { obj.status; }) {
    Json status = writeValue(obj.status);
    if (!status.empty()) r.status = std::move(status);
  }
  return r;
}

template <typename T>
const KindInfo& kindOf() {
  static const KindInfo* const kind = findKind(apiVersionOf<T>(), T::kKind);
  return *kind;
}

}  // namespace coral::model
