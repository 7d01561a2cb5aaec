// Best-path ordering: one row per step of the chain, each naming the step that decided.
#include <gtest/gtest.h>

#include "bgp/rib/best_path.h"
#include "tests/unit/bgp/rib_test_util.h"

namespace coral::bgp {
namespace {

using namespace testing;
constexpr uint32_t kLocalAs = 65000;

struct Row {
  const char* name;
  Path better;
  Path worse;
  BestPathStep step;
};

std::vector<Row> rows() {
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  auto e2 = peer(2, "10.0.0.2", 65002, true);
  auto e1b = peer(3, "10.0.0.3", 65001, true);
  auto i1 = peer(4, "10.0.0.4", kLocalAs, false);
  auto i2 = peer(5, "10.0.0.5", kLocalAs, false);
  auto i2same = peer(6, "10.0.0.6", kLocalAs, false, ip("10.0.0.5").v4Value());
  std::vector<Row> out;
  out.push_back({"weight", path(e2, attrs({65002, 1, 2}), 10), path(e1, attrs({65001})),
                 BestPathStep::kWeight});
  {
    auto hi = attrs({65001, 1});
    hi.local_pref = 200;
    out.push_back({"local-pref", path(i1, hi), path(i2, attrs({65001})), BestPathStep::kLocalPref});
  }
  out.push_back({"local", path(localSource(), attrs({})), path(e1, attrs({})),
                 BestPathStep::kLocallyOriginated});
  out.push_back({"as-path", path(e2, attrs({65002})), path(e1, attrs({65001, 7})),
                 BestPathStep::kAsPathLength});
  {
    auto egp = attrs({65001});
    egp.origin = Origin::kEgp;
    out.push_back({"origin", path(e2, attrs({65002})), path(e1, egp), BestPathStep::kOrigin});
  }
  {
    auto lo = attrs({65001});
    lo.med = 5;
    auto hi = attrs({65001});
    hi.med = 50;
    out.push_back({"med same AS", path(e1b, lo), path(e1, hi), BestPathStep::kMed});
  }
  {
    // Different neighbour AS: MED is skipped; eBGP, then router id decide.
    auto lo = attrs({65002});
    lo.med = 500;
    auto hi = attrs({65001});
    hi.med = 5;
    out.push_back({"med other AS ignored", path(e1, hi), path(e2, lo), BestPathStep::kRouterId});
  }
  out.push_back({"ebgp over ibgp", path(e2, attrs({65002})), path(i1, attrs({65002})),
                 BestPathStep::kEbgpOverIbgp});
  out.push_back(
      {"router id", path(i1, attrs({65001})), path(i2, attrs({65001})), BestPathStep::kRouterId});
  {
    auto reflected = attrs({65001});
    reflected.originator_id = ip("10.0.0.9");
    // i2 (10.0.0.5) has a lower router id than the originator 10.0.0.9 of i1's path.
    out.push_back(
        {"originator id", path(i2, attrs({65001})), path(i1, reflected), BestPathStep::kRouterId});
  }
  {
    auto shortc = attrs({65001});
    shortc.originator_id = ip("10.0.0.9");
    shortc.cluster_list = {1};
    auto longc = shortc;
    longc.cluster_list = {1, 2};
    out.push_back(
        {"cluster list", path(i2, shortc), path(i1, longc), BestPathStep::kClusterListLength});
  }
  out.push_back({"peer address", path(i2, attrs({65001})), path(i2same, attrs({65001})),
                 BestPathStep::kPeerAddress});
  return out;
}

TEST(BestPath, OrderingTable) {
  for (const Row& r : rows()) {
    SCOPED_TRACE(r.name);
    const PathComparison ab = comparePaths(r.better, r.worse, kLocalAs);
    EXPECT_LT(ab.order, 0);
    EXPECT_EQ(ab.step, r.step) << bestPathStepName(ab.step);
    const PathComparison ba = comparePaths(r.worse, r.better, kLocalAs);
    EXPECT_GT(ba.order, 0);
    EXPECT_EQ(ba.step, r.step);
    // Whatever the order of the candidates, the better one wins for the same reason.
    std::vector<Path> two = {r.worse, r.better};
    Selection sel = selectBest(two, kLocalAs, 1);
    EXPECT_EQ(sel.best, 1u);
    EXPECT_EQ(sel.reason, r.step);
    two = {r.better, r.worse};
    sel = selectBest(two, kLocalAs, 1);
    EXPECT_EQ(sel.best, 0u);
  }
}

TEST(BestPath, ReasonNames) {
  EXPECT_EQ(bestPathStepName(BestPathStep::kLocalPref), "higher local-pref");
  EXPECT_EQ(bestPathStepName(BestPathStep::kMed), "lower MED");
  EXPECT_EQ(bestPathStepName(BestPathStep::kOnlyPath), "only path");
  std::vector<Path> one = {path(peer(1, "10.0.0.1", 65001, true), attrs({65001}))};
  EXPECT_EQ(selectBest(one, kLocalAs, 1).reason, BestPathStep::kOnlyPath);
}

TEST(BestPath, ReasonIsTheClosestRunnerUp) {
  // Three paths: one loses on AS path length, one only on router id.
  auto a = path(peer(1, "10.0.0.1", 65001, true), attrs({65001}));
  auto b = path(peer(2, "10.0.0.2", 65002, true), attrs({65002}));
  auto c = path(peer(3, "10.0.0.3", 65003, true), attrs({65003, 1}));
  std::vector<Path> paths = {c, b, a};
  Selection sel = selectBest(paths, kLocalAs, 1);
  EXPECT_EQ(sel.best, 2u);
  EXPECT_EQ(sel.reason, BestPathStep::kRouterId);
}

TEST(BestPath, MultipathStopsBeforeRouterId) {
  auto a = path(peer(1, "10.0.0.1", 65001, true), attrs({65001}));
  auto b = path(peer(2, "10.0.0.2", 65002, true), attrs({65002}));
  auto c = path(peer(3, "10.0.0.3", 65003, true), attrs({65003}));
  auto longer = path(peer(4, "10.0.0.4", 65004, true), attrs({65004, 9}));
  std::vector<Path> paths = {longer, c, b, a};
  Selection sel = selectBest(paths, kLocalAs, 4);
  ASSERT_EQ(sel.multipath.size(), 3u);
  EXPECT_EQ(sel.multipath, (std::vector<size_t>{3, 2, 1}));
  EXPECT_TRUE(multipathEqual(a, c, kLocalAs));
  EXPECT_FALSE(multipathEqual(a, longer, kLocalAs));
  sel = selectBest(paths, kLocalAs, 2);
  EXPECT_EQ(sel.multipath, (std::vector<size_t>{3, 2}));
}

}  // namespace
}  // namespace coral::bgp
