// Adj-RIB-Out bookkeeping and packing of pending changes into UPDATEs.
#include "bgp/rib/adj_rib_out.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::bgp {
namespace {

bool sameAttrs(const PathAttributesPtr& a, const PathAttributesPtr& b) {
  if (a == b) return true;
  return a && b && *a == *b;
}

}  // namespace

void AdjRibOut::set(const common::Prefix& prefix, PathAttributesPtr attrs) {
  auto sent = sent_.find(prefix);
  const bool peer_has_it = sent != sent_.end() && sameAttrs(sent->second, attrs);
  const bool peer_has_none = sent == sent_.end() && attrs == nullptr;
  if (peer_has_it || peer_has_none) {
    pending_.erase(prefix);
    return;
  }
  pending_[prefix] = std::move(attrs);
}

void AdjRibOut::resendAll() {
  for (const auto& [prefix, attrs] : sent_) pending_.try_emplace(prefix, attrs);
  // Force them out even though the peer "has" them: forget they were sent.
  for (auto& [prefix, attrs] : pending_) {
    if (attrs) sent_.erase(prefix);
  }
}

void AdjRibOut::clear() {
  sent_.clear();
  pending_.clear();
}

const PathAttributes* AdjRibOut::advertised(const common::Prefix& prefix) const {
  auto it = sent_.find(prefix);
  return it == sent_.end() ? nullptr : it->second.get();
}

void AdjRibOut::forEach(
    const std::function<void(const common::Prefix&, const PathAttributesPtr&)>& fn) const {
  for (const auto& [prefix, attrs] : sent_) fn(prefix, attrs);
}

FlushResult AdjRibOut::flush(const SessionContext& ctx, size_t max_prefixes) {
  FlushResult result;
  // Take a slice of the pending changes.
  std::vector<std::pair<common::Prefix, PathAttributesPtr>> slice;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (max_prefixes != 0 && slice.size() >= max_prefixes) break;
    slice.emplace_back(it->first, std::move(it->second));
    it = pending_.erase(it);
  }
  // Group: withdrawals per family; announcements per (family, attribute set).
  std::vector<common::Prefix> withdraw[2];
  std::map<std::pair<int, const PathAttributes*>, std::vector<common::Prefix>> groups;
  std::unordered_map<const PathAttributes*, PathAttributesPtr> owners;
  for (auto& [prefix, attrs] : slice) {
    const int fam = prefix.isV4() ? 0 : 1;
    if (!attrs) {
      withdraw[fam].push_back(prefix);
      sent_.erase(prefix);
      continue;
    }
    groups[{fam, attrs.get()}].push_back(prefix);
    owners.emplace(attrs.get(), attrs);
  }
  for (auto& list : withdraw) {
    if (list.empty()) continue;
    std::sort(list.begin(), list.end());
    auto packed = packWithdrawals(list, ctx);
    if (!packed.ok()) {
      result.errors.emplace_back(errorMessage(packed.status()));
      continue;
    }
    result.withdrawn += list.size();
    for (auto& m : *packed) result.messages.push_back(std::move(m));
  }
  for (auto& [key, prefixes] : groups) {
    std::sort(prefixes.begin(), prefixes.end());
    const PathAttributesPtr& attrs = owners[key.second];
    auto packed = packAnnouncements(*attrs, prefixes, ctx);
    if (!packed.ok()) {
      result.errors.push_back(fmt::format("{} prefixes from {}: {}", prefixes.size(),
                                          prefixes.front().toString(),
                                          errorMessage(packed.status())));
      continue;
    }
    for (const auto& p : prefixes) sent_[p] = attrs;
    result.announced += prefixes.size();
    for (auto& m : *packed) result.messages.push_back(std::move(m));
  }
  return result;
}

}  // namespace coral::bgp
