// Loc-RIB diffs: new, better, worse, withdrawn, ECMP set changes, stale sweep.
#include <gtest/gtest.h>

#include "bgp/rib/loc_rib.h"
#include "tests/unit/bgp/rib_test_util.h"

namespace coral::bgp {
namespace {

using namespace testing;
constexpr uint32_t kLocalAs = 65000;

TEST(LocRib, FirstPathIsANewBest) {
  LocRib rib(kLocalAs);
  RibChanges out;
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  rib.update(pfx("10.1.0.0/24"), path(e1, attrs({65001})), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prefix, pfx("10.1.0.0/24"));
  EXPECT_FALSE(out[0].old_best);
  ASSERT_TRUE(out[0].new_best);
  EXPECT_EQ(out[0].new_best->sourceId(), 1u);
  EXPECT_EQ(out[0].reason, BestPathStep::kOnlyPath);
  EXPECT_EQ(rib.size(), 1u);
}

TEST(LocRib, WorsePathChangesNothingBetterPathIsADiff) {
  LocRib rib(kLocalAs);
  RibChanges out;
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  auto e2 = peer(2, "10.0.0.2", 65002, true);
  const auto p = pfx("10.1.0.0/24");
  rib.update(p, path(e1, attrs({65001})), out);
  out.clear();
  rib.update(p, path(e2, attrs({65002, 1})), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rib.find(p)->reason, BestPathStep::kAsPathLength);
  // Same path again: no change.
  rib.update(p, path(e1, attrs({65001})), out);
  EXPECT_TRUE(out.empty());
  // e1 gets longer: e2 wins.
  rib.update(p, path(e1, attrs({65001, 1, 2})), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].old_best->sourceId(), 1u);
  EXPECT_EQ(out[0].new_best->sourceId(), 2u);
  EXPECT_EQ(out[0].reason, BestPathStep::kAsPathLength);
  out.clear();
  // Withdraw the best: the other takes over.
  rib.withdraw(p, 2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].new_best->sourceId(), 1u);
  EXPECT_EQ(out[0].reason, BestPathStep::kOnlyPath);
  out.clear();
  rib.withdraw(p, 1, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].new_best);
  EXPECT_EQ(rib.size(), 0u);
  out.clear();
  rib.withdraw(p, 1, out);
  EXPECT_TRUE(out.empty());
}

TEST(LocRib, WithdrawSourceRemovesOnlyItsPaths) {
  LocRib rib(kLocalAs);
  RibChanges out;
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  auto e2 = peer(2, "10.0.0.2", 65002, true);
  rib.update(pfx("10.1.0.0/24"), path(e1, attrs({65001})), out);
  rib.update(pfx("10.2.0.0/24"), path(e1, attrs({65001})), out);
  rib.update(pfx("10.2.0.0/24"), path(e2, attrs({65002, 3})), out);
  rib.update(pfx("fd00:1::/64"), path(e1, attrs({65001})), out);
  out.clear();
  rib.withdrawSource(1, out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(rib.size(), 1u);
  EXPECT_EQ(rib.find(pfx("10.2.0.0/24"))->best()->sourceId(), 2u);
}

TEST(LocRib, EcmpSetChangesAreDiffs) {
  LocRib rib(kLocalAs, 2);
  RibChanges out;
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  auto e2 = peer(2, "10.0.0.2", 65002, true);
  auto e3 = peer(3, "10.0.0.3", 65003, true);
  const auto p = pfx("10.1.0.0/24");
  rib.update(p, path(e2, attrs({65002})), out);
  out.clear();
  rib.update(p, path(e1, attrs({65001})), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].new_best->sourceId(), 1u);
  ASSERT_EQ(out[0].multipath.size(), 2u);
  EXPECT_EQ(out[0].multipath[1].sourceId(), 2u);
  out.clear();
  // A third equal path does not fit in 2.
  rib.update(p, path(e3, attrs({65003})), out);
  EXPECT_TRUE(out.empty());
  // Widen to 3: the set grows, the best stays.
  rib.setMaxPaths(3, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].bestUnchanged());
  EXPECT_EQ(out[0].multipath.size(), 3u);
  out.clear();
  // Withdrawing a non-best member changes the set only.
  rib.withdraw(p, 2, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].bestUnchanged());
  EXPECT_EQ(out[0].multipath.size(), 2u);
}

TEST(LocRib, StalePathsSurviveUntilSwept) {
  LocRib rib(kLocalAs);
  RibChanges out;
  auto e1 = peer(1, "10.0.0.1", 65001, true);
  rib.update(pfx("10.1.0.0/24"), path(e1, attrs({65001})), out);
  rib.update(pfx("10.2.0.0/24"), path(e1, attrs({65001})), out);
  rib.update(pfx("fd00:1::/64"), path(e1, attrs({65001})), out);
  out.clear();
  EXPECT_EQ(rib.markStale(1), 3u);
  // The peer comes back and re-announces one prefix: no diff (same path), not stale.
  rib.update(pfx("10.1.0.0/24"), path(e1, attrs({65001})), out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(rib.find(pfx("10.1.0.0/24"))->best()->stale);
  rib.sweepStale(1, common::Family::kV4, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prefix, pfx("10.2.0.0/24"));
  EXPECT_TRUE(rib.find(pfx("fd00:1::/64")));
  out.clear();
  rib.sweepStale(1, std::nullopt, out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(rib.size(), 1u);
}

}  // namespace
}  // namespace coral::bgp
