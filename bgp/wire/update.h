// UPDATE messages (RFC 4271 4.3, RFC 4760): the Update value, its decoder (framing, the
// attribute table, then validation, with RFC 7606 errors) and its encoder. IPv4 unicast
// travels in the classic fields, IPv6 unicast in MP_REACH_NLRI / MP_UNREACH_NLRI.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "bgp/wire/attributes.h"
#include "bgp/wire/context.h"
#include "bgp/wire/errors.h"
#include "common/ip.h"

namespace coral::bgp {

struct Update {
  std::vector<common::Prefix> withdrawn_v4;
  std::vector<common::Prefix> announced_v4;  // uses attributes.next_hop
  std::vector<common::Prefix> withdrawn_v6;
  std::vector<common::Prefix> announced_v6;  // uses attributes.mp_next_hop
  PathAttributes attributes;                 // meaningful when something is announced
  // Set for an End-of-RIB marker (RFC 4724 2): an empty UPDATE for IPv4, an UPDATE with
  // only an empty MP_UNREACH_NLRI for IPv6.
  std::optional<common::Family> end_of_rib;

  bool announces() const { return !announced_v4.empty() || !announced_v6.empty(); }
  friend bool operator==(const Update&, const Update&) = default;
};

struct UpdateDecodeResult {
  // The UPDATE to act on, with RFC 7606 applied: discarded attributes are gone and, on
  // treat-as-withdraw, every announced prefix has moved to the withdrawn lists. On session
  // reset it holds what could be read, for logging only.
  Update update;
  WireErrors errors;
  ErrorAction action() const { return strongestAction(errors); }
};

// Decodes an UPDATE body (the bytes after the 19-byte header).
UpdateDecodeResult decodeUpdate(std::span<const uint8_t> body, const SessionContext& ctx);

// Appends a whole UPDATE message, header included. Path attributes are sent only when
// something is announced. Fails, appending nothing, when an announced family lacks its
// next hop or the message would exceed 4096 bytes. An Update with nothing in it encodes as
// the IPv4 End-of-RIB.
absl::Status encodeUpdate(const Update& update, const SessionContext& ctx,
                          std::vector<uint8_t>& out);

// Appends the End-of-RIB marker of a family.
void encodeEndOfRib(common::Family family, std::vector<uint8_t>& out);

}  // namespace coral::bgp
