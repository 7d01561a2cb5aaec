// Adj-RIB-Out: no duplicate sends, withdrawals, grouping by attribute set into few
// UPDATEs, resend on route refresh.
#include <gtest/gtest.h>

#include "bgp/rib/adj_rib_out.h"
#include "bgp/wire/message.h"
#include "tests/unit/bgp/rib_test_util.h"

namespace coral::bgp {
namespace {

using namespace testing;

SessionContext ctx() { return SessionContext{true, true, 65000, 65001}; }

std::vector<Update> decodeAll(const EncodedMessages& messages) {
  std::vector<Update> out;
  SessionContext peer_view{true, true, 65001, 65000};
  for (const auto& m : messages) {
    auto r = decodeMessage(m, peer_view);
    EXPECT_TRUE(r.errors.empty()) << formatError(r.errors.front());
    out.push_back(std::get<Update>(*r.message));
  }
  return out;
}

TEST(AdjRibOut, PacksPrefixesSharingAnAttributeSet) {
  AttributeInterner interner;
  AdjRibOut out;
  auto a = interner.intern(attrs({65000}, "192.0.2.1"));
  auto b = interner.intern(attrs({65000, 7}, "192.0.2.1"));
  for (int i = 0; i < 3000; ++i) {
    out.set(*common::Prefix::make(common::IpAddress::v4(0x0a000000 + (i << 8)), 24), i % 2 ? a : b);
  }
  FlushResult r = out.flush(ctx());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.announced, 3000u);
  // 1500 /24s take 6000 bytes of NLRI per set: two messages per set, not 3000.
  EXPECT_EQ(r.messages.size(), 4u);
  size_t total = 0;
  for (const Update& u : decodeAll(r.messages)) total += u.announced_v4.size();
  EXPECT_EQ(total, 3000u);
  EXPECT_EQ(out.advertisedCount(), 3000u);
  EXPECT_FALSE(out.hasPending());
}

TEST(AdjRibOut, NothingIsSentTwice) {
  AttributeInterner interner;
  AdjRibOut out;
  auto a = interner.intern(attrs({65000}));
  out.set(pfx("10.1.0.0/24"), a);
  EXPECT_EQ(out.flush(ctx()).messages.size(), 1u);
  out.set(pfx("10.1.0.0/24"), interner.intern(attrs({65000})));
  EXPECT_FALSE(out.hasPending());
  // Withdrawing what was never sent is nothing.
  out.set(pfx("10.9.0.0/24"), nullptr);
  EXPECT_FALSE(out.hasPending());
  // Announce then withdraw before a flush: only the withdrawal of the old route.
  out.set(pfx("10.1.0.0/24"), interner.intern(attrs({65000, 1})));
  out.set(pfx("10.1.0.0/24"), nullptr);
  FlushResult r = out.flush(ctx());
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.withdrawn, 1u);
  auto updates = decodeAll(r.messages);
  EXPECT_EQ(updates[0].withdrawn_v4, std::vector<common::Prefix>{pfx("10.1.0.0/24")});
  EXPECT_EQ(out.advertisedCount(), 0u);
}

TEST(AdjRibOut, MixedFamiliesAndRefresh) {
  AttributeInterner interner;
  AdjRibOut out;
  auto v4 = interner.intern(attrs({65000}));
  PathAttributes six = attrs({65000});
  six.next_hop.reset();
  six.mp_next_hop = ip("fd00::1");
  auto v6 = interner.intern(six);
  out.set(pfx("10.1.0.0/24"), v4);
  out.set(pfx("10.2.0.0/24"), v4);
  out.set(pfx("fd00:1::/64"), v6);
  FlushResult r = out.flush(ctx());
  ASSERT_EQ(r.messages.size(), 2u);
  auto updates = decodeAll(r.messages);
  EXPECT_EQ(updates[0].announced_v4.size() + updates[1].announced_v4.size(), 2u);
  EXPECT_EQ(updates[0].announced_v6.size() + updates[1].announced_v6.size(), 1u);
  out.resendAll();
  EXPECT_EQ(out.pendingCount(), 3u);
  EXPECT_EQ(out.flush(ctx()).announced, 3u);
  // Sliced flush.
  out.resendAll();
  EXPECT_EQ(out.flush(ctx(), 2).announced, 2u);
  EXPECT_EQ(out.pendingCount(), 1u);
  out.clear();
  EXPECT_EQ(out.advertisedCount(), 0u);
}

TEST(AdjRibOut, UnencodableGroupIsReported) {
  AdjRibOut out;
  PathAttributes no_nh = attrs({65000});
  no_nh.next_hop.reset();
  out.set(pfx("10.1.0.0/24"), std::make_shared<const PathAttributes>(no_nh));
  FlushResult r = out.flush(ctx());
  EXPECT_TRUE(r.messages.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(out.advertisedCount(), 0u);
}

}  // namespace
}  // namespace coral::bgp
