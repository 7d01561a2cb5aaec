// Loc-RIB: every path to every prefix, one table per address family, the best path (and
// the ECMP set) of each prefix with the step that chose it. Every mutation returns the
// best-path changes it caused, as a diff, for the kernel and the Adj-RIBs-Out.
// Not thread-safe: the speaker's event loop owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bgp/rib/best_path.h"
#include "bgp/rib/path.h"
#include "common/ip.h"

namespace coral::bgp {

struct Destination {
  // Every path; the first `multipath_count` are the ECMP set, best first.
  std::vector<Path> paths;
  uint8_t multipath_count = 0;
  BestPathStep reason = BestPathStep::kOnlyPath;

  const Path* best() const { return paths.empty() ? nullptr : &paths.front(); }
};

// One prefix whose best path or ECMP set changed.
struct RibChange {
  common::Prefix prefix;
  std::optional<Path> old_best;  // absent: the prefix is new
  std::optional<Path> new_best;  // absent: the prefix is gone
  std::vector<Path> multipath;   // the new ECMP set, best first (empty when gone)
  BestPathStep reason = BestPathStep::kOnlyPath;
  // Only the ECMP set changed; the best path is the same.
  bool bestUnchanged() const { return old_best && new_best && old_best->sameAs(*new_best); }
};
using RibChanges = std::vector<RibChange>;

class LocRib {
 public:
  explicit LocRib(uint32_t local_as, size_t max_paths = 1);

  // Adds or replaces the path of `path.source` to `prefix`.
  void update(const common::Prefix& prefix, Path path, RibChanges& out);
  void withdraw(const common::Prefix& prefix, uint32_t source_id, RibChanges& out);
  // Every path of a source (its session went down).
  void withdrawSource(uint32_t source_id, RibChanges& out);
  // Graceful restart: flag every path of a source stale; returns how many.
  size_t markStale(uint32_t source_id);
  // Removes the source's paths still stale (of one family, or all).
  void sweepStale(uint32_t source_id, std::optional<common::Family> family, RibChanges& out);
  // Changes the ECMP width and reselects every prefix.
  void setMaxPaths(size_t max_paths, RibChanges& out);
  void setLocalAs(uint32_t local_as) { local_as_ = local_as; }

  const Destination* find(const common::Prefix& prefix) const;
  void forEach(const std::function<void(const common::Prefix&, const Destination&)>& fn) const;
  size_t size() const { return tables_[0].size() + tables_[1].size(); }
  size_t maxPaths() const { return max_paths_; }

 private:
  using Table = std::unordered_map<common::Prefix, Destination>;
  Table& tableOf(common::Family family) { return tables_[family == common::Family::kV4 ? 0 : 1]; }
  const Table& tableOf(common::Family family) const {
    return tables_[family == common::Family::kV4 ? 0 : 1];
  }
  // Reruns selection after `dest.paths` changed; records a change against `before`.
  void reselect(Table& table, Table::iterator it, const std::vector<Path>& before_set,
                RibChanges& out);

  uint32_t local_as_;
  size_t max_paths_;
  Table tables_[2];
};

}  // namespace coral::bgp
