// NLRI prefix encoding and the per-family table.
#include "bgp/wire/nlri.h"

#include <array>

#include <fmt/format.h>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"

namespace coral::bgp {

AfiSafi unicastOf(common::Family family) {
  return {family == common::Family::kV4 ? kAfiIpv4 : kAfiIpv6, kSafiUnicast};
}

std::optional<common::Family> familyOf(AfiSafi afi_safi) {
  if (afi_safi.safi != kSafiUnicast) return std::nullopt;
  if (afi_safi.afi == kAfiIpv4) return common::Family::kV4;
  if (afi_safi.afi == kAfiIpv6) return common::Family::kV6;
  return std::nullopt;
}

void encodePrefix(std::vector<uint8_t>& out, const common::Prefix& prefix) {
  const size_t n = encodedPrefixSize(prefix) - 1;
  out.push_back(static_cast<uint8_t>(prefix.length()));
  putBytes(out, prefix.address().bytes().first(n));
}

absl::StatusOr<std::vector<common::Prefix>> decodePrefixes(std::span<const uint8_t> bytes,
                                                           common::Family family) {
  const int max_len = family == common::Family::kV4 ? 32 : 128;
  std::vector<common::Prefix> out;
  ByteReader r(bytes);
  while (!r.empty()) {
    const size_t offset = r.position();
    const uint8_t len = *r.u8();
    if (len > max_len) {
      return absl::InvalidArgumentError(
          fmt::format("{} prefix at NLRI offset {} has length {} > {}", familyName(family), offset,
                      len, max_len));
    }
    const size_t n = (len + 7u) / 8u;
    auto body = r.take(n);
    if (!body) {
      return absl::InvalidArgumentError(
          fmt::format("{} prefix /{} at NLRI offset {} needs {} bytes, {} remain",
                      familyName(family), len, offset, n, r.remaining()));
    }
    std::array<uint8_t, 16> addr{};
    std::copy(body->begin(), body->end(), addr.begin());
    const common::IpAddress ip =
        family == common::Family::kV4
            ? common::IpAddress::v4((uint32_t{addr[0]} << 24) | (uint32_t{addr[1]} << 16) |
                                    (uint32_t{addr[2]} << 8) | addr[3])
            : common::IpAddress::v6(addr);
    auto prefix = common::Prefix::make(ip, len);  // clears trailing bits
    if (!prefix.ok()) return prefix.status();
    out.push_back(*prefix);
  }
  return out;
}

}  // namespace coral::bgp
