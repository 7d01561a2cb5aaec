// OPEN and capabilities: golden bytes written from RFC 4271 4.2, RFC 5492, RFC 4760 8,
// RFC 2918, RFC 4724 3, RFC 6793, RFC 7313, RFC 7911 and RFC 8950; round trips; checks.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "bgp/wire/open.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::frame;
using testing::hex;

const std::vector<uint8_t> kOpenBody =
    hex("04"                     // version 4
        "fd e9"                  // My AS 65001
        "00 5a"                  // hold time 90 s
        "0a 00 00 01"            // BGP identifier 10.0.0.1
        "20"                     // optional parameters length 32
        "02 1e"                  // parameter: Capabilities, 30 bytes
        "01 04 0001 00 01"       // multiprotocol IPv4 unicast
        "01 04 0002 00 01"       // multiprotocol IPv6 unicast
        "02 00"                  // route refresh
        "40 06 8078 0001 01 80"  // graceful restart: R, 120 s; IPv4 unicast, F bit
        "41 04 0000fde9"         // 4-octet AS 65001
        "46 00");                // enhanced route refresh

Open expectedOpen() {
  Capabilities caps;
  caps.multiprotocol = {{kAfiIpv4, kSafiUnicast}, {kAfiIpv6, kSafiUnicast}};
  caps.route_refresh = true;
  caps.enhanced_route_refresh = true;
  caps.graceful_restart = GracefulRestart{true, false, 120, {{{kAfiIpv4, kSafiUnicast}, true}}};
  return Open::make(65001, 90, 0x0a000001, caps);
}

TEST(BgpWireOpen, DecodesGoldenOpen) {
  const auto bytes = frame(MessageType::kOpen, kOpenBody);
  ASSERT_EQ(bytes.size(), 61u);
  auto result = decodeMessage(bytes, {});
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  const Open& open = std::get<Open>(*result.message);
  EXPECT_EQ(open, expectedOpen());
  EXPECT_EQ(open.asn(), 65001u);
  EXPECT_TRUE(open.capabilities.supports({kAfiIpv6, kSafiUnicast}));
  EXPECT_TRUE(validateOpen(open, {65001, 0x0a000002, true}).empty());
}

TEST(BgpWireOpen, EncodesGoldenOpen) {
  std::vector<uint8_t> out;
  encodeOpen(expectedOpen(), out);
  EXPECT_EQ(out, frame(MessageType::kOpen, kOpenBody));
}

TEST(BgpWireOpen, FourOctetAsUsesAsTrans) {
  const Open open = Open::make(4200000001u, 180, 0x01020304, {});
  EXPECT_EQ(open.my_as, kAsTrans);
  std::vector<uint8_t> out;
  encodeOpen(open, out);
  EXPECT_EQ(out, frame(MessageType::kOpen, hex("04 5ba0 00b4 01020304 08"
                                               "02 06 41 04 fa56ea01")));
  auto back = decodeMessage(out, {});
  ASSERT_TRUE(back.message);
  EXPECT_EQ(std::get<Open>(*back.message).asn(), 4200000001u);
}

TEST(BgpWireOpen, NoCapabilitiesMeansTwoOctetAs) {
  auto result = decodeMessage(frame(MessageType::kOpen, hex("04 fde9 0000 0a000001 00")), {});
  ASSERT_TRUE(result.message);
  const Open& open = std::get<Open>(*result.message);
  EXPECT_FALSE(open.capabilities.four_octet_as);
  EXPECT_EQ(open.asn(), 65001u);
  EXPECT_EQ(open.hold_time_s, 0);  // 0 is legal: no keepalives
  EXPECT_TRUE(validateOpen(open, {}).empty());
}

TEST(BgpWireOpen, AddPathExtendedNextHopAndUnknownAreKept) {
  const auto caps =
      hex("45 04 0001 01 03"      // ADD-PATH IPv4 unicast send+receive (RFC 7911)
          "05 06 0001 0001 0002"  // extended next hop: IPv4 unicast over IPv6 (RFC 8950)
          "80 00"                 // old Cisco route refresh: unknown
          "49 03 616263");        // FQDN-like unknown with a value
  auto body = hex("04 fde9 005a 0a000001");
  body.push_back(static_cast<uint8_t>(caps.size() + 2));
  body.push_back(2);
  body.push_back(static_cast<uint8_t>(caps.size()));
  body.insert(body.end(), caps.begin(), caps.end());
  auto result = decodeMessage(frame(MessageType::kOpen, body), {});
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  const Capabilities& c = std::get<Open>(*result.message).capabilities;
  ASSERT_EQ(c.add_path.size(), 1u);
  EXPECT_EQ(c.add_path[0].send_receive, 3);
  ASSERT_EQ(c.extended_next_hop.size(), 1u);
  EXPECT_EQ(c.extended_next_hop[0].next_hop_afi, kAfiIpv6);
  ASSERT_EQ(c.unknown.size(), 2u);
  EXPECT_EQ(c.unknown[1].code, 0x49);
  EXPECT_EQ(c.unknown[1].value, hex("616263"));
  // Round trip keeps everything.
  std::vector<uint8_t> out;
  encodeOpen(std::get<Open>(*result.message), out);
  auto again = decodeMessage(out, {});
  EXPECT_EQ(std::get<Open>(*again.message), std::get<Open>(*result.message));
}

TEST(BgpWireOpen, CapabilitiesSpreadOverSeveralParameters) {
  auto result = decodeMessage(
      frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 0c"
                                    "02 04 41 02 0000"  // bad: 4-octet AS with 2 bytes
                                    "02 04 01 04 0001")),
      {});
  EXPECT_FALSE(result.message);  // malformed 4-octet AS capability
  result = decodeMessage(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 0c"
                                                       "02 02 02 00"
                                                       "02 06 01 04 0002 0001")),
                         {});
  ASSERT_TRUE(result.message);
  const auto& caps = std::get<Open>(*result.message).capabilities;
  EXPECT_TRUE(caps.route_refresh);
  EXPECT_TRUE(caps.supports({kAfiIpv6, kSafiUnicast}));
}

TEST(BgpWireOpen, FormatsCapabilities) {
  EXPECT_EQ(formatCapabilities(expectedOpen().capabilities),
            "mp 1/1, mp 2/1, route-refresh, enhanced-route-refresh, as4 65001, "
            "graceful-restart 120s restarting");
}

}  // namespace
}  // namespace coral::bgp

namespace coral::bgp {
namespace {

TEST(BgpWireOpen, ExtendedOptionalParametersRfc9072) {
  // Non-extended length 255, type 255, 2-octet length 9; Capabilities with a 2-octet
  // length 6: the 4-octet AS capability.
  const auto body = testing::hex("04 5ba0 005a 0a000001 ff ff 0009 02 0006 41 04 fa56ea01");
  auto result = decodeMessage(testing::frame(MessageType::kOpen, body), {});
  ASSERT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  EXPECT_EQ(std::get<Open>(*result.message).asn(), 4200000001u);

  // Enough capabilities to pass 255 bytes are sent in the extended form and read back.
  Capabilities caps;
  for (uint16_t afi = 1; afi <= 70; ++afi) caps.multiprotocol.push_back({afi, 1});
  const Open open = Open::make(65001, 90, 1, caps);
  std::vector<uint8_t> out;
  encodeOpen(open, out);
  EXPECT_EQ(out[28], 0xff);
  EXPECT_EQ(out[29], 0xff);
  auto back = decodeMessage(out, {});
  ASSERT_TRUE(back.errors.empty()) << formatError(back.errors.front());
  EXPECT_EQ(std::get<Open>(*back.message), open);
}

}  // namespace
}  // namespace coral::bgp
