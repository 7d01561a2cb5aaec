// Loc-RIB mutations: change the paths of one destination, reselect, diff the ECMP set.
#include "bgp/rib/loc_rib.h"

#include <algorithm>

namespace coral::bgp {
namespace {

std::vector<Path> ecmpSet(const Destination& d) {
  return {d.paths.begin(), d.paths.begin() + d.multipath_count};
}

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

void LocRib::reselect(Table& table, Table::iterator it, const std::vector<Path>& before,
                      RibChanges& out) {
  Destination& d = it->second;
  RibChange change;
  change.prefix = it->first;
  if (!before.empty()) change.old_best = before.front();
  if (d.paths.empty()) {
    table.erase(it);
    if (!before.empty()) out.push_back(std::move(change));
    return;
  }
  const Selection sel = selectBest(d.paths, local_as_, max_paths_);
  // Reorder: the ECMP set first (best first), then the rest in their old order.
  std::vector<Path> ordered;
  ordered.reserve(d.paths.size());
  std::vector<bool> taken(d.paths.size(), false);
  for (size_t i : sel.multipath) {
    ordered.push_back(std::move(d.paths[i]));
    taken[i] = true;
  }
  for (size_t i = 0; i < d.paths.size(); ++i) {
    if (!taken[i]) ordered.push_back(std::move(d.paths[i]));
  }
  d.paths = std::move(ordered);
  d.multipath_count = static_cast<uint8_t>(sel.multipath.size());
  d.reason = sel.reason;
  std::vector<Path> after = ecmpSet(d);
  if (sameSet(before, after)) return;
  change.new_best = after.front();
  change.multipath = std::move(after);
  change.reason = d.reason;
  out.push_back(std::move(change));
}

void LocRib::update(const common::Prefix& prefix, Path path, RibChanges& out) {
  Table& table = tableOf(prefix.family());
  auto [it, inserted] = table.try_emplace(prefix);
  Destination& d = it->second;
  if (inserted) {
    d.paths.push_back(std::move(path));
    reselect(table, it, {}, out);
    return;
  }
  std::vector<Path> before = ecmpSet(d);
  auto existing = std::find_if(d.paths.begin(), d.paths.end(),
                               [&](const Path& p) { return p.sourceId() == path.sourceId(); });
  if (existing != d.paths.end()) {
    if (existing->sameAs(path) && existing->stale == path.stale) return;
    *existing = std::move(path);
  } else {
    d.paths.push_back(std::move(path));
  }
  reselect(table, it, before, out);
}

void LocRib::withdraw(const common::Prefix& prefix, uint32_t source_id, RibChanges& out) {
  Table& table = tableOf(prefix.family());
  auto it = table.find(prefix);
  if (it == table.end()) return;
  Destination& d = it->second;
  auto existing = std::find_if(d.paths.begin(), d.paths.end(),
                               [&](const Path& p) { return p.sourceId() == source_id; });
  if (existing == d.paths.end()) return;
  std::vector<Path> before = ecmpSet(d);
  d.paths.erase(existing);
  reselect(table, it, before, out);
}

void LocRib::withdrawSource(uint32_t source_id, RibChanges& out) {
  for (Table& table : tables_) {
    std::vector<common::Prefix> hit;
    for (const auto& [prefix, d] : table) {
      for (const Path& p : d.paths) {
        if (p.sourceId() == source_id) {
          hit.push_back(prefix);
          break;
        }
      }
    }
    for (const auto& prefix : hit) withdraw(prefix, source_id, out);
  }
}

size_t LocRib::markStale(uint32_t source_id) {
  size_t n = 0;
  for (Table& table : tables_) {
    for (auto& [prefix, d] : table) {
      for (Path& p : d.paths) {
        if (p.sourceId() == source_id) {
          p.stale = true;
          ++n;
        }
      }
    }
  }
  return n;
}

void LocRib::sweepStale(uint32_t source_id, std::optional<common::Family> family, RibChanges& out) {
  for (Table& table : tables_) {
    std::vector<common::Prefix> hit;
    for (const auto& [prefix, d] : table) {
      if (family && prefix.family() != *family) break;
      for (const Path& p : d.paths) {
        if (p.sourceId() == source_id && p.stale) {
          hit.push_back(prefix);
          break;
        }
      }
    }
    for (const auto& prefix : hit) withdraw(prefix, source_id, out);
  }
}

void LocRib::setMaxPaths(size_t max_paths, RibChanges& out) {
  max_paths_ = std::max<size_t>(1, max_paths);
  for (Table& table : tables_) {
    std::vector<common::Prefix> all;
    all.reserve(table.size());
    for (const auto& [prefix, d] : table) all.push_back(prefix);
    for (const auto& prefix : all) {
      auto it = table.find(prefix);
      reselect(table, it, ecmpSet(it->second), out);
    }
  }
}

const Destination* LocRib::find(const common::Prefix& prefix) const {
  const Table& table = tableOf(prefix.family());
  auto it = table.find(prefix);
  return it == table.end() ? nullptr : &it->second;
}

void LocRib::forEach(
    const std::function<void(const common::Prefix&, const Destination&)>& fn) const {
  for (const Table& table : tables_) {
    for (const auto& [prefix, d] : table) fn(prefix, d);
  }
}

}  // namespace coral::bgp
