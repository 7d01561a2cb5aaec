// Adj-RIB-In: what one peer sent, before import policy, and whether policy accepted each
// route. It counts received and accepted prefixes, and lets a policy change be re-applied
// without asking the peer for a route refresh (soft reconfiguration inbound).
#pragma once

#include <functional>

#include "bgp/rib/prefix_map.h"
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
    auto [entry, inserted] = routes_.tryEmplace(prefix);
    if (!inserted && entry->accepted) --accepted_;
    *entry = {std::move(attrs), accepted};
    if (accepted) ++accepted_;
  }
  void setAccepted(const common::Prefix& prefix, bool accepted) {
    AdjInEntry* entry = routes_.find(prefix);
    if (entry == nullptr || entry->accepted == accepted) return;
    entry->accepted = accepted;
    accepted ? ++accepted_ : --accepted_;
  }
  void erase(const common::Prefix& prefix) {
    const AdjInEntry* entry = routes_.find(prefix);
    if (entry == nullptr) return;
    if (entry->accepted) --accepted_;
    routes_.erase(prefix);
  }
  void clear() {
    routes_.clear();
    accepted_ = 0;
  }
  size_t size() const { return routes_.size(); }
  size_t acceptedCount() const { return accepted_; }
  const AdjInEntry* find(const common::Prefix& prefix) const { return routes_.find(prefix); }
  void forEach(const std::function<void(const common::Prefix&, const AdjInEntry&)>& fn) const {
    routes_.forEach(fn);
  }

 private:
  PrefixMap<AdjInEntry> routes_;
  size_t accepted_ = 0;
};

}  // namespace coral::bgp
