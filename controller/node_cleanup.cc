// Controller::runOnce: node cleanup, then a garbage-collection round (see node_cleanup.h).
#include "controller/node_cleanup.h"

#include <fmt/format.h>

#include <set>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "datastore/kubernetes/resource_map.h"
#include "model/registry.h"

namespace coral::controller {

absl::StatusOr<std::vector<std::string>> removeNode(datastore::ResourceStore& store,
                                                    ipam::Ipam& ipam, const std::string& name,
                                                    const std::string& resource_version) {
  CORAL_RETURN_IF_ERROR(annotate(ipam.releaseNode(name), "release node " + name));
  std::vector<std::string> removed_peers;
  CORAL_ASSIGN_OR_RETURN(auto peers, store.list<model::BGPPeer>());
  for (const model::BGPPeer& peer : peers) {
    if (peer.spec.node != name) continue;
    auto removed = store.remove(model::kindOf<model::BGPPeer>(), "", peer.metadata.name);
    if (!removed.ok() && !datastore::isNotFound(removed.status())) return removed.status();
    removed_peers.push_back(peer.metadata.name);
  }
  auto removed = store.remove(model::kindOf<model::Node>(), "", name, resource_version);
  if (!removed.ok() && !datastore::isNotFound(removed.status()) &&
      !datastore::isConflict(removed.status())) {
    return removed.status();
  }
  return removed_peers;
}

Controller::Controller(datastore::ResourceStore& store, const common::Clock& clock,
                       ControllerOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      ipam_(store),
      gc_(ipam_, clock, options_.gc) {}

absl::Status Controller::cleanupNodes(RoundReport& report) {
  // The Kubernetes Nodes. A failed list stops the round: never clean up on missing data.
  CORAL_ASSIGN_OR_RETURN(
      datastore::ListResult k8s_nodes,
      store_.backend().list(std::string(datastore::kubernetes::kKubernetesNodePrefix)));
  std::set<std::string> alive;
  for (const auto& kv : k8s_nodes.kvs) {
    alive.insert(std::string(split(kv.key, '/').back()));
  }
  CORAL_ASSIGN_OR_RETURN(auto coral_nodes, store_.list<model::Node>());
  const auto now = clock_.now();
  std::set<std::string> missing;
  for (const model::Node& node : coral_nodes) {
    const std::string& name = node.metadata.name;
    if (alive.contains(name)) continue;
    missing.insert(name);
    auto [it, fresh] = missing_since_.emplace(name, now);
    if (now - it->second < options_.node_grace) continue;
    log::info(
        fmt::format("controller: node {} left the cluster: releasing its blocks, peers "
                    "and Coral Node",
                    name));
    CORAL_ASSIGN_OR_RETURN(auto peers,
                           removeNode(store_, ipam_, name, node.metadata.resource_version));
    report.removed_peers.insert(report.removed_peers.end(), peers.begin(), peers.end());
    report.removed_nodes.push_back(name);
    missing_since_.erase(name);
  }
  std::erase_if(missing_since_, [&](const auto& entry) { return !missing.contains(entry.first); });
  return absl::OkStatus();
}

absl::StatusOr<RoundReport> Controller::runOnce() {
  RoundReport report;
  if (options_.kubernetes_nodes) CORAL_RETURN_IF_ERROR(cleanupNodes(report));
  CORAL_ASSIGN_OR_RETURN(report.gc, gc_.runOnce());
  return report;
}

}  // namespace coral::controller
