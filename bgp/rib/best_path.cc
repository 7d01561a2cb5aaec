// The best-path comparison chain: one small function per step, tried in order.
#include "bgp/rib/best_path.h"

#include <algorithm>
#include <array>

namespace coral::bgp {
namespace {

constexpr uint32_t kDefaultLocalPref = 100;

int cmpHigher(uint64_t a, uint64_t b) { return a > b ? -1 : a < b ? 1 : 0; }
int cmpLower(uint64_t a, uint64_t b) { return a < b ? -1 : a > b ? 1 : 0; }

uint32_t localPref(const Path& p) { return p.attrs->local_pref.value_or(kDefaultLocalPref); }
size_t asPathLength(const Path& p) { return p.attrs->as_path ? p.attrs->as_path->length() : 0; }
uint32_t neighbourAs(const Path& p, uint32_t local_as) {
  if (p.attrs->as_path) {
    if (auto first = p.attrs->as_path->firstAs()) return *first;
  }
  return local_as;
}
uint32_t routerId(const Path& p) {
  if (p.attrs->originator_id && p.attrs->originator_id->isV4()) {
    return p.attrs->originator_id->v4Value();
  }
  return p.source->router_id;
}

struct Step {
  BestPathStep step;
  int (*compare)(const Path&, const Path&, uint32_t local_as);
};

constexpr std::array<Step, 10> kChain = {{
    {BestPathStep::kWeight,
     [](const Path& a, const Path& b, uint32_t) { return cmpHigher(a.weight, b.weight); }},
    {BestPathStep::kLocalPref,
     [](const Path& a, const Path& b, uint32_t) { return cmpHigher(localPref(a), localPref(b)); }},
    {BestPathStep::kLocallyOriginated,
     [](const Path& a, const Path& b, uint32_t) {
       return cmpHigher(a.source->isLocal(), b.source->isLocal());
     }},
    {BestPathStep::kAsPathLength,
     [](const Path& a, const Path& b, uint32_t) {
       return cmpLower(asPathLength(a), asPathLength(b));
     }},
    {BestPathStep::kOrigin,
     [](const Path& a, const Path& b, uint32_t) {
       return cmpLower(static_cast<int>(a.attrs->origin.value_or(Origin::kIncomplete)),
                       static_cast<int>(b.attrs->origin.value_or(Origin::kIncomplete)));
     }},
    {BestPathStep::kMed,
     [](const Path& a, const Path& b, uint32_t local_as) {
       // RFC 4271 9.1.2.2 c: MED only compares paths from the same neighbour AS; a
       // missing MED is 0.
       if (neighbourAs(a, local_as) != neighbourAs(b, local_as)) return 0;
       return cmpLower(a.attrs->med.value_or(0), b.attrs->med.value_or(0));
     }},
    {BestPathStep::kEbgpOverIbgp,
     [](const Path& a, const Path& b, uint32_t) {
       return cmpHigher(a.source->ebgp, b.source->ebgp);
     }},
    {BestPathStep::kRouterId,
     [](const Path& a, const Path& b, uint32_t) { return cmpLower(routerId(a), routerId(b)); }},
    {BestPathStep::kClusterListLength,
     [](const Path& a, const Path& b, uint32_t) {
       return cmpLower(a.attrs->cluster_list.size(), b.attrs->cluster_list.size());
     }},
    {BestPathStep::kPeerAddress,
     [](const Path& a, const Path& b, uint32_t) {
       const auto& x = a.source->address;
       const auto& y = b.source->address;
       return x < y ? -1 : y < x ? 1 : 0;
     }},
}};

}  // namespace

std::string_view bestPathStepName(BestPathStep step) {
  switch (step) {
    case BestPathStep::kOnlyPath:
      return "only path";
    case BestPathStep::kWeight:
      return "higher weight";
    case BestPathStep::kLocalPref:
      return "higher local-pref";
    case BestPathStep::kLocallyOriginated:
      return "locally originated";
    case BestPathStep::kAsPathLength:
      return "shorter AS path";
    case BestPathStep::kOrigin:
      return "lower origin";
    case BestPathStep::kMed:
      return "lower MED";
    case BestPathStep::kEbgpOverIbgp:
      return "eBGP over iBGP";
    case BestPathStep::kRouterId:
      return "lower router id";
    case BestPathStep::kClusterListLength:
      return "shorter cluster list";
    case BestPathStep::kPeerAddress:
      return "lower peer address";
    case BestPathStep::kEqual:
      return "equal";
  }
  return "unknown";
}

PathComparison comparePaths(const Path& a, const Path& b, uint32_t local_as) {
  for (const Step& s : kChain) {
    if (int order = s.compare(a, b, local_as); order != 0) return {order, s.step};
  }
  return {0, BestPathStep::kEqual};
}

bool multipathEqual(const Path& a, const Path& b, uint32_t local_as) {
  const PathComparison c = comparePaths(a, b, local_as);
  return c.order == 0 || c.step >= BestPathStep::kRouterId;
}

Selection selectBest(std::span<const Path> paths, uint32_t local_as, size_t max_paths) {
  Selection sel;
  for (size_t i = 1; i < paths.size(); ++i) {
    if (comparePaths(paths[i], paths[sel.best], local_as).order < 0) sel.best = i;
  }
  const Path& best = paths[sel.best];
  sel.multipath.push_back(sel.best);
  if (paths.size() > 1) sel.reason = BestPathStep::kWeight;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i == sel.best) continue;
    const PathComparison c = comparePaths(best, paths[i], local_as);
    if (c.step > sel.reason) sel.reason = c.step;
    if (c.order == 0 || c.step >= BestPathStep::kRouterId) sel.multipath.push_back(i);
  }
  // Best first, then the other members in preference order, so the set is deterministic.
  std::sort(sel.multipath.begin() + 1, sel.multipath.end(), [&](size_t x, size_t y) {
    return comparePaths(paths[x], paths[y], local_as).order < 0;
  });
  if (sel.multipath.size() > max_paths) sel.multipath.resize(std::max<size_t>(1, max_paths));
  return sel;
}

}  // namespace coral::bgp
