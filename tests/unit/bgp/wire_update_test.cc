// UPDATE: golden IPv4 and IPv6 messages written from RFC 4271 4.3 and RFC 4760 3-4,
// End-of-RIB (RFC 4724 2), round trips, withdrawals and 2-octet sessions (RFC 6793).
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "bgp/wire/update.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::A;
using testing::frame;
using testing::hex;
using testing::P;
using testing::updateBody;

const SessionContext kEbgp{true, true, 65000, 65001};
const SessionContext kIbgp{true, false, 65000, 65000};

// IPv4 UPDATE from AS 65001: two prefixes.
const std::vector<uint8_t> kV4Attrs =
    hex("40 01 01 00"                       // ORIGIN IGP
        "40 02 0a 02 02 0000fde9 0000fdea"  // AS_PATH: AS_SEQUENCE(65001 65002), 4-octet
        "40 03 04 0a000001"                 // NEXT_HOP 10.0.0.1
        "80 04 04 00000064"                 // MULTI_EXIT_DISC 100
        "c0 08 04 fde90001");               // COMMUNITIES 65001:1
const std::vector<uint8_t> kV4Nlri =
    hex("18 0a0102"      // 10.1.2.0/24
        "20 0a010304");  // 10.1.3.4/32

Update expectedV4() {
  Update u;
  u.announced_v4 = {P("10.1.2.0/24"), P("10.1.3.4/32")};
  PathAttributes& a = u.attributes;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{{AsSegmentType::kSequence, {65001, 65002}}}};
  a.next_hop = A("10.0.0.1");
  a.med = 100;
  a.communities = {(65001u << 16) | 1};
  return u;
}

TEST(BgpWireUpdate, DecodesGoldenIpv4) {
  const auto bytes = frame(MessageType::kUpdate, updateBody({}, kV4Attrs, kV4Nlri));
  auto result = decodeMessage(bytes, kEbgp);
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  EXPECT_EQ(std::get<Update>(*result.message), expectedV4());
}

TEST(BgpWireUpdate, EncodesGoldenIpv4) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(expectedV4(), kEbgp, out).ok());
  EXPECT_EQ(out, frame(MessageType::kUpdate, updateBody({}, kV4Attrs, kV4Nlri)));
}

// IPv6 UPDATE: MP_REACH_NLRI with a global and a link-local next hop.
const std::vector<uint8_t> kV6Attrs =
    hex("40 01 01 02"                       // ORIGIN INCOMPLETE
        "40 02 06 02 01 0000fde9"           // AS_PATH 65001
        "80 0e 2e"                          // MP_REACH_NLRI, 46 bytes
        "0002 01 20"                        // AFI IPv6, SAFI unicast, next hop 32 bytes
        "20010db8000000000000000000000001"  // 2001:db8::1
        "fe800000000000000000000000000001"  // fe80::1
        "00"                                // reserved
        "40 20010db800010000");             // 2001:db8:1::/64

Update expectedV6() {
  Update u;
  u.announced_v6 = {P("2001:db8:1::/64")};
  u.attributes.origin = Origin::kIncomplete;
  u.attributes.as_path = AsPath{{{AsSegmentType::kSequence, {65001}}}};
  u.attributes.mp_next_hop = A("2001:db8::1");
  u.attributes.mp_link_local_next_hop = A("fe80::1");
  return u;
}

TEST(BgpWireUpdate, Ipv6GoldenBothWays) {
  const auto bytes = frame(MessageType::kUpdate, updateBody({}, kV6Attrs, {}));
  auto result = decodeMessage(bytes, kEbgp);
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  EXPECT_EQ(std::get<Update>(*result.message), expectedV6());
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(expectedV6(), kEbgp, out).ok());
  EXPECT_EQ(out, bytes);
}

TEST(BgpWireUpdate, Ipv6WithdrawalGolden) {
  const auto bytes =
      frame(MessageType::kUpdate, updateBody({}, hex("80 0f 0c 0002 01 40 20010db800010000"), {}));
  Update u;
  u.withdrawn_v6 = {P("2001:db8:1::/64")};
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(out, bytes);
  auto result = decodeMessage(bytes, kEbgp);
  EXPECT_EQ(result.action(), ErrorAction::kNone);  // no mandatory attributes for withdrawals
  EXPECT_EQ(std::get<Update>(*result.message), u);
}

TEST(BgpWireUpdate, Ipv4WithdrawalGolden) {
  Update u;
  u.withdrawn_v4 = {P("192.168.0.0/16"), P("0.0.0.0/0")};
  const auto bytes = frame(MessageType::kUpdate, updateBody(hex("10 c0a8 00"), {}, {}));
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(out, bytes);
  EXPECT_EQ(std::get<Update>(*decodeMessage(bytes, kEbgp).message), u);
}

TEST(BgpWireUpdate, EndOfRib) {
  std::vector<uint8_t> v4, v6;
  encodeEndOfRib(common::Family::kV4, v4);
  encodeEndOfRib(common::Family::kV6, v6);
  EXPECT_EQ(v4, frame(MessageType::kUpdate, hex("0000 0000")));
  EXPECT_EQ(v6, frame(MessageType::kUpdate, hex("0000 0006 80 0f 03 0002 01")));
  EXPECT_EQ(std::get<Update>(*decodeMessage(v4, kEbgp).message).end_of_rib, common::Family::kV4);
  EXPECT_EQ(std::get<Update>(*decodeMessage(v6, kEbgp).message).end_of_rib, common::Family::kV6);
  Update eor;
  eor.end_of_rib = common::Family::kV6;
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(eor, kEbgp, out).ok());
  EXPECT_EQ(out, v6);
}

TEST(BgpWireUpdate, IbgpRoundTripKeepsReflectionAttributes) {
  Update u = expectedV4();
  u.attributes.as_path = AsPath{};  // locally originated: empty path is fine on iBGP
  u.attributes.local_pref = 200;
  u.attributes.originator_id = A("10.0.0.9");
  u.attributes.cluster_list = {0x0a000063};
  u.withdrawn_v4 = {P("10.9.0.0/16")};
  u.withdrawn_v6 = {P("2001:db8:9::/48")};
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kIbgp, out).ok());
  auto result = decodeMessage(out, kIbgp);
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  EXPECT_EQ(std::get<Update>(*result.message), u);
}

TEST(BgpWireUpdate, LocalPrefIsNotSentToExternalPeers) {
  Update u = expectedV4();
  u.attributes.local_pref = 200;
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(out, frame(MessageType::kUpdate, updateBody({}, kV4Attrs, kV4Nlri)));
}

TEST(BgpWireUpdate, MixedFamiliesInOneUpdate) {
  Update u = expectedV4();
  u.announced_v6 = {P("2001:db8:2::/48")};
  u.attributes.mp_next_hop = A("2001:db8::2");
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(std::get<Update>(*decodeMessage(out, kEbgp).message), u);
}

TEST(BgpWireUpdate, EncodeRefusesMissingNextHop) {
  Update u = expectedV4();
  u.attributes.next_hop.reset();
  std::vector<uint8_t> out;
  EXPECT_FALSE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_TRUE(out.empty());
  Update v6;
  v6.announced_v6 = {P("2001:db8::/32")};
  EXPECT_FALSE(encodeUpdate(v6, kEbgp, out).ok());
}

TEST(BgpWireUpdate, EncodeRefusesOversizedMessage) {
  Update u = expectedV4();
  for (uint32_t i = 0; i < 1100; ++i) {
    u.announced_v4.push_back(common::Prefix::host(common::IpAddress::v4(0x0b000000 + i)));
  }
  std::vector<uint8_t> out;
  EXPECT_FALSE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(BgpWireUpdate, TrailingHostBitsAreMasked) {
  // 10.1.2.255/24 on the wire: RFC 4271 says the trailing bits are irrelevant.
  auto body = updateBody({}, kV4Attrs, hex("18 0a01ff"));
  auto result = decodeMessage(frame(MessageType::kUpdate, body), kEbgp);
  EXPECT_EQ(result.action(), ErrorAction::kNone);
  EXPECT_EQ(std::get<Update>(*result.message).announced_v4, std::vector{P("10.1.255.0/24")});
  body = updateBody({}, kV4Attrs, hex("17 0a0103"));  // 10.1.3.0/23 -> 10.1.2.0/23
  result = decodeMessage(frame(MessageType::kUpdate, body), kEbgp);
  EXPECT_EQ(std::get<Update>(*result.message).announced_v4, std::vector{P("10.1.2.0/23")});
}

TEST(BgpWireUpdate, Ipv4InMpReachIsAccepted) {
  // Some speakers send IPv4 unicast in MP_REACH_NLRI (AFI 1, next hop 4 bytes).
  const auto attrs =
      hex("40 01 01 00  40 02 06 02 01 0000fde9"
          "80 0e 0d 0001 01 04 0a000001 00 18 0a0102");
  auto result = decodeMessage(frame(MessageType::kUpdate, updateBody({}, attrs, {})), kEbgp);
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  const Update& u = std::get<Update>(*result.message);
  EXPECT_EQ(u.announced_v4, std::vector{P("10.1.2.0/24")});
  EXPECT_EQ(u.attributes.mp_next_hop, A("10.0.0.1"));
}

}  // namespace
}  // namespace coral::bgp
