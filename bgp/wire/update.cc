// UPDATE decode (frame, attributes, validation) and encode.
#include "bgp/wire/update.h"

#include <fmt/format.h>

#include "bgp/wire/attribute_table.h"
#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"
#include "bgp/wire/header.h"
#include "bgp/wire/nlri.h"
#include "bgp/wire/validate.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

using common::Family;
using common::Prefix;

WireError malformedList(std::string reason) {
  return {ErrorAction::kSessionReset,
          err::kUpdateMessage,
          err::kMalformedAttributeList,
          {},
          std::move(reason)};
}

// The three length-delimited parts of an UPDATE body.
struct UpdateFrame {
  std::span<const uint8_t> withdrawn;
  std::span<const uint8_t> attributes;
  std::span<const uint8_t> nlri;
};

// RFC 7606 5.1 / RFC 4271 6.3: lengths that do not add up leave nothing to trust.
std::optional<UpdateFrame> splitUpdate(std::span<const uint8_t> body, WireErrors& errors) {
  ByteReader r(body);
  auto withdrawn_len = r.u16();
  if (!withdrawn_len) {
    errors.push_back(malformedList("UPDATE body shorter than the withdrawn routes length"));
    return std::nullopt;
  }
  auto withdrawn = r.take(*withdrawn_len);
  if (!withdrawn) {
    errors.push_back(
        malformedList(fmt::format("withdrawn routes length {} overruns the UPDATE body of {} bytes",
                                  *withdrawn_len, body.size())));
    return std::nullopt;
  }
  auto attr_len = r.u16();
  if (!attr_len) {
    errors.push_back(malformedList("UPDATE body ends before the total path attribute length"));
    return std::nullopt;
  }
  auto attributes = r.take(*attr_len);
  if (!attributes) {
    errors.push_back(malformedList(
        fmt::format("total path attribute length {} overruns the {} bytes left in the UPDATE",
                    *attr_len, r.remaining())));
    return std::nullopt;
  }
  return UpdateFrame{*withdrawn, *attributes, r.rest()};
}

// Classic IPv4 NLRI fields: a malformed one cannot be skipped (RFC 7606 5.3).
std::vector<Prefix> decodeClassicNlri(std::span<const uint8_t> bytes, std::string_view what,
                                      WireErrors& errors) {
  auto prefixes = decodePrefixes(bytes, Family::kV4);
  if (!prefixes.ok()) {
    errors.push_back({ErrorAction::kSessionReset,
                      err::kUpdateMessage,
                      err::kInvalidNetworkField,
                      {},
                      fmt::format("{}: {}", what, errorMessage(prefixes.status()))});
    return {};
  }
  return *std::move(prefixes);
}

void appendMp(Update& u, const MpNlri& mp, bool reach) {
  const bool v4 = mp.afi_safi.afi == kAfiIpv4;
  auto& dst =
      reach ? (v4 ? u.announced_v4 : u.announced_v6) : (v4 ? u.withdrawn_v4 : u.withdrawn_v6);
  dst.insert(dst.end(), mp.prefixes.begin(), mp.prefixes.end());
}

}  // namespace

UpdateDecodeResult decodeUpdate(std::span<const uint8_t> body, const SessionContext& ctx) {
  UpdateDecodeResult result;
  Update& u = result.update;
  auto frame = splitUpdate(body, result.errors);
  if (!frame) return result;

  // RFC 4724 2: End-of-RIB for IPv4 is an UPDATE with nothing in it.
  if (frame->withdrawn.empty() && frame->attributes.empty() && frame->nlri.empty()) {
    u.end_of_rib = Family::kV4;
    return result;
  }

  u.withdrawn_v4 = decodeClassicNlri(frame->withdrawn, "withdrawn routes", result.errors);
  u.announced_v4 = decodeClassicNlri(frame->nlri, "NLRI", result.errors);
  const auto raw = splitAttributes(frame->attributes, result.errors);
  DecodedAttributes decoded = decodeAttributes(raw, ctx, result.errors);
  validateUpdateAttributes(decoded, !frame->nlri.empty(), ctx, result.errors);

  if (decoded.mp_unreach) {
    appendMp(u, *decoded.mp_unreach, /*reach=*/false);
    if (decoded.mp_unreach->prefixes.empty() && raw.size() == 1 && frame->withdrawn.empty() &&
        frame->nlri.empty()) {
      if (auto family = familyOf(decoded.mp_unreach->afi_safi)) u.end_of_rib = *family;
    }
  }
  if (decoded.mp_reach) appendMp(u, *decoded.mp_reach, /*reach=*/true);
  u.attributes = std::move(decoded.attrs);

  if (result.action() == ErrorAction::kTreatAsWithdraw) {
    u.withdrawn_v4.insert(u.withdrawn_v4.end(), u.announced_v4.begin(), u.announced_v4.end());
    u.withdrawn_v6.insert(u.withdrawn_v6.end(), u.announced_v6.begin(), u.announced_v6.end());
    u.announced_v4.clear();
    u.announced_v6.clear();
    u.attributes = {};
  } else if (!u.announces()) {
    u.attributes = {};  // attributes of a pure withdrawal mean nothing
  }
  return result;
}

absl::Status encodeUpdate(const Update& update, const SessionContext& ctx,
                          std::vector<uint8_t>& out) {
  if (update.end_of_rib && !update.announces() && update.withdrawn_v4.empty() &&
      update.withdrawn_v6.empty()) {
    encodeEndOfRib(*update.end_of_rib, out);
    return absl::OkStatus();
  }
  const PathAttributes& a = update.attributes;
  if (!update.announced_v4.empty() && !(a.next_hop && a.next_hop->isV4())) {
    return absl::InvalidArgumentError("UPDATE announces IPv4 prefixes without an IPv4 NEXT_HOP");
  }
  if (!update.announced_v6.empty() && !(a.mp_next_hop && a.mp_next_hop->isV6())) {
    return absl::InvalidArgumentError("UPDATE announces IPv6 prefixes without an IPv6 next hop");
  }
  const size_t start = out.size();
  const size_t length_at = beginMessage(MessageType::kUpdate, out);
  const size_t withdrawn_len_at = out.size();
  putU16(out, 0);
  for (const Prefix& p : update.withdrawn_v4) encodePrefix(out, p);
  patchU16(out, withdrawn_len_at, static_cast<uint16_t>(out.size() - withdrawn_len_at - 2));

  const size_t attr_len_at = out.size();
  putU16(out, 0);
  MpEncode mp;
  if (!update.announced_v6.empty()) {
    mp.reach = unicastOf(Family::kV6);
    mp.reach_prefixes = update.announced_v6;
  }
  if (!update.withdrawn_v6.empty()) {
    mp.unreach = unicastOf(Family::kV6);
    mp.unreach_prefixes = update.withdrawn_v6;
  }
  if (update.announces()) {
    encodeAttributes({a, ctx, mp}, out);
  } else if (mp.unreach) {
    const PathAttributes none;
    encodeAttributes({none, ctx, mp}, out);
  }
  const size_t attr_len = out.size() - attr_len_at - 2;
  if (attr_len > 0xffff) {
    out.resize(start);
    return absl::InvalidArgumentError("UPDATE path attributes exceed 65535 bytes");
  }
  patchU16(out, attr_len_at, static_cast<uint16_t>(attr_len));
  for (const Prefix& p : update.announced_v4) encodePrefix(out, p);
  if (out.size() - start > kMaxMessageSize) {
    const size_t size = out.size() - start;
    out.resize(start);
    return absl::InvalidArgumentError(
        fmt::format("UPDATE would be {} bytes, above the {} byte maximum", size, kMaxMessageSize));
  }
  finishMessage(out, length_at);
  return absl::OkStatus();
}

void encodeEndOfRib(common::Family family, std::vector<uint8_t>& out) {
  const size_t length_at = beginMessage(MessageType::kUpdate, out);
  putU16(out, 0);  // withdrawn routes length
  if (family == Family::kV4) {
    putU16(out, 0);  // total path attribute length
  } else {
    std::vector<uint8_t> attr;
    const AfiSafi fam = unicastOf(family);
    std::vector<uint8_t> value;
    putU16(value, fam.afi);
    putU8(value, fam.safi);
    writeAttribute(attr, flag::kOptional, static_cast<uint8_t>(AttrCode::kMpUnreachNlri), value);
    putU16(out, static_cast<uint16_t>(attr.size()));
    putBytes(out, attr);
  }
  finishMessage(out, length_at);
}

}  // namespace coral::bgp
