// Loc-RIB: every path to every prefix, the best path (and the ECMP set) of each prefix with
// the step that chose it. Every mutation returns the best-path changes it caused, as a
// diff, for the kernel and the Adj-RIBs-Out. Stored compactly (a PrefixMap of 16-byte
// slots, attribute sets and sources by number): about 30 bytes per single-path prefix.
// Not thread-safe: the speaker's event loop owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "bgp/rib/best_path.h"
#include "bgp/rib/path.h"
#include "bgp/rib/prefix_map.h"
#include "bgp/rib/shared_index.h"
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

  // Starts loading `prefix`'s place in the table (see PrefixMap::prefetch).
  void prefetch(const common::Prefix& prefix) const { table_.prefetch(prefix); }

  // A copy of the destination (the table stores paths compactly, see below).
  std::optional<Destination> find(const common::Prefix& prefix) const;
  void forEach(const std::function<void(const common::Prefix&, const Destination&)>& fn) const;
  // Only the best path of each prefix: cheaper than forEach.
  void forEachBest(const std::function<void(const common::Prefix&, const Path&)>& fn) const;
  size_t size() const { return table_.size(); }
  size_t maxPaths() const { return max_paths_; }
  // Paths from `source_id` that are not stale (a peer's accepted prefixes).
  size_t freshCount(uint32_t source_id) const;
  // Stale paths per source id (one pass, no copies).
  std::unordered_map<uint32_t, uint64_t> staleCounts() const;

 private:
  // One path in 16 bytes: numbers from attrs_ and sources_ instead of shared_ptrs. The
  // table's value is a StoredPath too: a destination's only path (the common case) inline,
  // with the destination's own fields in the spare bytes; or, when `multi`, `attrs` is the
  // index of its path list in multi_.
  struct StoredPath {
    uint32_t attrs = 0;
    uint32_t source = 0;
    uint32_t weight = 0;
    bool stale = false;
    // Destination fields (table slots only).
    bool multi = false;
    uint8_t multipath_count = 0;
    BestPathStep reason = BestPathStep::kOnlyPath;
  };
  using Slot = StoredPath;
  static_assert(sizeof(StoredPath) == 16);

  Path materialize(const StoredPath& p) const;
  StoredPath store(const Path& p);
  void release(const StoredPath& p);
  bool same(const StoredPath& stored, const Path& p) const;
  std::span<StoredPath> pathsOf(Slot& slot);
  std::span<const StoredPath> pathsOf(const Slot& slot) const;
  Destination destinationOf(const Slot& slot) const;
  std::vector<Path> ecmpSet(const Slot& slot) const;
  void countFresh(const StoredPath& p, int delta);
  // Reruns selection after the paths of `slot` changed; records a change against
  // `before`. May erase the entry (no paths left).
  void reselect(const common::Prefix& prefix, Slot& slot, std::vector<Path> before,
                RibChanges& out);
  // Prefixes having a path from `source_id` (stale ones only, when `stale_only`).
  std::vector<common::Prefix> prefixesOf(uint32_t source_id, bool stale_only,
                                         std::optional<common::Family> family) const;

  uint32_t local_as_;
  size_t max_paths_;
  PrefixMap<Slot> table_;
  std::vector<std::vector<StoredPath>> multi_;  // path lists of multi-path destinations
  std::vector<uint32_t> multi_free_;
  SharedIndex<PathAttributes> attrs_;
  SharedIndex<PathSource> sources_;
  std::unordered_map<uint32_t, size_t> fresh_;  // source id -> non-stale paths
  size_t* fresh_last_ = nullptr;                // the last one used
  uint32_t fresh_last_id_ = 0;
};

}  // namespace coral::bgp
