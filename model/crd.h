// CustomResourceDefinitions (apiextensions.k8s.io/v1) for every kind of API group
// coral.network, generated from the registry (names, scope, printer columns) and the
// kinds' describe() lists (the OpenAPI v3 schema, model/schema.h). Pure: no I/O.
// scripts/gen-manifests.sh writes the result to manifests/; a unit test fails when the
// committed files differ from what this produces.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/codec.h"
#include "model/registry.h"

namespace coral::model {

inline constexpr const char* kApiGroup = "coral.network";

// The CRD of one kind; an error when a table column of the kind has no JSON path here
// (a new column in registry.cc must say where `kubectl get` finds it).
absl::StatusOr<Json> customResourceDefinition(const KindInfo& kind);

// Every coral.network kind, in registry order, then KeyValue (the Kubernetes datastore's
// home for keys outside the kinds; not a model kind).
absl::StatusOr<std::vector<Json>> customResourceDefinitions();

// The manifests part: a comment that says it is generated, then one YAML document per CRD.
absl::StatusOr<std::string> customResourceDefinitionsYaml();

}  // namespace coral::model
