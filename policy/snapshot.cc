// Snapshot: the policy compiler's input, kept in evaluation order.
#include "policy/snapshot.h"

#include <algorithm>
#include <atomic>

namespace coral::policy {
namespace {

uint64_t nextRevision() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// Compares "ns/name" with `id` byte by byte.
int compareParts(std::string_view ns, std::string_view name, std::string_view id) {
  size_t i = 0;
  auto at = [&](size_t k) -> unsigned char {
    if (k < ns.size()) return static_cast<unsigned char>(ns[k]);
    if (k == ns.size()) return '/';
    return static_cast<unsigned char>(name[k - ns.size() - 1]);
  };
  const size_t len = ns.size() + 1 + name.size();
  for (; i < len && i < id.size(); ++i) {
    const unsigned char a = at(i), b = static_cast<unsigned char>(id[i]);
    if (a != b) return a < b ? -1 : 1;
  }
  if (len == id.size()) return 0;
  return len < id.size() ? -1 : 1;
}

// Position of the endpoint with `id`, or where it would go.
template <typename Vec>
auto lowerBound(Vec& endpoints, std::string_view id) {
  return std::lower_bound(
      endpoints.begin(), endpoints.end(), id,
      [](const Endpoint& e, std::string_view v) { return compareEndpointId(e, v) < 0; });
}

}  // namespace

int compareEndpointId(const Endpoint& a, std::string_view id) {
  return compareParts(a.namespace_, a.name, id);
}

int compareEndpointIds(const Endpoint& a, const Endpoint& b) {
  if (a.namespace_ == b.namespace_) {
    const int c = a.name.compare(b.name);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return compareEndpointId(a, b.id());
}

void Snapshot::addNamespace(NamespaceInfo ns) {
  std::string name = ns.name;
  namespaces_[name] = std::move(ns);
  inputs_revision_ = nextRevision();
}

void Snapshot::addEndpoint(Endpoint endpoint) {
  const std::string id = endpoint.id();
  auto it = lowerBound(endpoints_, id);
  const size_t index = static_cast<size_t>(it - endpoints_.begin());
  if (it != endpoints_.end() && compareEndpointId(*it, id) == 0) {
    *it = std::move(endpoint);
    endpoint_revisions_[index] = nextRevision();
    return;
  }
  endpoints_.insert(it, std::move(endpoint));
  endpoint_revisions_.insert(endpoint_revisions_.begin() + static_cast<std::ptrdiff_t>(index),
                             nextRevision());
}

void Snapshot::addPolicy(Policy policy) {
  removePolicy(policy.id());
  auto pos = std::upper_bound(policies_.begin(), policies_.end(), policy, policyBefore);
  policies_.insert(pos, std::move(policy));
  inputs_revision_ = nextRevision();
}

void Snapshot::setNodeAddresses(const std::string& node, std::vector<common::IpAddress> addresses) {
  std::sort(addresses.begin(), addresses.end());
  node_addresses_[node] = std::move(addresses);
  inputs_revision_ = nextRevision();
}

bool Snapshot::removePolicy(std::string_view id) {
  const bool removed = std::erase_if(policies_, [&](const Policy& p) { return p.id() == id; }) > 0;
  if (removed) inputs_revision_ = nextRevision();
  return removed;
}

bool Snapshot::removeEndpoint(std::string_view id) {
  auto it = lowerBound(endpoints_, id);
  if (it == endpoints_.end() || compareEndpointId(*it, id) != 0) return false;
  endpoint_revisions_.erase(endpoint_revisions_.begin() + (it - endpoints_.begin()));
  endpoints_.erase(it);
  return true;
}

const NamespaceInfo* Snapshot::findNamespace(std::string_view name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const Endpoint* Snapshot::findEndpoint(std::string_view id) const {
  auto it = lowerBound(endpoints_, id);
  if (it == endpoints_.end() || compareEndpointId(*it, id) != 0) return nullptr;
  return &*it;
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
  return policiesFor(labelsOf(endpoint), direction);
}

std::vector<const Policy*> Snapshot::policiesFor(const common::Labels& labels,
                                                 Direction direction) const {
  std::vector<const Policy*> out;
  for (const auto& p : policies_) {
    if (p.applies(direction) && p.selector.matches(labels)) out.push_back(&p);
  }
  return out;
}

}  // namespace coral::policy
