// coral-controller's work, one round at a time: nodes that left the cluster are cleaned
// up (their IPAM blocks and affinities released, BGPPeers scoped to them and their Coral
// Node deleted), then the IPAM garbage collector (ipam/gc.h) releases addresses of pods
// that no longer exist, empty blocks and dangling affinities after its grace periods.
//
// Which nodes exist: in Kubernetes mode the core v1 Nodes (read through the datastore at
// /coral/v1/KubernetesNode/); elsewhere nobody but the operator deletes Coral Nodes, and
// the garbage collector alone handles what a deleted node left behind.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "datastore/resource_store.h"
#include "ipam/gc.h"
#include "ipam/ipam.h"

namespace coral::controller {

// Removes what a node that left the cluster has in the datastore: its IPAM blocks and
// affinities (ipam::Ipam::releaseNode), the BGPPeers scoped to it, and its Coral Node —
// only the version `resource_version` when set, so a corald that re-registered meanwhile
// wins. Idempotent. Returns the names of the BGPPeers it removed. Used by the controller
// for Kubernetes Nodes that are gone and by `coralctl lab node del`.
absl::StatusOr<std::vector<std::string>> removeNode(datastore::ResourceStore& store,
                                                    ipam::Ipam& ipam, const std::string& name,
                                                    const std::string& resource_version = {});

struct ControllerOptions {
  // Compare Coral Nodes with Kubernetes Nodes (the kubernetes datastore).
  bool kubernetes_nodes = false;
  // How long a Coral Node must be missing from Kubernetes before it is cleaned up.
  std::chrono::seconds node_grace{60};
  ipam::GcOptions gc;
};

struct RoundReport {
  std::vector<std::string> removed_nodes;
  std::vector<std::string> removed_peers;
  ipam::GcRound gc;
};

class Controller {
 public:
  Controller(datastore::ResourceStore& store, const common::Clock& clock,
             ControllerOptions options);
  absl::StatusOr<RoundReport> runOnce();

 private:
  absl::Status cleanupNodes(RoundReport& report);

  datastore::ResourceStore& store_;
  const common::Clock& clock_;
  ControllerOptions options_;
  ipam::Ipam ipam_;
  ipam::GarbageCollector gc_;
  std::map<std::string, common::Clock::Steady::time_point> missing_since_;
};

}  // namespace coral::controller
