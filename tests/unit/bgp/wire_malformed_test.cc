// Malformed input, one test per case: each asserts the RFC 7606 action and, where the
// session resets, the NOTIFICATION code/subcode (RFC 4271 6). Nothing may crash.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::cat;
using testing::frame;
using testing::hex;
using testing::P;
using testing::updateBody;

const SessionContext kEbgp{true, true, 65000, 65001};
const SessionContext kIbgp{true, false, 65000, 65000};
const SessionContext kOldEbgp{false, true, 65000, 65001};

const std::vector<uint8_t> kOrigin = hex("40 01 01 00");
const std::vector<uint8_t> kPath = hex("40 02 06 02 01 0000fde9");
const std::vector<uint8_t> kNextHop = hex("40 03 04 0a000001");
const std::vector<uint8_t> kLocalPref = hex("40 05 04 00000064");
const std::vector<uint8_t> kNlri = hex("18 0a0102");

MessageDecodeResult decode(const std::vector<uint8_t>& bytes, const SessionContext& ctx = kEbgp) {
  return decodeMessage(bytes, ctx);
}
MessageDecodeResult decodeUpdateWith(const std::vector<uint8_t>& attrs,
                                     const SessionContext& ctx = kEbgp,
                                     const std::vector<uint8_t>& nlri = kNlri) {
  return decodeMessage(frame(MessageType::kUpdate, updateBody({}, attrs, nlri)), ctx);
}

// The strongest error must have this action and code/subcode.
void expectError(const MessageDecodeResult& r, ErrorAction action, uint8_t code, uint8_t subcode) {
  const WireError* e = strongestError(r.errors);
  ASSERT_NE(e, nullptr) << "no error reported";
  EXPECT_EQ(e->action, action) << formatError(*e);
  EXPECT_EQ(e->code, code) << formatError(*e);
  EXPECT_EQ(e->subcode, subcode) << formatError(*e);
  EXPECT_FALSE(e->reason.empty());
}

// Treat-as-withdraw: the prefixes come out withdrawn, with no attributes.
void expectWithdrawn(const MessageDecodeResult& r, uint8_t subcode) {
  expectError(r, ErrorAction::kTreatAsWithdraw, err::kUpdateMessage, subcode);
  ASSERT_TRUE(r.message);
  const Update& u = std::get<Update>(*r.message);
  EXPECT_TRUE(u.announced_v4.empty());
  EXPECT_EQ(u.withdrawn_v4, std::vector{P("10.1.2.0/24")});
  EXPECT_EQ(u.attributes, PathAttributes{});
}

// ---- Header (RFC 4271 6.1) ----

TEST(BgpWireMalformed, LengthBelowMinimum) {
  // Length field 18, below the 19-byte header.
  const auto r = decode(hex("ffffffffffffffffffffffffffffffff 0012 04"));
  expectError(r, ErrorAction::kSessionReset, err::kMessageHeader, err::kBadMessageLength);
  EXPECT_EQ(r.errors[0].data, hex("0012"));
  expectError(decode(hex("ffff")), ErrorAction::kSessionReset, err::kMessageHeader,
              err::kBadMessageLength);
}

TEST(BgpWireMalformed, LengthAbove4096) {
  std::vector<uint8_t> big(4097, 0);
  std::fill_n(big.begin(), 16, 0xff);
  big[16] = 0x10;
  big[17] = 0x01;
  big[18] = 2;
  const auto r = decode(big);
  expectError(r, ErrorAction::kSessionReset, err::kMessageHeader, err::kBadMessageLength);
  EXPECT_EQ(r.errors[0].data, hex("1001"));
}

TEST(BgpWireMalformed, LengthNotMatchingTypeMinimum) {
  expectError(decode(frame(MessageType::kKeepalive, hex("00"))), ErrorAction::kSessionReset,
              err::kMessageHeader, err::kBadMessageLength);
  expectError(decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a0000"))),
              ErrorAction::kSessionReset, err::kMessageHeader, err::kBadMessageLength);
  expectError(decode(frame(MessageType::kUpdate, hex("0000"))), ErrorAction::kSessionReset,
              err::kMessageHeader, err::kBadMessageLength);
  expectError(decode(frame(MessageType::kNotification, hex("06"))), ErrorAction::kSessionReset,
              err::kMessageHeader, err::kBadMessageLength);
  expectError(decode(frame(MessageType::kRouteRefresh, hex("0001 00"))), ErrorAction::kSessionReset,
              err::kMessageHeader, err::kBadMessageLength);
}

TEST(BgpWireMalformed, LengthFieldDisagreesWithBuffer) {
  auto bytes = frame(MessageType::kKeepalive, {});
  bytes.push_back(0);
  expectError(decode(bytes), ErrorAction::kSessionReset, err::kMessageHeader,
              err::kBadMessageLength);
}

TEST(BgpWireMalformed, BadMarker) {
  auto bytes = frame(MessageType::kKeepalive, {});
  bytes[3] = 0xfe;
  expectError(decode(bytes), ErrorAction::kSessionReset, err::kMessageHeader,
              err::kConnectionNotSynchronized);
}

TEST(BgpWireMalformed, BadType) {
  const auto r = decode(frame(static_cast<MessageType>(9), {}));
  expectError(r, ErrorAction::kSessionReset, err::kMessageHeader, err::kBadMessageType);
  EXPECT_EQ(r.errors[0].data, hex("09"));
}

// ---- OPEN (RFC 4271 6.2) ----

Open goodOpen() { return Open::make(65001, 90, 0x0a000001, {}); }

void expectOpenError(const Open& open, const OpenExpectations& expect, uint8_t subcode) {
  const WireErrors errors = validateOpen(open, expect);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].action, ErrorAction::kSessionReset);
  EXPECT_EQ(errors[0].code, err::kOpenMessage);
  EXPECT_EQ(errors[0].subcode, subcode) << formatError(errors[0]);
}

TEST(BgpWireMalformed, OpenUnsupportedVersion) {
  Open open = goodOpen();
  open.version = 3;
  expectOpenError(open, {}, err::kUnsupportedVersion);
  EXPECT_EQ(validateOpen(open, {})[0].data, hex("0004"));
}

TEST(BgpWireMalformed, OpenBadPeerAs) {
  expectOpenError(goodOpen(), {65002, 0, true}, err::kBadPeerAs);
  Open zero = goodOpen();
  zero.my_as = 0;
  zero.capabilities.four_octet_as.reset();
  expectOpenError(zero, {}, err::kBadPeerAs);
  Open trans = goodOpen();
  trans.capabilities.four_octet_as = kAsTrans;
  expectOpenError(trans, {}, err::kBadPeerAs);
}

TEST(BgpWireMalformed, OpenUnacceptableHoldTime) {
  Open open = goodOpen();
  open.hold_time_s = 2;
  expectOpenError(open, {}, err::kUnacceptableHoldTime);
  open.hold_time_s = 3;
  EXPECT_TRUE(validateOpen(open, {}).empty());
}

TEST(BgpWireMalformed, OpenBadBgpIdentifier) {
  Open open = goodOpen();
  open.bgp_id = 0;
  expectOpenError(open, {}, err::kBadBgpIdentifier);
  // An internal peer with our own identifier (RFC 6286 2.2).
  expectOpenError(goodOpen(), {65001, 0x0a000001, false}, err::kBadBgpIdentifier);
}

TEST(BgpWireMalformed, OpenTruncatedCapability) {
  // Capability 65 claims 4 bytes, 2 are there.
  const auto r =
      decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 06 02 04 41 04 0000")));
  expectError(r, ErrorAction::kSessionReset, err::kOpenMessage, 0);
  EXPECT_FALSE(r.message);
}

TEST(BgpWireMalformed, OpenZeroLengthCapabilities) {
  // An empty Capabilities parameter, then a multiprotocol capability of length 0.
  expectError(decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 02 02 00"))),
              ErrorAction::kSessionReset, err::kOpenMessage, 0);
  expectError(decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 04 02 02 01 00"))),
              ErrorAction::kSessionReset, err::kOpenMessage, 0);
}

TEST(BgpWireMalformed, OpenParametersOverrun) {
  expectError(decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 09 02 02 02 00"))),
              ErrorAction::kSessionReset, err::kOpenMessage, 0);
}

TEST(BgpWireMalformed, OpenUnsupportedOptionalParameter) {
  expectError(decode(frame(MessageType::kOpen, hex("04 fde9 005a 0a000001 03 01 01 00"))),
              ErrorAction::kSessionReset, err::kOpenMessage, err::kUnsupportedOptionalParameter);
}

// ---- UPDATE framing (RFC 7606 5.1 / RFC 4271 6.3) ----

TEST(BgpWireMalformed, WithdrawnLengthOverruns) {
  expectError(decode(frame(MessageType::kUpdate, hex("0010 18 0a0102 0000"))),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kMalformedAttributeList);
}

TEST(BgpWireMalformed, TotalAttributeLengthOverruns) {
  expectError(decode(frame(MessageType::kUpdate, hex("0000 0020 40 01 01 00"))),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kMalformedAttributeList);
}

TEST(BgpWireMalformed, AttributeLengthOverrunsAttributeBlock) {
  // NEXT_HOP claims 8 bytes, the block ends after 4: treat-as-withdraw (RFC 7606 4).
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, hex("40 03 08 0a000001")})),
                  err::kAttributeLength);
  // Two stray bytes after the last attribute: too few for a header.
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("40 01")})),
                  err::kMalformedAttributeList);
}

// ---- Attributes (RFC 7606 7) ----

TEST(BgpWireMalformed, WrongAttributeFlags) {
  // ORIGIN sent as optional transitive.
  const auto r = decodeUpdateWith(cat({hex("c0 01 01 00"), kPath, kNextHop}));
  expectWithdrawn(r, err::kAttributeFlags);
  EXPECT_EQ(r.errors[0].data, hex("c0 01 01 00"));
}

TEST(BgpWireMalformed, WrongLengthForFixedSizeAttributes) {
  expectWithdrawn(decodeUpdateWith(cat({hex("40 01 02 0000"), kPath, kNextHop})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, hex("40 03 05 0a00000100")})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("80 04 03 000001")})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("40 05 02 0001")}), kIbgp),
                  err::kAttributeLength);
  expectWithdrawn(
      decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("80 09 05 0a00000900"), kLocalPref}),
                       kIbgp),
      err::kAttributeLength);
}

TEST(BgpWireMalformed, ListAttributesWithBadLengths) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("c0 08 05 fde9000100")})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("c0 08 00")})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("c0 10 07 00020000000000")})),
                  err::kAttributeLength);
  expectWithdrawn(decodeUpdateWith(
                      cat({kOrigin, kPath, kNextHop, hex("c0 20 0d 000000010000000200000003 00")})),
                  err::kAttributeLength);
  expectWithdrawn(
      decodeUpdateWith(cat({kOrigin, kPath, kNextHop, kLocalPref, hex("80 0a 00")}), kIbgp),
      err::kAttributeLength);
}

TEST(BgpWireMalformed, BadOriginValue) {
  const auto r = decodeUpdateWith(cat({hex("40 01 01 03"), kPath, kNextHop}));
  expectWithdrawn(r, err::kInvalidOrigin);
  EXPECT_EQ(r.errors[0].data, hex("40 01 01 03"));
}

TEST(BgpWireMalformed, AsPathSegmentCountMismatch) {
  // Segment claims 3 ASes, carries 2.
  expectWithdrawn(
      decodeUpdateWith(cat({kOrigin, hex("40 02 0a 02 03 0000fde9 0000fdea"), kNextHop})),
      err::kMalformedAsPath);
}

TEST(BgpWireMalformed, AsPathZeroLengthSegment) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, hex("40 02 08 02 00 02 01 0000fde9"), kNextHop})),
                  err::kMalformedAsPath);
}

TEST(BgpWireMalformed, AsPathBadSegmentType) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, hex("40 02 06 05 01 0000fde9"), kNextHop})),
                  err::kMalformedAsPath);
}

TEST(BgpWireMalformed, AsPathTruncatedSegmentHeader) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, hex("40 02 07 02 01 0000fde9 02"), kNextHop})),
                  err::kMalformedAsPath);
}

TEST(BgpWireMalformed, ZeroLengthAsPathFromEbgp) {
  const auto attrs = cat({kOrigin, hex("40 02 00"), kNextHop});
  expectWithdrawn(decodeUpdateWith(attrs, kEbgp), err::kMalformedAsPath);
  // The same from an internal peer is a locally originated route: fine.
  const auto ibgp = decodeUpdateWith(cat({attrs, kLocalPref}), kIbgp);
  EXPECT_EQ(ibgp.action(), ErrorAction::kNone);
}

TEST(BgpWireMalformed, EbgpAsPathNotStartingWithPeerAs) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, hex("40 02 06 02 01 0000fdea"), kNextHop})),
                  err::kMalformedAsPath);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, hex("40 02 06 03 01 0000fde9"), kNextHop})),
                  err::kMalformedAsPath);
}

TEST(BgpWireMalformed, DuplicateAttributeKeepsTheFirst) {
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("40 01 01 02")}));
  expectError(r, ErrorAction::kAttributeDiscard, err::kUpdateMessage, err::kMalformedAttributeList);
  const Update& u = std::get<Update>(*r.message);
  EXPECT_EQ(u.attributes.origin, Origin::kIgp);
  EXPECT_EQ(u.announced_v4, std::vector{P("10.1.2.0/24")});
}

TEST(BgpWireMalformed, DuplicateMpReachResetsTheSession) {
  // RFC 7606 3(g): a repeated MP_REACH_NLRI or MP_UNREACH_NLRI is Malformed Attribute List.
  const auto mp = hex("80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8");
  expectError(decodeUpdateWith(cat({kOrigin, kPath, mp, mp}), kEbgp, {}),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kMalformedAttributeList);
  const auto unreach = hex("80 0f 03 0002 01");
  expectError(decodeUpdateWith(cat({unreach, unreach}), kEbgp, {}), ErrorAction::kSessionReset,
              err::kUpdateMessage, err::kMalformedAttributeList);
}

TEST(BgpWireMalformed, MissingMandatoryAttributes) {
  auto r = decodeUpdateWith(cat({kPath, kNextHop}));
  expectWithdrawn(r, err::kMissingWellKnown);
  EXPECT_EQ(r.errors[0].data, hex("01"));
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kNextHop})), err::kMissingWellKnown);
  r = decodeUpdateWith(cat({kOrigin, kPath}));
  expectWithdrawn(r, err::kMissingWellKnown);
  EXPECT_EQ(r.errors[0].data, hex("03"));
  // LOCAL_PREF is mandatory on iBGP.
  r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop}), kIbgp);
  expectWithdrawn(r, err::kMissingWellKnown);
  EXPECT_EQ(r.errors[0].data, hex("05"));
}

TEST(BgpWireMalformed, MpReachOnlyNeedsNoNextHop) {
  const auto mp = hex("80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8");
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, mp}), kEbgp, {});
  EXPECT_EQ(r.action(), ErrorAction::kNone);
  EXPECT_EQ(std::get<Update>(*r.message).announced_v6, std::vector{P("2001:db8::/32")});
}

TEST(BgpWireMalformed, MpReachBadNextHopLength) {
  const auto r = decodeUpdateWith(
      cat({kOrigin, kPath, hex("80 0e 0f 0002 01 05 2001000000 00 20 20010db8")}), kEbgp, {});
  expectError(r, ErrorAction::kAfiSafiDisable, err::kUpdateMessage, err::kOptionalAttribute);
  EXPECT_EQ(r.errors[0].afi, kAfiIpv6);
  EXPECT_EQ(r.errors[0].safi, kSafiUnicast);
}

TEST(BgpWireMalformed, MpReachUnknownAfiSafi) {
  const auto r = decodeUpdateWith(
      cat({kOrigin, kPath, hex("80 0e 0d 0019 46 04 0a000001 00 18 0a0102")}), kEbgp, {});
  expectError(r, ErrorAction::kAfiSafiDisable, err::kUpdateMessage, err::kOptionalAttribute);
  EXPECT_EQ(r.errors[0].afi, 25);
}

TEST(BgpWireMalformed, MpReachTooShortToWalk) {
  expectError(decodeUpdateWith(cat({kOrigin, kPath, hex("80 0e 03 0002 01")}), kEbgp, {}),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kOptionalAttribute);
  // Next hop length pointing past the attribute.
  expectError(decodeUpdateWith(cat({kOrigin, kPath, hex("80 0e 06 0002 01 20 0000")}), kEbgp, {}),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kOptionalAttribute);
}

TEST(BgpWireMalformed, MpReachBadPrefix) {
  // IPv6 prefix length 129.
  expectError(
      decodeUpdateWith(cat({kOrigin, kPath,
                            hex("80 0e 17 0002 01 10 20010db8000000000000000000000001 00 81 20")}),
                       kEbgp, {}),
      ErrorAction::kAfiSafiDisable, err::kUpdateMessage, err::kOptionalAttribute);
}

TEST(BgpWireMalformed, MpUnreachMalformed) {
  expectError(decodeUpdateWith(hex("80 0f 02 0002"), kEbgp, {}), ErrorAction::kSessionReset,
              err::kUpdateMessage, err::kOptionalAttribute);
  expectError(decodeUpdateWith(hex("80 0f 05 0002 01 40 20"), kEbgp, {}),
              ErrorAction::kAfiSafiDisable, err::kUpdateMessage, err::kOptionalAttribute);
}

TEST(BgpWireMalformed, As4PathMalformedIsDiscarded) {
  // From a 2-octet speaker: AS4_PATH with a confed segment, and one with a count mismatch.
  for (const auto& as4 : {hex("c0 11 06 03 01 00030d41"), hex("c0 11 06 02 02 00030d41")}) {
    const auto r =
        decodeUpdateWith(cat({kOrigin, hex("40 02 04 02 01 fde9"), kNextHop, as4}), kOldEbgp);
    expectError(r, ErrorAction::kAttributeDiscard, err::kUpdateMessage, err::kOptionalAttribute);
    const Update& u = std::get<Update>(*r.message);
    EXPECT_EQ(u.announced_v4, std::vector{P("10.1.2.0/24")});
    EXPECT_EQ(u.attributes.as_path->toString(), "65001");
  }
}

TEST(BgpWireMalformed, AggregatorBadLengthIsDiscarded) {
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("c0 07 06 fde9 0a000001")}));
  expectError(r, ErrorAction::kAttributeDiscard, err::kUpdateMessage, err::kAttributeLength);
  const Update& u = std::get<Update>(*r.message);
  EXPECT_FALSE(u.attributes.aggregator);
  EXPECT_EQ(u.announced_v4.size(), 1u);
  expectError(
      decodeUpdateWith(
          cat({kOrigin, hex("40 02 04 02 01 fde9"), kNextHop, hex("c0 12 04 00030d41")}), kOldEbgp),
      ErrorAction::kAttributeDiscard, err::kUpdateMessage, err::kOptionalAttribute);
}

TEST(BgpWireMalformed, AtomicAggregateWithValueIsDiscarded) {
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("40 06 01 00")}));
  expectError(r, ErrorAction::kAttributeDiscard, err::kUpdateMessage, err::kAttributeLength);
  EXPECT_FALSE(std::get<Update>(*r.message).attributes.atomic_aggregate);
}

TEST(BgpWireMalformed, LocalPrefFromEbgpIsDiscarded) {
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop, kLocalPref}));
  EXPECT_EQ(r.action(), ErrorAction::kAttributeDiscard);
  const Update& u = std::get<Update>(*r.message);
  EXPECT_FALSE(u.attributes.local_pref);
  EXPECT_EQ(u.announced_v4.size(), 1u);
}

TEST(BgpWireMalformed, UnknownWellKnownAttribute) {
  const auto r = decodeUpdateWith(cat({kOrigin, kPath, kNextHop, hex("40 63 01 00")}));
  expectError(r, ErrorAction::kSessionReset, err::kUpdateMessage, err::kUnrecognizedWellKnown);
  EXPECT_EQ(r.errors[0].data, hex("40 63 01 00"));
}

TEST(BgpWireMalformed, InvalidNextHop) {
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, hex("40 03 04 00000000")})),
                  err::kInvalidNextHop);
  expectWithdrawn(decodeUpdateWith(cat({kOrigin, kPath, hex("40 03 04 e0000001")})),
                  err::kInvalidNextHop);
}

TEST(BgpWireMalformed, NlriPrefixLengthInvalid) {
  // RFC 7606 5.3: the classic NLRI cannot be skipped, so the session resets.
  expectError(decodeUpdateWith(cat({kOrigin, kPath, kNextHop}), kEbgp, hex("21 0a010203 04")),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kInvalidNetworkField);
  expectError(decodeUpdateWith(cat({kOrigin, kPath, kNextHop}), kEbgp, hex("18 0a01")),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kInvalidNetworkField);
  expectError(decode(frame(MessageType::kUpdate, hex("0002 21 0a 0000"))),
              ErrorAction::kSessionReset, err::kUpdateMessage, err::kInvalidNetworkField);
}

TEST(BgpWireMalformed, RouteRefreshBadLength) {
  const auto bytes = frame(MessageType::kRouteRefresh, hex("0001 01 01 00"));
  const auto r = decode(bytes);
  expectError(r, ErrorAction::kSessionReset, err::kRouteRefreshMessage,
              err::kInvalidRouteRefreshLength);
  EXPECT_EQ(r.errors[0].data, bytes);
}

TEST(BgpWireMalformed, StrongestActionWins) {
  // Bad ORIGIN (withdraw), bad ATOMIC_AGGREGATE (discard), unknown well-known (reset).
  const auto r = decodeUpdateWith(
      cat({hex("40 01 01 07"), kPath, kNextHop, hex("40 06 01 00"), hex("40 63 00")}));
  EXPECT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.action(), ErrorAction::kSessionReset);
  EXPECT_EQ(strongestError(r.errors)->subcode, err::kUnrecognizedWellKnown);
}

}  // namespace
}  // namespace coral::bgp
