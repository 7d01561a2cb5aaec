// Snapshot: everything policy compilation reads — namespaces, endpoints, policies and node
// addresses — held in evaluation order. The agent's calculation layer keeps one up to
// date from the datastore watch; tests and `coralctl policy trace` build one directly.
//
// Revisions let an incremental consumer (IncrementalCompiler) find what changed between
// two snapshots without comparing everything: every add stamps the object with a
// process-wide unique revision, copies of a snapshot keep the stamps, so an endpoint with
// the same revision in two snapshots is the same endpoint. Different revisions say nothing
// (a rebuilt snapshot has new ones for equal content): compare the content then.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace coral::policy {

// Byte order of a.id() and b.id() without building the strings: <0, 0, >0.
int compareEndpointIds(const Endpoint& a, const Endpoint& b);
int compareEndpointId(const Endpoint& a, std::string_view id);

class Snapshot {
 public:
  // Each add replaces an earlier object with the same identity (name, id(), node).
  void addNamespace(NamespaceInfo ns);
  void addEndpoint(Endpoint endpoint);
  void addPolicy(Policy policy);
  void setNodeAddresses(const std::string& node, std::vector<common::IpAddress> addresses);
  bool removePolicy(std::string_view id);
  bool removeEndpoint(std::string_view id);

  // Sorted by id() ("ns/pod", byte order).
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  // The revision of endpoints()[index].
  uint64_t endpointRevision(size_t index) const { return endpoint_revisions_[index]; }
  // Changes with every add/remove of a policy or namespace and every setNodeAddresses.
  uint64_t inputsRevision() const { return inputs_revision_; }
  const std::map<std::string, NamespaceInfo, std::less<>>& namespaces() const {
    return namespaces_;
  }
  // In evaluation order (policyBefore).
  const std::vector<Policy>& policies() const { return policies_; }
  const NamespaceInfo* findNamespace(std::string_view name) const;
  const Endpoint* findEndpoint(std::string_view id) const;  // "ns/pod"
  const Endpoint* findEndpointByAddress(const common::IpAddress& address) const;
  const std::vector<common::IpAddress>& nodeAddresses(std::string_view node) const;

  common::Labels labelsOf(const Endpoint& endpoint) const;
  // The policies that select the endpoint for the direction, in evaluation order.
  std::vector<const Policy*> policiesFor(const Endpoint& endpoint, Direction direction) const;
  // The same for an endpoint's effective labels (labelsOf) computed by the caller.
  std::vector<const Policy*> policiesFor(const common::Labels& labels, Direction direction) const;

 private:
  std::map<std::string, NamespaceInfo, std::less<>> namespaces_;
  std::vector<Endpoint> endpoints_;
  std::vector<uint64_t> endpoint_revisions_;  // parallel to endpoints_
  uint64_t inputs_revision_ = 0;
  std::vector<Policy> policies_;
  std::map<std::string, std::vector<common::IpAddress>, std::less<>> node_addresses_;
};

}  // namespace coral::policy
