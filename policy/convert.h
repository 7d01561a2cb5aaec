// Converters from the resource model (model/kinds) to the internal policy model (model.h):
// Kubernetes NetworkPolicy, Coral NetworkPolicy and GlobalNetworkPolicy, WorkloadEndpoint,
// Pod and Namespace. All Kubernetes semantics that are about *which packets a rule names*
// are decided here (peer AND/OR, namespace scoping, ipBlock/except, protocol defaults,
// endPort); the compiler only sees PolicyRules.
#pragma once

#include "absl/status/statusor.h"
#include "model/kinds/k8s.h"
#include "model/kinds/node.h"
#include "model/kinds/policy.h"
#include "model/meta.h"
#include "policy/model.h"
#include "policy/snapshot.h"

namespace coral::policy {

// metav1.LabelSelector as a Calico selector: matchLabels are `k == "v"`, In/NotIn are
// `k in {..}`/`k not in {..}` (NotIn is true when k is absent, as in Kubernetes), Exists is
// has(k), DoesNotExist !has(k); empty is all().
absl::StatusOr<Selector> fromLabelSelector(const model::LabelSelectorSpec& spec);

// A Kubernetes policy becomes a Coral-shaped policy of order 1000 whose rules all Allow:
// each (peer, protocol) pair of a rule is one PolicyRule, so OR across peers and ports is
// first-match over rules and AND inside a peer is one selector.
absl::StatusOr<Policy> fromKubernetes(const model::KubernetesNetworkPolicy& policy);
absl::StatusOr<Policy> fromCoral(const model::NetworkPolicy& policy);
absl::StatusOr<Policy> fromCoral(const model::GlobalNetworkPolicy& policy);

absl::StatusOr<Endpoint> fromWorkloadEndpoint(const model::WorkloadEndpoint& endpoint);
// hostNetwork pods are not endpoints (no interface of their own): FailedPrecondition.
absl::StatusOr<Endpoint> fromPod(const model::Pod& pod);
NamespaceInfo fromNamespace(const model::Namespace& ns);

// "80", "8080:8090", 80 → a range; anything else → nullopt (a port name).
std::optional<PortRange> parsePortRange(const model::IntOrString& port);

// A normalized generic resource (model::normalize) into the snapshot: Kubernetes and Coral
// NetworkPolicy, GlobalNetworkPolicy, Namespace, Pod (not hostNetwork), WorkloadEndpoint,
// Node (its addresses, for the node-allow rule). Other kinds are InvalidArgument.
absl::Status applyResource(Snapshot& snapshot, const model::Resource& resource);

}  // namespace coral::policy
