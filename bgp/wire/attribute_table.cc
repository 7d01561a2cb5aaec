// The path attribute table: one decode/encode/format trio per attribute and the rows.
// Actions per row follow RFC 7606 section 7 (and RFC 6793 6 for the AS4 attributes).
#include "bgp/wire/attribute_table.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "bgp/wire/as_path.h"
#include "bgp/wire/buffer.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

using common::IpAddress;

constexpr uint8_t kWellKnown = flag::kTransitive;
constexpr uint8_t kOptional = flag::kOptional;
constexpr uint8_t kOptionalTransitive = flag::kOptional | flag::kTransitive;

Malformed lengthError(std::string_view name, size_t got, std::string_view want) {
  return {err::kAttributeLength, fmt::format("{} length {} is not {}", name, got, want), {}};
}

uint32_t readU32(std::span<const uint8_t> v) { return *ByteReader(v).u32(); }
IpAddress readV4(std::span<const uint8_t> v) { return IpAddress::v4(readU32(v)); }

std::vector<uint32_t> readU32List(std::span<const uint8_t> v) {
  std::vector<uint32_t> out;
  ByteReader r(v);
  while (auto x = r.u32()) out.push_back(*x);
  return out;
}

std::string formatCommunity(uint32_t c) { return fmt::format("{}:{}", c >> 16, c & 0xffff); }

// ORIGIN (RFC 4271 5.1.1; RFC 7606 7.1: treat-as-withdraw).
std::optional<Malformed> decodeOrigin(std::span<const uint8_t> v, const SessionContext&,
                                      DecodedAttributes& out) {
  if (v.size() != 1) return lengthError("ORIGIN", v.size(), "1");
  if (v[0] > 2) return Malformed{err::kInvalidOrigin, fmt::format("ORIGIN value {}", v[0]), {}};
  out.attrs.origin = static_cast<Origin>(v[0]);
  return std::nullopt;
}
bool encodeOrigin(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.origin) return false;
  putU8(v, static_cast<uint8_t>(*in.attrs.origin));
  return true;
}
std::optional<std::string> formatOrigin(const PathAttributes& a) {
  if (!a.origin) return std::nullopt;
  constexpr std::array<std::string_view, 3> kNames = {"igp", "egp", "incomplete"};
  return std::string(kNames[static_cast<size_t>(*a.origin)]);
}

// AS_PATH (RFC 4271 5.1.2; RFC 7606 7.2: treat-as-withdraw).
std::optional<Malformed> decodeAsPathAttr(std::span<const uint8_t> v, const SessionContext& ctx,
                                          DecodedAttributes& out) {
  auto path = decodeAsPath(v, ctx.four_octet_as ? 4 : 2);
  if (!path.ok())
    return Malformed{err::kMalformedAsPath, std::string(errorMessage(path.status())), {}};
  out.attrs.as_path = *std::move(path);
  return std::nullopt;
}
bool encodeAsPathAttr(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.as_path) return false;
  encodeAsPath(v, *in.attrs.as_path, in.ctx.four_octet_as ? 4 : 2);
  return true;
}
std::optional<std::string> formatAsPath(const PathAttributes& a) {
  if (!a.as_path) return std::nullopt;
  return a.as_path->toString();
}

// AS4_PATH (RFC 6793 6: malformed is attribute-discard; ignored from 4-octet speakers).
std::optional<Malformed> decodeAs4Path(std::span<const uint8_t> v, const SessionContext& ctx,
                                       DecodedAttributes& out) {
  auto path = decodeAsPath(v, 4);
  if (!path.ok())
    return Malformed{err::kOptionalAttribute, std::string(errorMessage(path.status())), {}};
  for (const AsSegment& s : path->segments) {
    if (s.type == AsSegmentType::kConfedSequence || s.type == AsSegmentType::kConfedSet) {
      return Malformed{err::kOptionalAttribute, "AS4_PATH carries a confederation segment", {}};
    }
  }
  if (!ctx.four_octet_as) out.as4_path = *std::move(path);
  return std::nullopt;
}
bool encodeAs4Path(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.ctx.four_octet_as || !in.attrs.as_path || !needsAs4Path(*in.attrs.as_path)) return false;
  encodeAsPath(v, as4PathOf(*in.attrs.as_path), 4);
  return true;
}

// NEXT_HOP (RFC 4271 5.1.3; RFC 7606 7.3: treat-as-withdraw).
std::optional<Malformed> decodeNextHop(std::span<const uint8_t> v, const SessionContext&,
                                       DecodedAttributes& out) {
  if (v.size() != 4) return lengthError("NEXT_HOP", v.size(), "4");
  out.attrs.next_hop = readV4(v);
  return std::nullopt;
}
bool encodeNextHop(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.next_hop || !in.attrs.next_hop->isV4()) return false;
  putBytes(v, in.attrs.next_hop->bytes());
  return true;
}
std::optional<std::string> formatNextHop(const PathAttributes& a) {
  if (!a.next_hop) return std::nullopt;
  return a.next_hop->toString();
}

// MULTI_EXIT_DISC and LOCAL_PREF (RFC 7606 7.4, 7.5: treat-as-withdraw).
std::optional<Malformed> decodeMed(std::span<const uint8_t> v, const SessionContext&,
                                   DecodedAttributes& out) {
  if (v.size() != 4) return lengthError("MULTI_EXIT_DISC", v.size(), "4");
  out.attrs.med = readU32(v);
  return std::nullopt;
}
bool encodeMed(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.med) return false;
  putU32(v, *in.attrs.med);
  return true;
}
std::optional<std::string> formatMed(const PathAttributes& a) {
  if (!a.med) return std::nullopt;
  return std::to_string(*a.med);
}
std::optional<Malformed> decodeLocalPref(std::span<const uint8_t> v, const SessionContext&,
                                         DecodedAttributes& out) {
  if (v.size() != 4) return lengthError("LOCAL_PREF", v.size(), "4");
  out.attrs.local_pref = readU32(v);
  return std::nullopt;
}
bool encodeLocalPref(const EncodeInput& in, std::vector<uint8_t>& v) {
  // LOCAL_PREF is never sent to an external peer (RFC 4271 5.1.5).
  if (!in.attrs.local_pref || in.ctx.is_ebgp) return false;
  putU32(v, *in.attrs.local_pref);
  return true;
}
std::optional<std::string> formatLocalPref(const PathAttributes& a) {
  if (!a.local_pref) return std::nullopt;
  return std::to_string(*a.local_pref);
}

// ATOMIC_AGGREGATE (RFC 7606 7.6: attribute-discard).
std::optional<Malformed> decodeAtomicAggregate(std::span<const uint8_t> v, const SessionContext&,
                                               DecodedAttributes& out) {
  if (!v.empty()) return lengthError("ATOMIC_AGGREGATE", v.size(), "0");
  out.attrs.atomic_aggregate = true;
  return std::nullopt;
}
bool encodeAtomicAggregate(const EncodeInput& in, std::vector<uint8_t>&) {
  return in.attrs.atomic_aggregate;
}
std::optional<std::string> formatAtomicAggregate(const PathAttributes& a) {
  if (!a.atomic_aggregate) return std::nullopt;
  return std::string();
}

// AGGREGATOR and AS4_AGGREGATOR (RFC 7606 7.7, RFC 6793 6: attribute-discard).
std::optional<Malformed> decodeAggregator(std::span<const uint8_t> v, const SessionContext& ctx,
                                          DecodedAttributes& out) {
  const size_t want = ctx.four_octet_as ? 8 : 6;
  if (v.size() != want) return lengthError("AGGREGATOR", v.size(), std::to_string(want));
  ByteReader r(v);
  Aggregator agg;
  agg.asn = ctx.four_octet_as ? *r.u32() : *r.u16();
  agg.address = readV4(r.rest());
  out.attrs.aggregator = agg;
  return std::nullopt;
}
bool encodeAggregator(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.aggregator) return false;
  const Aggregator& agg = *in.attrs.aggregator;
  if (in.ctx.four_octet_as) {
    putU32(v, agg.asn);
  } else {
    putU16(v, agg.asn > 0xffff ? kAsTrans : static_cast<uint16_t>(agg.asn));
  }
  putBytes(v, agg.address.bytes());
  return true;
}
std::optional<std::string> formatAggregator(const PathAttributes& a) {
  if (!a.aggregator) return std::nullopt;
  return fmt::format("{} {}", a.aggregator->asn, a.aggregator->address.toString());
}
std::optional<Malformed> decodeAs4Aggregator(std::span<const uint8_t> v, const SessionContext& ctx,
                                             DecodedAttributes& out) {
  if (v.size() != 8) {
    auto m = lengthError("AS4_AGGREGATOR", v.size(), "8");
    m.subcode = err::kOptionalAttribute;
    return m;
  }
  if (!ctx.four_octet_as) out.as4_aggregator = Aggregator{readU32(v), readV4(v.subspan(4))};
  return std::nullopt;
}
bool encodeAs4Aggregator(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.ctx.four_octet_as || !in.attrs.aggregator || in.attrs.aggregator->asn <= 0xffff) {
    return false;
  }
  putU32(v, in.attrs.aggregator->asn);
  putBytes(v, in.attrs.aggregator->address.bytes());
  return true;
}

// COMMUNITIES (RFC 1997; RFC 7606 7.8: not a non-zero multiple of 4 is treat-as-withdraw).
std::optional<Malformed> decodeCommunities(std::span<const uint8_t> v, const SessionContext&,
                                           DecodedAttributes& out) {
  if (v.empty() || v.size() % 4 != 0) {
    return lengthError("COMMUNITIES", v.size(), "a non-zero multiple of 4");
  }
  out.attrs.communities = readU32List(v);
  return std::nullopt;
}
bool encodeCommunities(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.attrs.communities.empty()) return false;
  for (uint32_t c : in.attrs.communities) putU32(v, c);
  return true;
}
std::optional<std::string> formatCommunities(const PathAttributes& a) {
  if (a.communities.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (uint32_t c : a.communities) parts.push_back(formatCommunity(c));
  return join(parts, " ");
}

// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456; RFC 7606 7.9, 7.10: treat-as-withdraw).
std::optional<Malformed> decodeOriginatorId(std::span<const uint8_t> v, const SessionContext&,
                                            DecodedAttributes& out) {
  if (v.size() != 4) return lengthError("ORIGINATOR_ID", v.size(), "4");
  out.attrs.originator_id = readV4(v);
  return std::nullopt;
}
bool encodeOriginatorId(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.attrs.originator_id) return false;
  putBytes(v, in.attrs.originator_id->bytes());
  return true;
}
std::optional<std::string> formatOriginatorId(const PathAttributes& a) {
  if (!a.originator_id) return std::nullopt;
  return a.originator_id->toString();
}
std::optional<Malformed> decodeClusterList(std::span<const uint8_t> v, const SessionContext&,
                                           DecodedAttributes& out) {
  if (v.empty() || v.size() % 4 != 0) {
    return lengthError("CLUSTER_LIST", v.size(), "a non-zero multiple of 4");
  }
  out.attrs.cluster_list = readU32List(v);
  return std::nullopt;
}
bool encodeClusterList(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.attrs.cluster_list.empty()) return false;
  for (uint32_t c : in.attrs.cluster_list) putU32(v, c);
  return true;
}
std::optional<std::string> formatClusterList(const PathAttributes& a) {
  if (a.cluster_list.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (uint32_t c : a.cluster_list) parts.push_back(IpAddress::v4(c).toString());
  return join(parts, " ");
}

// MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760; RFC 7606 7.11 and 5.3: a value we cannot
// walk resets the session, a bad next hop or NLRI of a known family disables the family).
Malformed mpError(std::string reason, ErrorAction action, AfiSafi afi_safi = {}) {
  return {err::kOptionalAttribute, std::move(reason), action, afi_safi};
}

std::optional<Malformed> decodeMpReach(std::span<const uint8_t> v, const SessionContext&,
                                       DecodedAttributes& out) {
  ByteReader r(v);
  auto afi = r.u16();
  auto safi = r.u8();
  auto nh_len = r.u8();
  if (!afi || !safi || !nh_len) {
    return mpError(fmt::format("MP_REACH_NLRI length {} is below 5", v.size()),
                   ErrorAction::kSessionReset);
  }
  const AfiSafi afi_safi{*afi, *safi};
  auto nh = r.take(*nh_len);
  auto reserved = r.u8();
  if (!nh || !reserved) {
    return mpError(fmt::format("MP_REACH_NLRI next hop length {} overruns the attribute", *nh_len),
                   ErrorAction::kSessionReset);
  }
  const auto family = familyOf(afi_safi);
  if (!family) {
    return mpError(fmt::format("MP_REACH_NLRI AFI/SAFI {}/{} is not supported", *afi, *safi),
                   ErrorAction::kAfiSafiDisable, afi_safi);
  }
  // IPv4 accepts an IPv6 next hop too (RFC 8950 extended next hop).
  const bool ok_len =
      *nh_len == 16 || *nh_len == 32 || (*family == common::Family::kV4 && *nh_len == 4);
  if (!ok_len) {
    return mpError(
        fmt::format("MP_REACH_NLRI {} next hop length {} is not {}", familyName(*family), *nh_len,
                    *family == common::Family::kV4 ? "4, 16 or 32" : "16 or 32"),
        ErrorAction::kAfiSafiDisable, afi_safi);
  }
  auto prefixes = decodePrefixes(r.rest(), *family);
  if (!prefixes.ok()) {
    return mpError(fmt::format("MP_REACH_NLRI: {}", errorMessage(prefixes.status())),
                   ErrorAction::kAfiSafiDisable, afi_safi);
  }
  out.attrs.mp_next_hop = *IpAddress::fromBytes(nh->first(*nh_len == 4 ? 4 : 16));
  if (*nh_len == 32) out.attrs.mp_link_local_next_hop = *IpAddress::fromBytes(nh->subspan(16));
  out.mp_reach = MpNlri{afi_safi, *std::move(prefixes)};
  return std::nullopt;
}
bool encodeMpReach(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.mp.reach) return false;
  putU16(v, in.mp.reach->afi);
  putU8(v, in.mp.reach->safi);
  const IpAddress nh = in.attrs.mp_next_hop.value_or(
      IpAddress::zero(in.mp.reach->afi == kAfiIpv4 ? common::Family::kV4 : common::Family::kV6));
  const bool with_ll = nh.isV6() && in.attrs.mp_link_local_next_hop.has_value();
  putU8(v, static_cast<uint8_t>(nh.bytes().size() + (with_ll ? 16 : 0)));
  putBytes(v, nh.bytes());
  if (with_ll) putBytes(v, in.attrs.mp_link_local_next_hop->bytes());
  putU8(v, 0);  // reserved
  for (const auto& p : in.mp.reach_prefixes) encodePrefix(v, p);
  return true;
}
std::optional<std::string> formatMpNextHop(const PathAttributes& a) {
  if (!a.mp_next_hop) return std::nullopt;
  if (!a.mp_link_local_next_hop) return a.mp_next_hop->toString();
  return a.mp_next_hop->toString() + " " + a.mp_link_local_next_hop->toString();
}

std::optional<Malformed> decodeMpUnreach(std::span<const uint8_t> v, const SessionContext&,
                                         DecodedAttributes& out) {
  ByteReader r(v);
  auto afi = r.u16();
  auto safi = r.u8();
  if (!afi || !safi) {
    return mpError(fmt::format("MP_UNREACH_NLRI length {} is below 3", v.size()),
                   ErrorAction::kSessionReset);
  }
  const AfiSafi afi_safi{*afi, *safi};
  const auto family = familyOf(afi_safi);
  if (!family) {
    return mpError(fmt::format("MP_UNREACH_NLRI AFI/SAFI {}/{} is not supported", *afi, *safi),
                   ErrorAction::kAfiSafiDisable, afi_safi);
  }
  auto prefixes = decodePrefixes(r.rest(), *family);
  if (!prefixes.ok()) {
    return mpError(fmt::format("MP_UNREACH_NLRI: {}", errorMessage(prefixes.status())),
                   ErrorAction::kAfiSafiDisable, afi_safi);
  }
  out.mp_unreach = MpNlri{afi_safi, *std::move(prefixes)};
  return std::nullopt;
}
bool encodeMpUnreach(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (!in.mp.unreach) return false;
  putU16(v, in.mp.unreach->afi);
  putU8(v, in.mp.unreach->safi);
  for (const auto& p : in.mp.unreach_prefixes) encodePrefix(v, p);
  return true;
}

// EXTENDED COMMUNITIES (RFC 4360; RFC 7606 7.14: treat-as-withdraw).
std::optional<Malformed> decodeExtCommunities(std::span<const uint8_t> v, const SessionContext&,
                                              DecodedAttributes& out) {
  if (v.empty() || v.size() % 8 != 0) {
    return lengthError("EXTENDED_COMMUNITIES", v.size(), "a non-zero multiple of 8");
  }
  for (size_t i = 0; i < v.size(); i += 8) {
    ExtendedCommunity c;
    std::copy_n(v.begin() + static_cast<ptrdiff_t>(i), 8, c.bytes.begin());
    out.attrs.extended_communities.push_back(c);
  }
  return std::nullopt;
}
bool encodeExtCommunities(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.attrs.extended_communities.empty()) return false;
  for (const auto& c : in.attrs.extended_communities) putBytes(v, c.bytes);
  return true;
}
std::optional<std::string> formatExtCommunities(const PathAttributes& a) {
  if (a.extended_communities.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (const auto& c : a.extended_communities) {
    parts.push_back(fmt::format("{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", c.bytes[0],
                                c.bytes[1], c.bytes[2], c.bytes[3], c.bytes[4], c.bytes[5],
                                c.bytes[6], c.bytes[7]));
  }
  return join(parts, " ");
}

// LARGE COMMUNITIES (RFC 8092 5: not a non-zero multiple of 12 is treat-as-withdraw).
std::optional<Malformed> decodeLargeCommunities(std::span<const uint8_t> v, const SessionContext&,
                                                DecodedAttributes& out) {
  if (v.empty() || v.size() % 12 != 0) {
    return lengthError("LARGE_COMMUNITIES", v.size(), "a non-zero multiple of 12");
  }
  ByteReader r(v);
  while (!r.empty()) out.attrs.large_communities.push_back({*r.u32(), *r.u32(), *r.u32()});
  return std::nullopt;
}
bool encodeLargeCommunities(const EncodeInput& in, std::vector<uint8_t>& v) {
  if (in.attrs.large_communities.empty()) return false;
  for (const auto& c : in.attrs.large_communities) {
    putU32(v, c.global_admin);
    putU32(v, c.local_data1);
    putU32(v, c.local_data2);
  }
  return true;
}
std::optional<std::string> formatLargeCommunities(const PathAttributes& a) {
  if (a.large_communities.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (const auto& c : a.large_communities) {
    parts.push_back(fmt::format("{}:{}:{}", c.global_admin, c.local_data1, c.local_data2));
  }
  return join(parts, " ");
}

std::optional<std::string> formatNothing(const PathAttributes&) { return std::nullopt; }

using E = ErrorAction;
// Sorted by code: encodeAttributes walks it in order.
const std::array<AttributeRow, 16> kTable = {{
    {AttrCode::kOrigin, "ORIGIN", kWellKnown, E::kTreatAsWithdraw, decodeOrigin, encodeOrigin,
     formatOrigin},
    {AttrCode::kAsPath, "AS_PATH", kWellKnown, E::kTreatAsWithdraw, decodeAsPathAttr,
     encodeAsPathAttr, formatAsPath},
    {AttrCode::kNextHop, "NEXT_HOP", kWellKnown, E::kTreatAsWithdraw, decodeNextHop, encodeNextHop,
     formatNextHop},
    {AttrCode::kMultiExitDisc, "MULTI_EXIT_DISC", kOptional, E::kTreatAsWithdraw, decodeMed,
     encodeMed, formatMed},
    {AttrCode::kLocalPref, "LOCAL_PREF", kWellKnown, E::kTreatAsWithdraw, decodeLocalPref,
     encodeLocalPref, formatLocalPref},
    {AttrCode::kAtomicAggregate, "ATOMIC_AGGREGATE", kWellKnown, E::kAttributeDiscard,
     decodeAtomicAggregate, encodeAtomicAggregate, formatAtomicAggregate},
    {AttrCode::kAggregator, "AGGREGATOR", kOptionalTransitive, E::kAttributeDiscard,
     decodeAggregator, encodeAggregator, formatAggregator},
    {AttrCode::kCommunities, "COMMUNITIES", kOptionalTransitive, E::kTreatAsWithdraw,
     decodeCommunities, encodeCommunities, formatCommunities},
    {AttrCode::kOriginatorId, "ORIGINATOR_ID", kOptional, E::kTreatAsWithdraw, decodeOriginatorId,
     encodeOriginatorId, formatOriginatorId},
    {AttrCode::kClusterList, "CLUSTER_LIST", kOptional, E::kTreatAsWithdraw, decodeClusterList,
     encodeClusterList, formatClusterList},
    {AttrCode::kMpReachNlri, "MP_REACH_NLRI", kOptional, E::kSessionReset, decodeMpReach,
     encodeMpReach, formatMpNextHop},
    {AttrCode::kMpUnreachNlri, "MP_UNREACH_NLRI", kOptional, E::kSessionReset, decodeMpUnreach,
     encodeMpUnreach, formatNothing},
    {AttrCode::kExtendedCommunities, "EXTENDED_COMMUNITIES", kOptionalTransitive,
     E::kTreatAsWithdraw, decodeExtCommunities, encodeExtCommunities, formatExtCommunities},
    {AttrCode::kAs4Path, "AS4_PATH", kOptionalTransitive, E::kAttributeDiscard, decodeAs4Path,
     encodeAs4Path, formatNothing},
    {AttrCode::kAs4Aggregator, "AS4_AGGREGATOR", kOptionalTransitive, E::kAttributeDiscard,
     decodeAs4Aggregator, encodeAs4Aggregator, formatNothing},
    {AttrCode::kLargeCommunities, "LARGE_COMMUNITIES", kOptionalTransitive, E::kTreatAsWithdraw,
     decodeLargeCommunities, encodeLargeCommunities, formatLargeCommunities},
}};

}  // namespace

std::span<const AttributeRow> attributeTable() { return kTable; }

const AttributeRow* findAttributeRow(uint8_t code) {
  for (const AttributeRow& row : kTable) {
    if (static_cast<uint8_t>(row.code) == code) return &row;
  }
  return nullptr;
}

}  // namespace coral::bgp
