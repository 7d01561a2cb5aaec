// Header, KEEPALIVE, NOTIFICATION (RFC 4271 4.5, RFC 9003) and ROUTE-REFRESH
// (RFC 2918, RFC 7313): golden bytes and round trips.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::frame;
using testing::hex;

TEST(BgpWireMessage, KeepaliveGolden) {
  // 16 x ff marker, length 19, type 4.
  const auto golden = hex("ffffffffffffffffffffffffffffffff 0013 04");
  std::vector<uint8_t> out;
  encodeKeepalive(out);
  EXPECT_EQ(out, golden);
  auto result = decodeMessage(golden, {});
  ASSERT_TRUE(result.message);
  EXPECT_TRUE(std::holds_alternative<Keepalive>(*result.message));
  EXPECT_EQ(result.action(), ErrorAction::kNone);
}

TEST(BgpWireMessage, NotificationGolden) {
  // Hold Timer Expired, subcode 0, no data.
  const auto golden = frame(MessageType::kNotification, hex("04 00"));
  std::vector<uint8_t> out;
  encodeNotification({err::kHoldTimerExpired, 0, {}}, out);
  EXPECT_EQ(out, golden);
  auto result = decodeMessage(golden, {});
  EXPECT_EQ(std::get<Notification>(*result.message), (Notification{4, 0, {}}));
}

TEST(BgpWireMessage, NotificationFromErrorCarriesData) {
  const WireError e{ErrorAction::kSessionReset, err::kUpdateMessage, err::kAttributeLength,
                    hex("40 01 02 0000"), "ORIGIN length 2"};
  std::vector<uint8_t> out;
  encodeNotification(Notification::fromError(e), out);
  EXPECT_EQ(out, frame(MessageType::kNotification, hex("03 05 40 01 02 0000")));
}

TEST(BgpWireMessage, ShutdownCommunicationGolden) {
  // Cease / Administrative Shutdown, length 10, "maint 1234" (RFC 9003 2).
  const auto golden = frame(MessageType::kNotification, hex("06 02 0a 6d61696e742031323334"));
  std::vector<uint8_t> out;
  encodeNotification(Notification::shutdown(err::kCeaseAdminShutdown, "maint 1234"), out);
  EXPECT_EQ(out, golden);
  auto n = std::get<Notification>(*decodeMessage(golden, {}).message);
  EXPECT_EQ(n.shutdownCommunication(), "maint 1234");
}

TEST(BgpWireMessage, ShutdownCommunicationIsCutAtACharacter) {
  std::string text(254, 'a');
  text += "\xc3\xa9";  // é straddles byte 255
  const auto n = Notification::shutdown(err::kCeaseAdminReset, text);
  EXPECT_EQ(n.data[0], 254);
  EXPECT_EQ(n.shutdownCommunication(), std::string(254, 'a'));
}

TEST(BgpWireMessage, BadShutdownCommunicationIsIgnored) {
  // Length byte larger than the data, and invalid UTF-8: no communication, no crash.
  EXPECT_EQ((Notification{6, 2, hex("05 41")}).shutdownCommunication(), std::nullopt);
  EXPECT_EQ((Notification{6, 2, hex("01 ff")}).shutdownCommunication(), std::nullopt);
  EXPECT_EQ((Notification{6, 3, hex("01 41")}).shutdownCommunication(), std::nullopt);
  EXPECT_EQ((Notification{6, 4, hex("00")}).shutdownCommunication(), "");
}

TEST(BgpWireMessage, RouteRefreshGolden) {
  // AFI 2 (IPv6), subtype 1 (BoRR), SAFI 1.
  const auto golden = frame(MessageType::kRouteRefresh, hex("0002 01 01"));
  std::vector<uint8_t> out;
  encodeRouteRefresh({kAfiIpv6, RouteRefresh::kBeginOfRefresh, kSafiUnicast}, out);
  EXPECT_EQ(out, golden);
  auto result = decodeMessage(golden, {});
  EXPECT_EQ(std::get<RouteRefresh>(*result.message),
            (RouteRefresh{kAfiIpv6, RouteRefresh::kBeginOfRefresh, kSafiUnicast}));
}

TEST(BgpWireMessage, RouteRefreshRequestMayCarryOrfs) {
  // Subtype 0 with trailing ORF bytes (RFC 5291): accepted, ORFs ignored.
  auto result = decodeMessage(frame(MessageType::kRouteRefresh, hex("0001 00 01 01 0000")), {});
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.action(), ErrorAction::kNone);
}

TEST(BgpWireMessage, NextMessageSizeCutsAStream) {
  std::vector<uint8_t> stream;
  encodeKeepalive(stream);
  encodeRouteRefresh({kAfiIpv4, 0, kSafiUnicast}, stream);
  EXPECT_EQ(nextMessageSize(std::span(stream).first(10)), 0u);
  EXPECT_EQ(nextMessageSize(stream), 19u);
  EXPECT_EQ(nextMessageSize(std::span(stream).subspan(19)), 23u);
  auto broken = hex("ffffffffffffffffffffffffffffffff 0005 04");
  EXPECT_EQ(nextMessageSize(broken), 19u);
}

TEST(BgpWireMessage, TypeNames) {
  EXPECT_EQ(messageTypeName(MessageType::kRouteRefresh), "ROUTE-REFRESH");
}

}  // namespace
}  // namespace coral::bgp
