// Update packing: one attribute set, many prefixes of one family, as few UPDATE
// messages as possible, each at most 4096 bytes (the Adj-RIB-Out's last step).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/wire/attributes.h"
#include "bgp/wire/context.h"
#include "common/ip.h"

namespace coral::bgp {

using EncodedMessages = std::vector<std::vector<uint8_t>>;

// Announcements of `prefixes` (all of one family) with `attrs`; IPv4 in the NLRI field
// (attrs.next_hop), IPv6 in MP_REACH_NLRI (attrs.mp_next_hop). Fails when a prefix is of
// the other family, the next hop is missing, or the attributes alone leave no room.
absl::StatusOr<EncodedMessages> packAnnouncements(const PathAttributes& attrs,
                                                  std::span<const common::Prefix> prefixes,
                                                  const SessionContext& ctx);

// Withdrawals of `prefixes` (all of one family).
absl::StatusOr<EncodedMessages> packWithdrawals(std::span<const common::Prefix> prefixes,
                                                const SessionContext& ctx);

}  // namespace coral::bgp
