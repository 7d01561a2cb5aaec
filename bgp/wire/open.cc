// OPEN decode, encode and validation.
#include "bgp/wire/open.h"

#include <algorithm>

#include <fmt/format.h>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"
#include "bgp/wire/header.h"
#include "common/ip.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

WireError openError(uint8_t subcode, std::vector<uint8_t> data, std::string reason) {
  return {ErrorAction::kSessionReset, err::kOpenMessage, subcode, std::move(data),
          std::move(reason)};
}

}  // namespace

Open Open::make(uint32_t asn, uint16_t hold_time_s, uint32_t bgp_id, Capabilities caps) {
  Open o;
  o.my_as = asn > 0xffff ? kAsTrans : static_cast<uint16_t>(asn);
  o.hold_time_s = hold_time_s;
  o.bgp_id = bgp_id;
  o.capabilities = std::move(caps);
  o.capabilities.four_octet_as = asn;
  return o;
}

OpenDecodeResult decodeOpen(std::span<const uint8_t> body) {
  OpenDecodeResult result;
  ByteReader r(body);
  Open open;
  auto version = r.u8();
  auto my_as = r.u16();
  auto hold = r.u16();
  auto id = r.u32();
  auto opt_len = r.u8();
  if (!opt_len) {
    result.errors.push_back(openError(0, {}, "OPEN body shorter than 10 bytes"));
    return result;
  }
  open.version = *version;
  open.my_as = *my_as;
  open.hold_time_s = *hold;
  open.bgp_id = *id;
  // RFC 9072: length 255 followed by type 255 announces 2-octet lengths.
  size_t params_len = *opt_len;
  const bool extended = *opt_len == 255 && !r.empty() && r.rest()[0] == 255;
  if (extended) {
    r.u8();
    auto ext_len = r.u16();
    params_len = ext_len ? *ext_len : body.size();  // a missing length fails just below
  }
  auto params = r.take(params_len);
  if (!params || !r.empty()) {
    result.errors.push_back(
        openError(0, {},
                  fmt::format("optional parameters length {} does not match the {} bytes left",
                              params_len, body.size() - 10)));
    return result;
  }
  ByteReader pr(*params);
  while (!pr.empty()) {
    auto type = pr.u8();
    std::optional<uint16_t> len;
    if (extended) {
      len = pr.u16();
    } else if (auto len8 = pr.u8()) {
      len = *len8;
    }
    auto value = len ? pr.take(*len) : std::nullopt;
    if (!value) {
      result.errors.push_back(openError(0, {}, "optional parameter overruns the parameters"));
      return result;
    }
    if (*type != kParamCapabilities) {
      result.errors.push_back(openError(err::kUnsupportedOptionalParameter, {},
                                        fmt::format("optional parameter type {}", *type)));
      return result;
    }
    if (auto s = decodeCapabilities(*value, open.capabilities); !s.ok()) {
      result.errors.push_back(openError(0, {}, std::string(errorMessage(s))));
      return result;
    }
  }
  result.open = std::move(open);
  return result;
}

void encodeOpen(const Open& open, std::vector<uint8_t>& out) {
  const size_t length_at = beginMessage(MessageType::kOpen, out);
  putU8(out, open.version);
  putU16(out, open.my_as);
  putU16(out, open.hold_time_s);
  putU32(out, open.bgp_id);
  std::vector<uint8_t> caps;
  encodeCapabilities(open.capabilities, caps);
  if (caps.empty()) {
    putU8(out, 0);
  } else {
    // One Capabilities parameter holds up to 255 bytes; split longer lists over several.
    std::vector<uint8_t> params;
    for (size_t i = 0; i < caps.size();) {
      size_t chunk = 0;
      while (i + chunk < caps.size() && chunk + 2 + caps[i + chunk + 1] <= 255) {
        chunk += 2 + caps[i + chunk + 1];
      }
      if (chunk == 0) chunk = std::min<size_t>(255, caps.size() - i);  // oversized: never loop
      putU8(params, kParamCapabilities);
      putU8(params, static_cast<uint8_t>(chunk));
      putBytes(params, std::span(caps).subspan(i, chunk));
      i += chunk;
    }
    if (params.size() <= 255) {
      putU8(out, static_cast<uint8_t>(params.size()));
      putBytes(out, params);
    } else {
      // RFC 9072 extended optional parameters: one parameter with a 2-octet length.
      putU8(out, 255);
      putU8(out, 255);
      putU16(out, static_cast<uint16_t>(caps.size() + 3));
      putU8(out, kParamCapabilities);
      putU16(out, static_cast<uint16_t>(caps.size()));
      putBytes(out, caps);
    }
  }
  finishMessage(out, length_at);
}

WireErrors validateOpen(const Open& open, const OpenExpectations& expect) {
  WireErrors errors;
  if (open.version != kBgpVersion) {
    // Data: the largest version we support, as 2 octets (RFC 4271 6.2).
    errors.push_back(openError(err::kUnsupportedVersion, {0, kBgpVersion},
                               fmt::format("BGP version {} is not 4", open.version)));
  }
  const uint32_t asn = open.asn();
  if (asn == 0 ||
      (open.capabilities.four_octet_as && *open.capabilities.four_octet_as == kAsTrans)) {
    errors.push_back(openError(err::kBadPeerAs, {}, fmt::format("peer AS {} is invalid", asn)));
  } else if (open.capabilities.four_octet_as && asn <= 0xffff && open.my_as != asn) {
    errors.push_back(openError(
        err::kBadPeerAs, {},
        fmt::format("My AS {} disagrees with the 4-octet AS capability {}", open.my_as, asn)));
  } else if (expect.peer_as != 0 && asn != expect.peer_as) {
    errors.push_back(
        openError(err::kBadPeerAs, {},
                  fmt::format("peer AS {} is not the configured {}", asn, expect.peer_as)));
  }
  if (open.hold_time_s == 1 || open.hold_time_s == 2) {
    errors.push_back(
        openError(err::kUnacceptableHoldTime, {},
                  fmt::format("hold time {}s is neither 0 nor >= 3", open.hold_time_s)));
  }
  if (open.bgp_id == 0) {
    errors.push_back(openError(err::kBadBgpIdentifier, {}, "BGP identifier 0.0.0.0"));
  } else if (!expect.is_ebgp && open.bgp_id == expect.local_bgp_id) {
    errors.push_back(openError(err::kBadBgpIdentifier, {},
                               fmt::format("internal peer uses our BGP identifier {}",
                                           common::IpAddress::v4(open.bgp_id).toString())));
  }
  return errors;
}

}  // namespace coral::bgp
