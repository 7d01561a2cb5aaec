// Path attributes one by one: golden bytes from RFC 4271 4.3 / 5, RFC 1997, RFC 4360,
// RFC 4456, RFC 5065, RFC 6793 and RFC 8092; the AS_PATH + AS4_PATH merge; extended
// length; unknown attributes; hashing, interning and formatting.
#include <gtest/gtest.h>

#include "bgp/wire/as_path.h"
#include "bgp/wire/attribute_table.h"
#include "bgp/wire/message.h"
#include "tests/unit/bgp/wire_test_util.h"

namespace coral::bgp {
namespace {

using testing::A;
using testing::cat;
using testing::frame;
using testing::hex;
using testing::P;
using testing::updateBody;

const SessionContext kEbgp{true, true, 65000, 65001};
const SessionContext kIbgp{true, false, 65000, 65000};
const SessionContext kOldEbgp{false, true, 65000, 65001};  // peer without 4-octet AS

const std::vector<uint8_t> kOrigin = hex("40 01 01 00");
const std::vector<uint8_t> kPath4 = hex("40 02 06 02 01 0000fde9");
const std::vector<uint8_t> kNextHop = hex("40 03 04 0a000001");
const std::vector<uint8_t> kNlri = hex("18 0a0102");

std::vector<uint8_t> updateWith(const std::vector<uint8_t>& attrs) {
  return frame(MessageType::kUpdate, updateBody({}, attrs, kNlri));
}

// Decodes an UPDATE with `attrs`, expects no error, and checks it re-encodes to itself.
PathAttributes roundTrip(const std::vector<uint8_t>& attrs, const SessionContext& ctx) {
  const auto bytes = updateWith(attrs);
  auto result = decodeMessage(bytes, ctx);
  EXPECT_TRUE(result.errors.empty()) << formatError(result.errors.front());
  if (!result.message) return {};
  const Update& u = std::get<Update>(*result.message);
  std::vector<uint8_t> out;
  EXPECT_TRUE(encodeUpdate(u, ctx, out).ok());
  EXPECT_EQ(out, bytes);
  return u.attributes;
}

TEST(BgpWireAttributes, EveryKnownAttributeGolden) {
  const auto attrs = cat({kOrigin, kPath4, kNextHop,
                          hex("80 04 04 00000000"),           // MED 0
                          hex("40 05 04 00000064"),           // LOCAL_PREF 100
                          hex("40 06 00"),                    // ATOMIC_AGGREGATE
                          hex("c0 07 08 0000fde9 0a000001"),  // AGGREGATOR 65001 10.0.0.1
                          hex("c0 08 08 fde90001 ffffff01"),  // 65001:1, NO_EXPORT
                          hex("80 09 04 0a000009"),           // ORIGINATOR_ID 10.0.0.9
                          hex("80 0a 08 0a000063 0a000064"),  // CLUSTER_LIST
                          hex("c0 10 08 0002fde900000064"),   // route target 65001:100
                          hex("c0 20 0c 0000fde9 00000001 00000002")});  // 65001:1:2
  const PathAttributes a = roundTrip(attrs, kIbgp);
  EXPECT_EQ(a.med, 0u);
  EXPECT_EQ(a.local_pref, 100u);
  EXPECT_TRUE(a.atomic_aggregate);
  EXPECT_EQ(a.aggregator, (Aggregator{65001, A("10.0.0.1")}));
  EXPECT_EQ(a.communities, (std::vector<uint32_t>{0xfde90001, 0xffffff01}));
  EXPECT_EQ(a.originator_id, A("10.0.0.9"));
  EXPECT_EQ(a.cluster_list, (std::vector<uint32_t>{0x0a000063, 0x0a000064}));
  ASSERT_EQ(a.extended_communities.size(), 1u);
  EXPECT_EQ(a.extended_communities[0].bytes[1], 0x02);
  EXPECT_EQ(a.large_communities, (std::vector<LargeCommunity>{{65001, 1, 2}}));
  EXPECT_EQ(formatAttributes(a),
            "ORIGIN igp; AS_PATH 65001; NEXT_HOP 10.0.0.1; MULTI_EXIT_DISC 0; LOCAL_PREF 100; "
            "ATOMIC_AGGREGATE; AGGREGATOR 65001 10.0.0.1; COMMUNITIES 65001:1 65535:65281; "
            "ORIGINATOR_ID 10.0.0.9; CLUSTER_LIST 10.0.0.99 10.0.0.100; "
            "EXTENDED_COMMUNITIES 0002fde900000064; LARGE_COMMUNITIES 65001:1:2");
}

TEST(BgpWireAttributes, AsSetAndConfederationSegments) {
  const auto attrs = cat({kOrigin,
                          hex("40 02 16"
                              "03 01 0000fdf0"             // AS_CONFED_SEQUENCE (65008)
                              "02 01 0000fde9"             // AS_SEQUENCE 65001
                              "01 02 0000fdea 0000fdeb"),  // AS_SET {65002 65003}
                          kNextHop, hex("40 05 04 00000064")});
  const PathAttributes a = roundTrip(attrs, kIbgp);
  EXPECT_EQ(a.as_path->toString(), "(65008) 65001 {65002 65003}");
  EXPECT_EQ(a.as_path->length(), 2u);
}

TEST(BgpWireAttributes, TwoOctetSessionMergesAs4PathAndAggregator) {
  const auto attrs = cat({kOrigin,
                          hex("40 02 08 02 03 fde9 5ba0 5ba0"),  // 65001 AS_TRANS AS_TRANS
                          kNextHop,
                          hex("c0 07 06 5ba0 0a000001"),                     // AGGREGATOR AS_TRANS
                          hex("c0 11 0e 02 03 0000fde9 00030d41 00030d42"),  // AS4_PATH, whole path
                          hex("c0 12 08 00030d41 0a000001")});  // AS4_AGGREGATOR 200001
  const PathAttributes a = roundTrip(attrs, kOldEbgp);
  EXPECT_EQ(a.as_path->toString(), "65001 200001 200002");
  EXPECT_EQ(a.aggregator->asn, 200001u);
  // Sent to a 4-octet peer, the same attributes need no AS4 attributes.
  Update u;
  u.announced_v4 = {P("10.1.2.0/24")};
  u.attributes = a;
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(out, updateWith(cat({kOrigin, hex("40 02 0e 02 03 0000fde9 00030d41 00030d42"),
                                 kNextHop, hex("c0 07 08 00030d41 0a000001")})));
}

TEST(BgpWireAttributes, As4PathLongerThanAsPathIsIgnored) {
  const auto attrs =
      cat({kOrigin, hex("40 02 04 02 01 fde9"), kNextHop, hex("c0 11 0a 02 02 00030d41 00030d42")});
  auto result = decodeMessage(updateWith(attrs), kOldEbgp);
  EXPECT_EQ(result.action(), ErrorAction::kNone);
  EXPECT_EQ(std::get<Update>(*result.message).attributes.as_path->toString(), "65001");
}

TEST(BgpWireAttributes, AggregatorNotAsTransMakesAs4AttributesStale) {
  const auto attrs = cat({kOrigin, hex("40 02 06 02 02 fde9 5ba0"), kNextHop,
                          hex("c0 07 06 fdea 0a000001"),  // aggregated by a 2-octet AS 65002
                          hex("c0 11 06 02 01 00030d41"), hex("c0 12 08 00030d41 0a000001")});
  auto result = decodeMessage(updateWith(attrs), kOldEbgp);
  const auto& a = std::get<Update>(*result.message).attributes;
  EXPECT_EQ(a.as_path->toString(), "65001 23456");
  EXPECT_EQ(a.aggregator->asn, 65002u);
}

TEST(BgpWireAttributes, As4AttributesFromAFourOctetPeerAreIgnored) {
  const auto attrs = cat({kOrigin, kPath4, kNextHop, hex("c0 11 06 02 01 00030d41")});
  auto result = decodeMessage(updateWith(attrs), kEbgp);
  EXPECT_EQ(result.action(), ErrorAction::kNone);
  EXPECT_EQ(std::get<Update>(*result.message).attributes.as_path->toString(), "65001");
}

TEST(BgpWireAttributes, MergeKeepsLeadingConfedSegments) {
  const AsPath as_path{
      {{AsSegmentType::kConfedSequence, {65010}}, {AsSegmentType::kSequence, {65001, kAsTrans}}}};
  const AsPath as4{{{AsSegmentType::kSequence, {200001}}}};
  EXPECT_EQ(mergeAs4Path(as_path, as4).toString(), "(65010) 65001 200001");
  // Equal counts: AS4_PATH replaces the whole non-confed part.
  const AsPath same{{{AsSegmentType::kSequence, {kAsTrans}}}};
  EXPECT_EQ(mergeAs4Path(same, as4).toString(), "200001");
}

TEST(BgpWireAttributes, LongAsPathIsSplitIntoSegments) {
  AsPath path;
  path.segments.push_back({AsSegmentType::kSequence, std::vector<uint32_t>(300, 65001)});
  std::vector<uint8_t> out;
  encodeAsPath(out, path, 4);
  EXPECT_EQ(out.size(), 2 + 255 * 4 + 2 + 45 * 4);
  EXPECT_EQ(out[1], 255);
  auto back = decodeAsPath(out, 4);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->length(), 300u);
}

TEST(BgpWireAttributes, ExtendedLengthChosenAbove255Bytes) {
  PathAttributes attrs;
  attrs.origin = Origin::kIgp;
  attrs.as_path = AsPath{{{AsSegmentType::kSequence, {65001}}}};
  attrs.next_hop = A("10.0.0.1");
  for (uint32_t i = 0; i < 70; ++i) attrs.communities.push_back(0xfde90000 + i);
  Update u;
  u.announced_v4 = {P("10.1.2.0/24")};
  u.attributes = attrs;
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  const std::vector<uint8_t> head = hex("d0 08 0118");  // optional transitive + ext, 280 bytes
  EXPECT_NE(std::search(out.begin(), out.end(), head.begin(), head.end()), out.end());
  auto result = decodeMessage(out, kEbgp);
  ASSERT_TRUE(result.errors.empty());
  EXPECT_EQ(std::get<Update>(*result.message), u);
}

TEST(BgpWireAttributes, ExtendedLengthOnShortValueIsAccepted) {
  const auto in = cat({kOrigin, kPath4, kNextHop, hex("d0 08 0004 fde90001")});
  auto result = decodeMessage(updateWith(in), kEbgp);
  ASSERT_TRUE(result.errors.empty());
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(std::get<Update>(*result.message), kEbgp, out).ok());
  EXPECT_EQ(out, updateWith(cat({kOrigin, kPath4, kNextHop, hex("c0 08 04 fde90001")})));
}

TEST(BgpWireAttributes, UnknownOptionalTransitiveIsPassedOnWithPartial) {
  const auto in = cat({kOrigin, kPath4, kNextHop,
                       hex("c0 63 02 abcd"),  // optional transitive type 99
                       hex("80 64 01 00")});  // optional non-transitive type 100: dropped
  auto result = decodeMessage(updateWith(in), kEbgp);
  ASSERT_TRUE(result.errors.empty());
  const Update& u = std::get<Update>(*result.message);
  ASSERT_EQ(u.attributes.unknown.size(), 1u);
  EXPECT_EQ(u.attributes.unknown[0].code, 99);
  std::vector<uint8_t> out;
  ASSERT_TRUE(encodeUpdate(u, kEbgp, out).ok());
  EXPECT_EQ(out, updateWith(cat({kOrigin, kPath4, kNextHop, hex("e0 63 02 abcd")})));
}

TEST(BgpWireAttributes, TableRowsAreSortedAndFindable) {
  const auto table = attributeTable();
  for (size_t i = 1; i < table.size(); ++i) EXPECT_LT(table[i - 1].code, table[i].code);
  EXPECT_EQ(findAttributeRow(32)->name, "LARGE_COMMUNITIES");
  EXPECT_EQ(findAttributeRow(99), nullptr);
}

TEST(BgpWireAttributes, EqualityHashAndInterning) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{{AsSegmentType::kSequence, {65001}}}};
  a.next_hop = A("10.0.0.1");
  PathAttributes b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::hash<PathAttributes>{}(a), std::hash<PathAttributes>{}(b));
  b.med = 5;
  EXPECT_NE(a, b);
  EXPECT_NE(hashValue(a), hashValue(b));

  AttributeInterner interner;
  auto p1 = interner.intern(a);
  auto p2 = interner.intern(PathAttributes(a));
  auto p3 = interner.intern(b);
  EXPECT_EQ(p1.get(), p2.get());
  EXPECT_NE(p1.get(), p3.get());
  EXPECT_EQ(interner.size(), 2u);
  p3.reset();
  EXPECT_EQ(interner.size(), 1u);
}

}  // namespace
}  // namespace coral::bgp
