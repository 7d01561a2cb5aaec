// BGP capabilities carried in OPEN (RFC 5492): multiprotocol (RFC 4760), route refresh
// (RFC 2918), extended next hop (RFC 8950), graceful restart (RFC 4724), 4-octet AS
// (RFC 6793), ADD-PATH (RFC 7911), enhanced route refresh (RFC 7313). Anything else is
// kept raw so it can be shown and ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/wire/nlri.h"

namespace coral::bgp {

struct GracefulRestartFamily {
  AfiSafi afi_safi;
  bool forwarding_preserved = false;  // F bit
  friend bool operator==(const GracefulRestartFamily&, const GracefulRestartFamily&) = default;
};

struct GracefulRestart {
  bool restarting = false;      // R bit
  bool notification = false;    // N bit (RFC 8538)
  uint16_t restart_time_s = 0;  // 12 bits
  std::vector<GracefulRestartFamily> families;
  friend bool operator==(const GracefulRestart&, const GracefulRestart&) = default;
};

struct AddPathFamily {
  AfiSafi afi_safi;
  uint8_t send_receive = 0;  // 1 receive, 2 send, 3 both
  friend bool operator==(const AddPathFamily&, const AddPathFamily&) = default;
};

struct ExtendedNextHopFamily {
  uint16_t nlri_afi = 0;
  uint16_t nlri_safi = 0;
  uint16_t next_hop_afi = 0;
  friend bool operator==(const ExtendedNextHopFamily&, const ExtendedNextHopFamily&) = default;
};

struct RawCapability {
  uint8_t code = 0;
  std::vector<uint8_t> value;
  friend bool operator==(const RawCapability&, const RawCapability&) = default;
};

struct Capabilities {
  std::vector<AfiSafi> multiprotocol;
  std::optional<uint32_t> four_octet_as;
  bool route_refresh = false;
  bool enhanced_route_refresh = false;
  std::optional<GracefulRestart> graceful_restart;
  std::vector<AddPathFamily> add_path;                   // parsed, not used
  std::vector<ExtendedNextHopFamily> extended_next_hop;  // parsed, not used
  std::vector<RawCapability> unknown;

  bool supports(AfiSafi afi_safi) const;
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

// Decodes the value of one Capabilities optional parameter into `caps` (several such
// parameters may appear). Errors name the capability; they map to OPEN error 2/0.
absl::Status decodeCapabilities(std::span<const uint8_t> value, Capabilities& caps);

// Appends the capability triples (code, length, value), without the parameter header.
void encodeCapabilities(const Capabilities& caps, std::vector<uint8_t>& out);

std::string formatCapabilities(const Capabilities& caps);

}  // namespace coral::bgp
