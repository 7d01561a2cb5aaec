// Test support: the part of Kubernetes' CRD machinery the manifests tests need.
//   - structuralErrors: the structural-schema rules the API server applies to a CRD's
//     openAPIV3Schema (type everywhere, properties xor additionalProperties, the
//     x-kubernetes-* extensions only where allowed, metadata restricted to name and
//     generateName, known keywords only, defaults that validate).
//   - validateAgainstSchema: an OpenAPI v3 subset validator with the API server's
//     semantics for custom resources under strict field validation (unknown fields are
//     errors; int-or-string; preserve-unknown-fields).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace coral::manifests_test {

using Json = nlohmann::json;

// Every violation, each with its schema path ("spec.versions[0]...properties.spec.type").
std::vector<std::string> structuralErrors(const Json& schema);

// Errors of `value` against `schema`, each with its field path ("spec.cidr: ...").
std::vector<std::string> validateAgainstSchema(const Json& value, const Json& schema,
                                               const std::string& path = "");

// A whole custom resource against its CRD: apiVersion, kind, metadata (name as Kubernetes
// requires, namespace by scope) and the version's schema.
std::vector<std::string> validateCustomResource(const Json& resource, const Json& crd);

}  // namespace coral::manifests_test
