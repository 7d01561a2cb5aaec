// Capability codec.
#include "bgp/wire/capabilities.h"

#include <algorithm>

#include <fmt/format.h>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

absl::Status bad(std::string_view name, size_t len, std::string_view want) {
  return absl::InvalidArgumentError(
      fmt::format("{} capability has length {}, expected {}", name, len, want));
}

absl::Status decodeOne(uint8_t code, std::span<const uint8_t> v, Capabilities& caps) {
  ByteReader r(v);
  switch (static_cast<CapabilityCode>(code)) {
    case CapabilityCode::kMultiprotocol: {
      if (v.size() != 4) return bad("multiprotocol", v.size(), "4");
      const uint16_t afi = *r.u16();
      r.u8();  // reserved
      caps.multiprotocol.push_back({afi, *r.u8()});
      return absl::OkStatus();
    }
    case CapabilityCode::kRouteRefresh:
      if (!v.empty()) return bad("route refresh", v.size(), "0");
      caps.route_refresh = true;
      return absl::OkStatus();
    case CapabilityCode::kEnhancedRouteRefresh:
      if (!v.empty()) return bad("enhanced route refresh", v.size(), "0");
      caps.enhanced_route_refresh = true;
      return absl::OkStatus();
    case CapabilityCode::kFourOctetAs:
      if (v.size() != 4) return bad("4-octet AS", v.size(), "4");
      caps.four_octet_as = *r.u32();
      return absl::OkStatus();
    case CapabilityCode::kGracefulRestart: {
      if (v.size() < 2 || (v.size() - 2) % 4 != 0) {
        return bad("graceful restart", v.size(), "2 + 4n");
      }
      GracefulRestart gr;
      const uint16_t head = *r.u16();
      gr.restarting = head & 0x8000;
      gr.notification = head & 0x4000;
      gr.restart_time_s = head & 0x0fff;
      while (!r.empty()) {
        const uint16_t afi = *r.u16();
        const uint8_t safi = *r.u8();
        const uint8_t flags = *r.u8();
        gr.families.push_back({{afi, safi}, (flags & 0x80) != 0});
      }
      caps.graceful_restart = std::move(gr);
      return absl::OkStatus();
    }
    case CapabilityCode::kAddPath:
      if (v.empty() || v.size() % 4 != 0) return bad("ADD-PATH", v.size(), "a multiple of 4");
      while (!r.empty()) {
        const uint16_t afi = *r.u16();
        const uint8_t safi = *r.u8();
        caps.add_path.push_back({{afi, safi}, *r.u8()});
      }
      return absl::OkStatus();
    case CapabilityCode::kExtendedNextHop:
      if (v.empty() || v.size() % 6 != 0) {
        return bad("extended next hop", v.size(), "a multiple of 6");
      }
      while (!r.empty()) {
        const uint16_t afi = *r.u16();
        const uint16_t safi = *r.u16();
        caps.extended_next_hop.push_back({afi, safi, *r.u16()});
      }
      return absl::OkStatus();
  }
  caps.unknown.push_back({code, {v.begin(), v.end()}});
  return absl::OkStatus();
}

void putCapability(std::vector<uint8_t>& out, CapabilityCode code, std::span<const uint8_t> value) {
  putU8(out, static_cast<uint8_t>(code));
  putU8(out, static_cast<uint8_t>(value.size()));
  putBytes(out, value);
}

}  // namespace

bool Capabilities::supports(AfiSafi afi_safi) const {
  return std::find(multiprotocol.begin(), multiprotocol.end(), afi_safi) != multiprotocol.end();
}

absl::Status decodeCapabilities(std::span<const uint8_t> value, Capabilities& caps) {
  if (value.empty()) return absl::InvalidArgumentError("Capabilities parameter is empty");
  ByteReader r(value);
  while (!r.empty()) {
    const size_t offset = r.position();
    auto code = r.u8();
    auto len = r.u8();
    if (!len) {
      return absl::InvalidArgumentError(
          fmt::format("capability header at offset {} is truncated", offset));
    }
    auto body = r.take(*len);
    if (!body) {
      return absl::InvalidArgumentError(
          fmt::format("capability {} at offset {} has length {} but {} bytes remain", *code, offset,
                      *len, r.remaining()));
    }
    if (auto s = decodeOne(*code, *body, caps); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void encodeCapabilities(const Capabilities& caps, std::vector<uint8_t>& out) {
  std::vector<uint8_t> v;
  for (const AfiSafi& f : caps.multiprotocol) {
    v.clear();
    putU16(v, f.afi);
    putU8(v, 0);
    putU8(v, f.safi);
    putCapability(out, CapabilityCode::kMultiprotocol, v);
  }
  if (caps.route_refresh) putCapability(out, CapabilityCode::kRouteRefresh, {});
  if (caps.extended_next_hop.size() > 0) {
    v.clear();
    for (const auto& f : caps.extended_next_hop) {
      putU16(v, f.nlri_afi);
      putU16(v, f.nlri_safi);
      putU16(v, f.next_hop_afi);
    }
    putCapability(out, CapabilityCode::kExtendedNextHop, v);
  }
  if (caps.graceful_restart) {
    const GracefulRestart& gr = *caps.graceful_restart;
    v.clear();
    putU16(v, static_cast<uint16_t>((gr.restarting ? 0x8000 : 0) | (gr.notification ? 0x4000 : 0) |
                                    (gr.restart_time_s & 0x0fff)));
    for (const auto& f : gr.families) {
      putU16(v, f.afi_safi.afi);
      putU8(v, f.afi_safi.safi);
      putU8(v, f.forwarding_preserved ? 0x80 : 0);
    }
    putCapability(out, CapabilityCode::kGracefulRestart, v);
  }
  if (caps.four_octet_as) {
    v.clear();
    putU32(v, *caps.four_octet_as);
    putCapability(out, CapabilityCode::kFourOctetAs, v);
  }
  if (!caps.add_path.empty()) {
    v.clear();
    for (const auto& f : caps.add_path) {
      putU16(v, f.afi_safi.afi);
      putU8(v, f.afi_safi.safi);
      putU8(v, f.send_receive);
    }
    putCapability(out, CapabilityCode::kAddPath, v);
  }
  if (caps.enhanced_route_refresh) putCapability(out, CapabilityCode::kEnhancedRouteRefresh, {});
  for (const auto& u : caps.unknown) {
    putCapability(out, static_cast<CapabilityCode>(u.code), u.value);
  }
}

std::string formatCapabilities(const Capabilities& caps) {
  std::vector<std::string> parts;
  for (const AfiSafi& f : caps.multiprotocol)
    parts.push_back(fmt::format("mp {}/{}", f.afi, f.safi));
  if (caps.route_refresh) parts.push_back("route-refresh");
  if (caps.enhanced_route_refresh) parts.push_back("enhanced-route-refresh");
  if (caps.four_octet_as) parts.push_back(fmt::format("as4 {}", *caps.four_octet_as));
  if (caps.graceful_restart) {
    parts.push_back(fmt::format("graceful-restart {}s{}", caps.graceful_restart->restart_time_s,
                                caps.graceful_restart->restarting ? " restarting" : ""));
  }
  if (!caps.add_path.empty()) parts.push_back("add-path");
  if (!caps.extended_next_hop.empty()) parts.push_back("extended-next-hop");
  for (const auto& u : caps.unknown) parts.push_back(fmt::format("capability {}", u.code));
  return join(parts, ", ");
}

}  // namespace coral::bgp
