// Loc-RIB mutations: change the paths of one destination, reselect, diff the ECMP set.
#include "bgp/rib/loc_rib.h"

#include <algorithm>

namespace coral::bgp {
namespace {

bool sameSet(const std::vector<Path>& a, const std::vector<Path>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].sameAs(b[i])) return false;
  }
  return true;
}

}  // namespace

LocRib::LocRib(uint32_t local_as, size_t max_paths)
    : local_as_(local_as), max_paths_(std::max<size_t>(1, max_paths)) {}

Path LocRib::materialize(const StoredPath& p) const {
  return Path{attrs_.get(p.attrs), sources_.get(p.source), p.weight, p.stale};
}

LocRib::StoredPath LocRib::store(const Path& p) {
  StoredPath s;
  s.attrs = attrs_.ref(p.attrs);
  s.source = sources_.ref(p.source);
  s.weight = p.weight;
  s.stale = p.stale;
  return s;
}

void LocRib::release(const StoredPath& p) {
  attrs_.unref(p.attrs);
  sources_.unref(p.source);
}

bool LocRib::same(const StoredPath& stored, const Path& p) const {
  const PathSource& source = *sources_.get(stored.source);
  if (source.id != p.sourceId() || stored.weight != p.weight) return false;
  const PathAttributesPtr& a = attrs_.get(stored.attrs);
  return a == p.attrs || (a && p.attrs && *a == *p.attrs);
}

std::span<LocRib::StoredPath> LocRib::pathsOf(Slot& slot) {
  if (slot.multi) return multi_[slot.attrs];
  return {&slot, 1};
}

std::span<const LocRib::StoredPath> LocRib::pathsOf(const Slot& slot) const {
  if (slot.multi) return multi_[slot.attrs];
  return {&slot, 1};
}

Destination LocRib::destinationOf(const Slot& slot) const {
  Destination d;
  for (const StoredPath& p : pathsOf(slot)) d.paths.push_back(materialize(p));
  d.multipath_count = slot.multipath_count;
  d.reason = slot.reason;
  return d;
}

std::vector<Path> LocRib::ecmpSet(const Slot& slot) const {
  std::vector<Path> out;
  const auto paths = pathsOf(slot);
  for (size_t i = 0; i < slot.multipath_count && i < paths.size(); ++i) {
    out.push_back(materialize(paths[i]));
  }
  return out;
}

void LocRib::countFresh(const StoredPath& p, int delta) {
  if (p.stale) return;
  const uint32_t id = sources_.get(p.source)->id;
  if (fresh_last_ == nullptr || fresh_last_id_ != id) {
    fresh_last_ = &fresh_[id];  // unordered_map values stay put
    fresh_last_id_ = id;
  }
  *fresh_last_ = static_cast<size_t>(static_cast<int64_t>(*fresh_last_) + delta);
}

size_t LocRib::freshCount(uint32_t source_id) const {
  auto it = fresh_.find(source_id);
  return it == fresh_.end() ? 0 : it->second;
}

void LocRib::reselect(const common::Prefix& prefix, Slot& slot, std::vector<Path> before,
                      RibChanges& out) {
  RibChange change;
  change.prefix = prefix;
  if (!before.empty()) change.old_best = before.front();
  if (slot.multi && multi_[slot.attrs].size() <= 1) {
    // Back to a single inline path (or none).
    const uint32_t list = slot.attrs;
    std::vector<StoredPath>& paths = multi_[list];
    slot.multi = false;
    if (paths.empty()) {
      slot.multipath_count = 0;
    } else {
      const StoredPath only = paths.front();
      slot.attrs = only.attrs;
      slot.source = only.source;
      slot.weight = only.weight;
      slot.stale = only.stale;
      slot.multipath_count = 1;
    }
    paths.clear();
    paths.shrink_to_fit();
    multi_free_.push_back(list);
    if (slot.multipath_count == 0) {
      table_.erase(prefix);
      if (!before.empty()) out.push_back(std::move(change));
      return;
    }
  }
  std::vector<Path> after;
  if (!slot.multi) {
    slot.multipath_count = 1;
    slot.reason = BestPathStep::kOnlyPath;
    after.push_back(materialize(slot));
  } else {
    std::vector<StoredPath>& stored = multi_[slot.attrs];
    std::vector<Path> paths;
    paths.reserve(stored.size());
    for (const StoredPath& p : stored) paths.push_back(materialize(p));
    const Selection sel = selectBest(paths, local_as_, max_paths_);
    // Reorder: the ECMP set first (best first), then the rest in their old order.
    std::vector<StoredPath> ordered;
    ordered.reserve(stored.size());
    std::vector<bool> taken(stored.size(), false);
    for (size_t i : sel.multipath) {
      ordered.push_back(stored[i]);
      after.push_back(paths[i]);
      taken[i] = true;
    }
    for (size_t i = 0; i < stored.size(); ++i) {
      if (!taken[i]) ordered.push_back(stored[i]);
    }
    stored = std::move(ordered);
    slot.multipath_count = static_cast<uint8_t>(sel.multipath.size());
    slot.reason = sel.reason;
  }
  if (sameSet(before, after)) return;
  change.new_best = after.front();
  change.multipath = std::move(after);
  change.reason = slot.reason;
  out.push_back(std::move(change));
}

void LocRib::update(const common::Prefix& prefix, Path path, RibChanges& out) {
  auto [slot, inserted] = table_.tryEmplace(prefix);
  if (inserted) {
    const BestPathStep reason = BestPathStep::kOnlyPath;
    *slot = store(path);
    slot->multipath_count = 1;
    slot->reason = reason;
    countFresh(*slot, +1);
    RibChange change;
    change.prefix = prefix;
    change.new_best = path;
    change.multipath.push_back(std::move(path));
    change.reason = reason;
    out.push_back(std::move(change));
    return;
  }
  std::vector<Path> before = ecmpSet(*slot);
  const auto paths = pathsOf(*slot);
  auto existing = std::find_if(paths.begin(), paths.end(), [&](const StoredPath& p) {
    return sources_.get(p.source)->id == path.sourceId();
  });
  if (existing != paths.end()) {
    if (same(*existing, path) && existing->stale == path.stale) return;
    StoredPath fresh = store(path);
    countFresh(*existing, -1);
    release(*existing);
    countFresh(fresh, +1);
    existing->attrs = fresh.attrs;
    existing->source = fresh.source;
    existing->weight = fresh.weight;
    existing->stale = fresh.stale;
  } else {
    StoredPath added = store(path);
    countFresh(added, +1);
    if (!slot->multi) {
      uint32_t list;
      if (!multi_free_.empty()) {
        list = multi_free_.back();
        multi_free_.pop_back();
      } else {
        list = static_cast<uint32_t>(multi_.size());
        multi_.emplace_back();
      }
      StoredPath only = *slot;
      only.multi = false;
      multi_[list].push_back(only);
      slot->multi = true;
      slot->attrs = list;
    }
    multi_[slot->attrs].push_back(added);
  }
  reselect(prefix, *slot, std::move(before), out);
}

void LocRib::withdraw(const common::Prefix& prefix, uint32_t source_id, RibChanges& out) {
  Slot* slot = table_.find(prefix);
  if (slot == nullptr) return;
  if (!slot->multi) {
    if (sources_.get(slot->source)->id != source_id) return;
    RibChange change;
    change.prefix = prefix;
    change.old_best = materialize(*slot);
    countFresh(*slot, -1);
    release(*slot);
    table_.erase(prefix);
    out.push_back(std::move(change));
    return;
  }
  std::vector<StoredPath>& paths = multi_[slot->attrs];
  auto existing = std::find_if(paths.begin(), paths.end(), [&](const StoredPath& p) {
    return sources_.get(p.source)->id == source_id;
  });
  if (existing == paths.end()) return;
  std::vector<Path> before = ecmpSet(*slot);
  countFresh(*existing, -1);
  release(*existing);
  paths.erase(existing);
  reselect(prefix, *slot, std::move(before), out);
}

std::vector<common::Prefix> LocRib::prefixesOf(uint32_t source_id, bool stale_only,
                                               std::optional<common::Family> family) const {
  std::vector<common::Prefix> hit;
  table_.forEach([&](const common::Prefix& prefix, const Slot& slot) {
    if (family && prefix.family() != *family) return;
    for (const StoredPath& p : pathsOf(slot)) {
      if (sources_.get(p.source)->id == source_id && (!stale_only || p.stale)) {
        hit.push_back(prefix);
        break;
      }
    }
  });
  return hit;
}

void LocRib::withdrawSource(uint32_t source_id, RibChanges& out) {
  for (const auto& prefix : prefixesOf(source_id, false, std::nullopt)) {
    withdraw(prefix, source_id, out);
  }
}

size_t LocRib::markStale(uint32_t source_id) {
  size_t n = 0;
  table_.forEachValue([&](Slot& slot) {
    for (StoredPath& p : pathsOf(slot)) {
      if (sources_.get(p.source)->id == source_id) {
        p.stale = true;
        ++n;
      }
    }
  });
  fresh_.erase(source_id);
  fresh_last_ = nullptr;
  return n;
}

void LocRib::sweepStale(uint32_t source_id, std::optional<common::Family> family, RibChanges& out) {
  for (const auto& prefix : prefixesOf(source_id, true, family)) withdraw(prefix, source_id, out);
}

void LocRib::setMaxPaths(size_t max_paths, RibChanges& out) {
  max_paths_ = std::max<size_t>(1, max_paths);
  std::vector<common::Prefix> all;
  all.reserve(table_.size());
  table_.forEach([&](const common::Prefix& prefix, const Slot& slot) {
    if (slot.multi) all.push_back(prefix);
  });
  for (const auto& prefix : all) {
    Slot* slot = table_.find(prefix);
    reselect(prefix, *slot, ecmpSet(*slot), out);
  }
}

std::unordered_map<uint32_t, uint64_t> LocRib::staleCounts() const {
  std::unordered_map<uint32_t, uint64_t> out;
  table_.forEachValue([&](const Slot& slot) {
    for (const StoredPath& p : pathsOf(slot)) {
      if (p.stale) ++out[sources_.get(p.source)->id];
    }
  });
  return out;
}

std::optional<Destination> LocRib::find(const common::Prefix& prefix) const {
  const Slot* slot = table_.find(prefix);
  if (slot == nullptr) return std::nullopt;
  return destinationOf(*slot);
}

void LocRib::forEach(
    const std::function<void(const common::Prefix&, const Destination&)>& fn) const {
  table_.forEach(
      [&](const common::Prefix& prefix, const Slot& slot) { fn(prefix, destinationOf(slot)); });
}

void LocRib::forEachBest(const std::function<void(const common::Prefix&, const Path&)>& fn) const {
  table_.forEach([&](const common::Prefix& prefix, const Slot& slot) {
    fn(prefix, materialize(pathsOf(slot).front()));
  });
}

}  // namespace coral::bgp
