// NLRI prefix encoding (RFC 4271 4.3, RFC 4760 5): one length byte in bits, then the
// fewest bytes that hold that many bits. The row per address family (AFI/SAFI, address
// size) lives here too.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"

namespace coral::bgp {

// AFI/SAFI of a unicast family.
struct AfiSafi {
  uint16_t afi = 0;
  uint8_t safi = 0;
  friend bool operator==(const AfiSafi&, const AfiSafi&) = default;
  friend auto operator<=>(const AfiSafi&, const AfiSafi&) = default;
};

AfiSafi unicastOf(common::Family family);
// The family of a supported AFI/SAFI (IPv4 or IPv6 unicast), else nullopt.
std::optional<common::Family> familyOf(AfiSafi afi_safi);

// Bytes a prefix takes on the wire: 1 + ceil(length / 8).
inline size_t encodedPrefixSize(const common::Prefix& prefix) {
  return 1 + (static_cast<size_t>(prefix.length()) + 7) / 8;
}

void encodePrefix(std::vector<uint8_t>& out, const common::Prefix& prefix);

// Decodes a run of prefixes filling `bytes` exactly. Bits past the prefix length are
// cleared (RFC 4271 says they are irrelevant). Errors: a length above 32/128, or a prefix
// running past the end.
absl::StatusOr<std::vector<common::Prefix>> decodePrefixes(std::span<const uint8_t> bytes,
                                                           common::Family family);

}  // namespace coral::bgp
