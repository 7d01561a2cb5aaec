// Snapshot: everything policy compilation reads — namespaces, endpoints, policies and node
// addresses — held in evaluation order. The agent's calculation layer keeps one up to
// date from the datastore watch; tests and `coralctl policy trace` build one directly.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace coral::policy {

class Snapshot {
 public:
  // Each add replaces an earlier object with the same identity (name, id(), node).
  void addNamespace(NamespaceInfo ns);
  void addEndpoint(Endpoint endpoint);
  void addPolicy(Policy policy);
  void setNodeAddresses(const std::string& node, std::vector<common::IpAddress> addresses);
  bool removePolicy(std::string_view id);
  bool removeEndpoint(std::string_view id);

  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  // In evaluation order (policyBefore).
  const std::vector<Policy>& policies() const { return policies_; }
  const NamespaceInfo* findNamespace(std::string_view name) const;
  const Endpoint* findEndpoint(std::string_view id) const;  // "ns/pod"
  const Endpoint* findEndpointByAddress(const common::IpAddress& address) const;
  const std::vector<common::IpAddress>& nodeAddresses(std::string_view node) const;

  common::Labels labelsOf(const Endpoint& endpoint) const;
  // The policies that select the endpoint for the direction, in evaluation order.
  std::vector<const Policy*> policiesFor(const Endpoint& endpoint, Direction direction) const;

 private:
  std::map<std::string, NamespaceInfo, std::less<>> namespaces_;
  std::vector<Endpoint> endpoints_;
  std::vector<Policy> policies_;
  std::map<std::string, std::vector<common::IpAddress>, std::less<>> node_addresses_;
};

}  // namespace coral::policy
