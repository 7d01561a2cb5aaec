// Filters: prefix ranges, community matches, first match wins, actions.
#include <gtest/gtest.h>

#include "bgp/policy/filter.h"

namespace coral::bgp {
namespace {

common::Prefix pfx(const char* s) { return *common::Prefix::parse(s); }

TEST(Filter, ParseCommunities) {
  EXPECT_EQ(parseCommunity("65000:100")->standard, (65000u << 16) | 100);
  EXPECT_EQ(parseCommunity("4200000000:1:2")->large, (LargeCommunity{4200000000u, 1, 2}));
  EXPECT_EQ(parseCommunity("no-export")->standard, 0xFFFFFF01u);
  EXPECT_FALSE(parseCommunity("70000:1").ok());
  EXPECT_FALSE(parseCommunity("x").ok());
  EXPECT_EQ(formatCommunity((65000u << 16) | 100), "65000:100");
}

TEST(Filter, PrefixRangeAndLength) {
  FilterRule r;
  r.within = pfx("10.0.0.0/8");
  r.max_length = 24;
  PathAttributes a;
  EXPECT_TRUE(ruleMatches(r, pfx("10.1.0.0/16"), a));
  EXPECT_TRUE(ruleMatches(r, pfx("10.0.0.0/8"), a));
  EXPECT_FALSE(ruleMatches(r, pfx("10.1.1.0/25"), a));
  EXPECT_FALSE(ruleMatches(r, pfx("11.0.0.0/16"), a));
  EXPECT_FALSE(ruleMatches(r, pfx("fd00::/64"), a));
  r.min_length = 16;
  EXPECT_FALSE(ruleMatches(r, pfx("10.0.0.0/8"), a));
}

TEST(Filter, FirstMatchDecidesAndActionsApply) {
  Filter f;
  FilterRule tagged;
  tagged.action = FilterRule::Action::kReject;
  tagged.community = *parseCommunity("65000:666");
  FilterRule rewrite;
  rewrite.within = pfx("10.0.0.0/8");
  rewrite.add_communities = {*parseCommunity("65000:1"), *parseCommunity("1:2:3")};
  rewrite.prepend_as_path = 2;
  rewrite.local_pref = 50;
  f.rules = {tagged, rewrite};
  f.default_action = FilterRule::Action::kReject;

  PathAttributes a;
  a.as_path = AsPath{{{AsSegmentType::kSequence, {65001}}}};
  PathAttributes out;
  EXPECT_EQ(applyFilter(f, pfx("10.1.0.0/16"), a, 65000, out), FilterVerdict::kAcceptModified);
  EXPECT_EQ(out.as_path->toString(), "65000 65000 65001");
  EXPECT_EQ(out.local_pref, 50u);
  EXPECT_EQ(out.communities, std::vector<uint32_t>{(65000u << 16) | 1});
  EXPECT_EQ(out.large_communities.size(), 1u);
  a.communities = {(65000u << 16) | 666};
  EXPECT_EQ(applyFilter(f, pfx("10.1.0.0/16"), a, 65000, out), FilterVerdict::kReject);
  a.communities.clear();
  EXPECT_EQ(applyFilter(f, pfx("192.168.0.0/16"), a, 65000, out), FilterVerdict::kReject);
  EXPECT_EQ(applyFilter(Filter{}, pfx("192.168.0.0/16"), a, 65000, out), FilterVerdict::kAccept);
}

}  // namespace
}  // namespace coral::bgp
