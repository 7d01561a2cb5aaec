// SnapshotBuilder: the agent's resource caches → the policy::Snapshot that PolicyDataplane
// applies and that `coralctl policy trace` evaluates. Kinds: Namespace, Node (addresses for
// the node-allow rule), Kubernetes NetworkPolicy, Coral NetworkPolicy and
// GlobalNetworkPolicy, Pod and WorkloadEndpoint.
//
// A pod may be known twice: as its Pod (the orchestrator's record: labels, IPs, named
// container ports) and as its WorkloadEndpoint (written by corald at CNI ADD: node,
// interface, addresses). They are one endpoint: the WorkloadEndpoint's node, interface
// and addresses with the Pod's labels (labels change on the Pod) and the Pod's named ports
// when the endpoint lists none. A Pod without an endpoint still counts as a peer with its
// IPs (a pod of a node that is not running corald yet). Resources that do not convert are
// skipped and reported, never fatal: one bad policy must not unprotect every pod.
#pragma once

#include <string>
#include <vector>

#include "model/meta.h"
#include "policy/snapshot.h"

namespace coral::agent {

struct SnapshotBuild {
  policy::Snapshot snapshot;
  std::vector<std::string> errors;  // "NetworkPolicy x/p: ...", one per skipped resource
};

// Resources of any of the kinds above, in any order.
SnapshotBuild buildPolicySnapshot(const std::vector<model::Resource>& resources);

}  // namespace coral::agent
