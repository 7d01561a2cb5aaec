// Best-path selection as a chain of small comparisons (RFC 4271 9.1.2.2 plus common
// practice, as GoBGP and Cisco order them). Each step either decides or passes to the
// next; the step that decided is returned so the RIB can say why a path won.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bgp/rib/path.h"

namespace coral::bgp {

// In the order they are tried.
enum class BestPathStep : uint8_t {
  kOnlyPath = 0,       // nothing to compare against
  kWeight,             // higher local weight
  kLocalPref,          // higher LOCAL_PREF (missing = 100)
  kLocallyOriginated,  // this speaker's own route
  kAsPathLength,       // shorter AS_PATH
  kOrigin,             // IGP < EGP < INCOMPLETE
  kMed,                // lower MED, only between paths from the same neighbour AS
  kEbgpOverIbgp,       // eBGP-learned over iBGP-learned
  kRouterId,           // lower ORIGINATOR_ID or BGP identifier
  kClusterListLength,  // shorter CLUSTER_LIST
  kPeerAddress,        // lower peer address
  kEqual,              // indistinguishable (same source)
};

std::string_view bestPathStepName(BestPathStep step);

struct PathComparison {
  int order = 0;  // < 0: a is better, > 0: b is better, 0: equal
  BestPathStep step = BestPathStep::kEqual;
};

// Compares two paths to one prefix. `local_as` names the neighbour AS of paths with an
// empty AS_PATH (locally originated or from iBGP), for the MED rule.
PathComparison comparePaths(const Path& a, const Path& b, uint32_t local_as);

// Whether `a` and `b` are equal for multipath (ECMP): no step before kRouterId decides.
bool multipathEqual(const Path& a, const Path& b, uint32_t local_as);

struct Selection {
  size_t best = 0;  // index into the candidates
  BestPathStep reason = BestPathStep::kOnlyPath;
  std::vector<size_t> multipath;  // indices of the ECMP set, best first (size >= 1)
};

// Picks the best of `paths` (not empty) and the multipath set of at most `max_paths`.
// The reason is the latest step needed to beat any other candidate: the step that
// separated the winner from the closest runner-up.
Selection selectBest(std::span<const Path> paths, uint32_t local_as, size_t max_paths);

}  // namespace coral::bgp
