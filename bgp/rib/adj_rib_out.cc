// Adj-RIB-Out bookkeeping and packing of pending changes into UPDATEs.
#include "bgp/rib/adj_rib_out.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::bgp {
namespace {

constexpr size_t kPrefetch = 8;

// The order of common::Prefix, with IPv4 compared as integers (the defaulted <=> compares
// 16 address bytes with memcmp).
bool prefixLess(const common::Prefix& a, const common::Prefix& b) {
  if (a.isV4() && b.isV4()) {
    const auto x = a.address().bytes(), y = b.address().bytes();
    const uint32_t xa = uint32_t(x[0]) << 24 | uint32_t(x[1]) << 16 | uint32_t(x[2]) << 8 | x[3];
    const uint32_t ya = uint32_t(y[0]) << 24 | uint32_t(y[1]) << 16 | uint32_t(y[2]) << 8 | y[3];
    return xa != ya ? xa < ya : a.length() < b.length();
  }
  return a < b;
}

// Sorted output is easier to read and test; the input is usually in order already.
void sortPrefixes(std::vector<common::Prefix>& list) {
  if (!std::is_sorted(list.begin(), list.end(), prefixLess)) {
    std::sort(list.begin(), list.end(), prefixLess);
  }
}

bool sameAttrs(const PathAttributesPtr& a, const PathAttributesPtr& b) {
  if (a == b) return true;
  return a && b && *a == *b;
}

}  // namespace

void AdjRibOut::set(const common::Prefix& prefix, PathAttributesPtr attrs) {
  if (attrs == nullptr && sent_.empty() && pending_.empty()) return;  // a peer told nothing
  const uint32_t* sent = sent_.find(prefix);
  const bool peer_has_it = sent != nullptr && sameAttrs(sent_attrs_.get(*sent), attrs);
  const bool peer_has_none = sent == nullptr && attrs == nullptr;
  if (peer_has_it || peer_has_none) {
    pending_.erase(prefix);
    return;
  }
  *pending_.tryEmplace(prefix).first = {prefix, std::move(attrs)};
}

void AdjRibOut::resendAll() {
  // Force everything advertised out again even though the peer "has" it: forget it was
  // sent. A pending change of a prefix wins over what was sent.
  sent_.forEach([&](const common::Prefix& prefix, uint32_t id) {
    auto [value, inserted] = pending_.tryEmplace(prefix);
    if (inserted) *value = {prefix, sent_attrs_.get(id)};
  });
  std::vector<common::Prefix> forget;
  pending_.forEach([&](const common::Prefix& prefix, const Pending& p) {
    if (p.attrs) forget.push_back(prefix);
  });
  for (const auto& prefix : forget) eraseSent(prefix);
}

void AdjRibOut::eraseSent(const common::Prefix& prefix) {
  if (const uint32_t* id = sent_.find(prefix)) {
    sent_attrs_.unref(*id);
    sent_.erase(prefix);
  }
}

void AdjRibOut::clear() {
  sent_.clear();
  sent_attrs_.clear();
  pending_.clear();
}

const PathAttributes* AdjRibOut::advertised(const common::Prefix& prefix) const {
  const uint32_t* id = sent_.find(prefix);
  return id == nullptr ? nullptr : sent_attrs_.get(*id).get();
}

void AdjRibOut::forEach(
    const std::function<void(const common::Prefix&, const PathAttributesPtr&)>& fn) const {
  sent_.forEach(
      [&](const common::Prefix& prefix, uint32_t id) { fn(prefix, sent_attrs_.get(id)); });
}

FlushResult AdjRibOut::flush(const SessionContext& ctx, size_t max_prefixes) {
  FlushResult result;
  // Take a slice of the pending changes.
  std::vector<std::pair<common::Prefix, PathAttributesPtr>> slice;
  slice.reserve(max_prefixes != 0 ? std::min(max_prefixes, pending_.size()) : pending_.size());
  if (max_prefixes == 0 || pending_.size() <= max_prefixes) {
    // All of it, in the order it was queued (usually the order of the prefixes).
    pending_.forEach([&](const common::Prefix&, Pending& p) {
      slice.emplace_back(p.prefix, std::move(p.attrs));
    });
    pending_.reset();
  } else {
    Pending p;
    while (slice.size() < max_prefixes && pending_.popValue(p)) {
      slice.emplace_back(p.prefix, std::move(p.attrs));
    }
  }
  // Group: withdrawals per family; announcements per (family, attribute set).
  std::vector<common::Prefix> withdraw[2];
  std::map<std::pair<int, const PathAttributes*>, std::vector<common::Prefix>> groups;
  std::map<const PathAttributes*, PathAttributesPtr> owners;
  for (auto& [prefix, attrs] : slice) {
    const int fam = prefix.isV4() ? 0 : 1;
    if (!attrs) {
      withdraw[fam].push_back(prefix);
      eraseSent(prefix);
      continue;
    }
    groups[{fam, attrs.get()}].push_back(prefix);
    owners.emplace(attrs.get(), attrs);
  }
  for (auto& list : withdraw) {
    if (list.empty()) continue;
    sortPrefixes(list);
    auto packed = packWithdrawals(list, ctx);
    if (!packed.ok()) {
      result.errors.emplace_back(errorMessage(packed.status()));
      continue;
    }
    result.withdrawn += list.size();
    for (auto& m : *packed) result.messages.push_back(std::move(m));
  }
  for (auto& [key, prefixes] : groups) {
    sortPrefixes(prefixes);
    const PathAttributesPtr& attrs = owners[key.second];
    auto packed = packAnnouncements(*attrs, prefixes, ctx);
    if (!packed.ok()) {
      result.errors.push_back(fmt::format("{} prefixes from {}: {}", prefixes.size(),
                                          prefixes.front().toString(),
                                          errorMessage(packed.status())));
      continue;
    }
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (i + kPrefetch < prefixes.size()) sent_.prefetch(prefixes[i + kPrefetch]);
      const common::Prefix& p = prefixes[i];
      const uint32_t id = sent_attrs_.ref(attrs);
      auto [value, inserted] = sent_.tryEmplace(p);
      if (!inserted) sent_attrs_.unref(*value);
      *value = id;
    }
    result.announced += prefixes.size();
    for (auto& m : *packed) result.messages.push_back(std::move(m));
  }
  return result;
}

}  // namespace coral::bgp
