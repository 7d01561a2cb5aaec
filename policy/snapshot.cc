// Snapshot: the policy compiler's input, kept in evaluation order.
#include "policy/snapshot.h"

#include <algorithm>

namespace coral::policy {

void Snapshot::addNamespace(NamespaceInfo ns) {
  std::string name = ns.name;
  namespaces_[name] = std::move(ns);
}

void Snapshot::addEndpoint(Endpoint endpoint) {
  removeEndpoint(endpoint.id());
  endpoints_.push_back(std::move(endpoint));
}

void Snapshot::addPolicy(Policy policy) {
  removePolicy(policy.id());
  auto pos = std::upper_bound(policies_.begin(), policies_.end(), policy, policyBefore);
  policies_.insert(pos, std::move(policy));
}

void Snapshot::setNodeAddresses(const std::string& node, std::vector<common::IpAddress> addresses) {
  std::sort(addresses.begin(), addresses.end());
  node_addresses_[node] = std::move(addresses);
}

bool Snapshot::removePolicy(std::string_view id) {
  return std::erase_if(policies_, [&](const Policy& p) { return p.id() == id; }) > 0;
}

bool Snapshot::removeEndpoint(std::string_view id) {
  return std::erase_if(endpoints_, [&](const Endpoint& e) { return e.id() == id; }) > 0;
}

const NamespaceInfo* Snapshot::findNamespace(std::string_view name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const Endpoint* Snapshot::findEndpoint(std::string_view id) const {
  for (const auto& e : endpoints_) {
    if (e.id() == id) return &e;
  }
  return nullptr;
}

const Endpoint* Snapshot::findEndpointByAddress(const common::IpAddress& address) const {
  for (const auto& e : endpoints_) {
    if (std::find(e.addresses.begin(), e.addresses.end(), address) != e.addresses.end()) return &e;
  }
  return nullptr;
}

const std::vector<common::IpAddress>& Snapshot::nodeAddresses(std::string_view node) const {
  static const std::vector<common::IpAddress> kNone;
  auto it = node_addresses_.find(node);
  return it == node_addresses_.end() ? kNone : it->second;
}

common::Labels Snapshot::labelsOf(const Endpoint& endpoint) const {
  return effectiveLabels(endpoint, findNamespace(endpoint.namespace_));
}

std::vector<const Policy*> Snapshot::policiesFor(const Endpoint& endpoint,
                                                 Direction direction) const {
  const common::Labels labels = labelsOf(endpoint);
  std::vector<const Policy*> out;
  for (const auto& p : policies_) {
    if (p.applies(direction) && p.selector.matches(labels)) out.push_back(&p);
  }
  return out;
}

}  // namespace coral::policy
