// Adj-RIB-In: what one peer sent, before import policy, kept only when soft
// reconfiguration is on so a policy change can be re-applied without a route refresh.
#pragma once

#include <functional>
#include <unordered_map>

#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

class AdjRibIn {
 public:
  void set(const common::Prefix& prefix, PathAttributesPtr attrs) {
    routes_[prefix] = std::move(attrs);
  }
  void erase(const common::Prefix& prefix) { routes_.erase(prefix); }
  void clear() { routes_.clear(); }
  size_t size() const { return routes_.size(); }
  const PathAttributes* find(const common::Prefix& prefix) const {
    auto it = routes_.find(prefix);
    return it == routes_.end() ? nullptr : it->second.get();
  }
  void forEach(
      const std::function<void(const common::Prefix&, const PathAttributesPtr&)>& fn) const {
    for (const auto& [prefix, attrs] : routes_) fn(prefix, attrs);
  }

 private:
  std::unordered_map<common::Prefix, PathAttributesPtr> routes_;
};

}  // namespace coral::bgp
