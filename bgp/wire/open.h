// OPEN messages (RFC 4271 4.2, RFC 5492, RFC 6793): the Open value, its decoder and
// encoder, and validation against what the session expects (a separate step).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bgp/wire/capabilities.h"
#include "bgp/wire/errors.h"

namespace coral::bgp {

struct Open {
  uint8_t version = 4;
  uint16_t my_as = 0;  // the 2-octet field: AS_TRANS for a 4-octet AS
  uint16_t hold_time_s = 90;
  uint32_t bgp_id = 0;
  Capabilities capabilities;

  // The speaker's AS: the 4-octet capability when present, else the 2-octet field.
  uint32_t asn() const { return capabilities.four_octet_as.value_or(my_as); }
  // Builds an OPEN for `asn`, filling my_as (AS_TRANS above 65535) and the 4-octet
  // capability.
  static Open make(uint32_t asn, uint16_t hold_time_s, uint32_t bgp_id, Capabilities caps);
  friend bool operator==(const Open&, const Open&) = default;
};

// Decodes an OPEN body (after the header). Structural errors only; see validateOpen.
struct OpenDecodeResult {
  std::optional<Open> open;
  WireErrors errors;
};
OpenDecodeResult decodeOpen(std::span<const uint8_t> body);

// Appends a whole OPEN message.
void encodeOpen(const Open& open, std::vector<uint8_t>& out);

struct OpenExpectations {
  uint32_t peer_as = 0;       // 0 accepts any AS
  uint32_t local_bgp_id = 0;  // an iBGP peer must not use ours (RFC 6286)
  bool is_ebgp = true;
};

// RFC 4271 6.2 / RFC 6793 / RFC 6286 checks: version, AS, hold time, BGP identifier.
WireErrors validateOpen(const Open& open, const OpenExpectations& expect);

}  // namespace coral::bgp
