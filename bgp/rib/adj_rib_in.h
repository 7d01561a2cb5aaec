// Adj-RIB-In: what one peer sent, before import policy, and whether policy accepted each
// route. It counts received and accepted prefixes, and lets a policy change be re-applied
// without asking the peer for a route refresh (soft reconfiguration inbound).
#pragma once

#include <functional>
#include <unordered_map>

#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

struct AdjInEntry {
  PathAttributesPtr attrs;  // as received
  bool accepted = false;    // import policy let it into the Loc-RIB
};

class AdjRibIn {
 public:
  void set(const common::Prefix& prefix, PathAttributesPtr attrs, bool accepted) {
    auto [it, inserted] = routes_.try_emplace(prefix);
    if (!inserted && it->second.accepted) --accepted_;
    it->second = {std::move(attrs), accepted};
    if (accepted) ++accepted_;
  }
  void setAccepted(const common::Prefix& prefix, bool accepted) {
    auto it = routes_.find(prefix);
    if (it == routes_.end() || it->second.accepted == accepted) return;
    it->second.accepted = accepted;
    accepted ? ++accepted_ : --accepted_;
  }
  void erase(const common::Prefix& prefix) {
    auto it = routes_.find(prefix);
    if (it == routes_.end()) return;
    if (it->second.accepted) --accepted_;
    routes_.erase(it);
  }
  void clear() {
    routes_.clear();
    accepted_ = 0;
  }
  size_t size() const { return routes_.size(); }
  size_t acceptedCount() const { return accepted_; }
  const AdjInEntry* find(const common::Prefix& prefix) const {
    auto it = routes_.find(prefix);
    return it == routes_.end() ? nullptr : &it->second;
  }
  void forEach(const std::function<void(const common::Prefix&, const AdjInEntry&)>& fn) const {
    for (const auto& [prefix, entry] : routes_) fn(prefix, entry);
  }

 private:
  std::unordered_map<common::Prefix, AdjInEntry> routes_;
  size_t accepted_ = 0;
};

}  // namespace coral::bgp
