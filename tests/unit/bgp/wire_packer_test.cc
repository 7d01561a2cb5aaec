// Update packing: as few UPDATEs as possible, each within 4096 bytes, nothing lost.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "bgp/wire/packer.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::A;
using testing::P;

const SessionContext kEbgp{true, true, 65000, 65001};

PathAttributes attrs() {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{{AsSegmentType::kSequence, {65001}}}};
  a.next_hop = A("10.0.0.1");
  a.mp_next_hop = A("2001:db8::1");
  a.communities = {0xfde90001};
  return a;
}

std::vector<common::Prefix> v4Prefixes(size_t n) {
  std::vector<common::Prefix> out;
  for (uint32_t i = 0; i < n; ++i) {
    out.push_back(*common::Prefix::make(common::IpAddress::v4(0x0a000000 + (i << 8)), 24));
  }
  return out;
}

std::vector<common::Prefix> v6Prefixes(size_t n) {
  std::vector<common::Prefix> out;
  for (uint32_t i = 0; i < n; ++i) {
    std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
    b[4] = static_cast<uint8_t>(i >> 8);
    b[5] = static_cast<uint8_t>(i);
    out.push_back(*common::Prefix::make(common::IpAddress::v6(b), 48));
  }
  return out;
}

// Decodes every message and gathers the prefixes of `family`, announced or withdrawn.
std::vector<common::Prefix> unpack(const EncodedMessages& messages, bool announced,
                                   common::Family family) {
  std::vector<common::Prefix> out;
  for (const auto& m : messages) {
    EXPECT_LE(m.size(), kMaxMessageSize);
    auto r = decodeMessage(m, kEbgp);
    EXPECT_EQ(r.action(), ErrorAction::kNone);
    const Update& u = std::get<Update>(*r.message);
    if (announced) {
      EXPECT_EQ(u.attributes.communities, attrs().communities);
    }
    const auto& src = family == common::Family::kV4 ? (announced ? u.announced_v4 : u.withdrawn_v4)
                                                    : (announced ? u.announced_v6 : u.withdrawn_v6);
    out.insert(out.end(), src.begin(), src.end());
  }
  return out;
}

TEST(BgpWirePacker, Ipv4AnnouncementsFillMessages) {
  const auto prefixes = v4Prefixes(2000);  // 4 bytes each on the wire
  auto messages = packAnnouncements(attrs(), prefixes, kEbgp);
  ASSERT_TRUE(messages.ok()) << messages.status();
  // Fixed part: 19 header + 4 lengths + 4 ORIGIN + 9 AS_PATH + 7 NEXT_HOP + 7 COMMUNITIES = 50.
  const size_t per_message = (4096 - 50) / 4;
  EXPECT_EQ(messages->size(), (2000 + per_message - 1) / per_message);
  EXPECT_EQ(messages->front().size(), 50 + per_message * 4);
  EXPECT_EQ(unpack(*messages, true, common::Family::kV4), prefixes);
}

TEST(BgpWirePacker, Ipv6AnnouncementsUseMpReach) {
  const auto prefixes = v6Prefixes(1500);  // 7 bytes each
  auto messages = packAnnouncements(attrs(), prefixes, kEbgp);
  ASSERT_TRUE(messages.ok()) << messages.status();
  EXPECT_EQ(messages->size(), 3u);
  for (size_t i = 0; i + 1 < messages->size(); ++i) {
    EXPECT_GT((*messages)[i].size(), kMaxMessageSize - 8);  // full, within one prefix
  }
  EXPECT_EQ(unpack(*messages, true, common::Family::kV6), prefixes);
}

TEST(BgpWirePacker, Withdrawals) {
  const auto v4 = v4Prefixes(3000);
  auto messages = packWithdrawals(v4, kEbgp);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 3u);  // (4096 - 23) / 4 = 1018 per message
  EXPECT_EQ(unpack(*messages, false, common::Family::kV4), v4);
  const auto v6 = v6Prefixes(700);
  messages = packWithdrawals(v6, kEbgp);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 2u);
  EXPECT_EQ(unpack(*messages, false, common::Family::kV6), v6);
}

TEST(BgpWirePacker, MixedFamiliesAreRefused) {
  std::vector<common::Prefix> mixed = {P("10.0.0.0/8"), P("2001:db8::/32")};
  EXPECT_FALSE(packAnnouncements(attrs(), mixed, kEbgp).ok());
}

TEST(BgpWirePacker, EmptyInputNoMessages) {
  auto messages = packAnnouncements(attrs(), {}, kEbgp);
  ASSERT_TRUE(messages.ok());
  EXPECT_TRUE(messages->empty());
}

}  // namespace
}  // namespace coral::bgp
