// A whole BGP message: the five message types as one variant, the top-level decoder
// (header, then the body decoder of the type) and the encoders of the small messages
// (NOTIFICATION with the RFC 9003 shutdown communication, KEEPALIVE, ROUTE-REFRESH).
// OPEN and UPDATE have their own files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bgp/wire/context.h"
#include "bgp/wire/errors.h"
#include "bgp/wire/header.h"
#include "bgp/wire/open.h"
#include "bgp/wire/update.h"

namespace coral::bgp {

struct Notification {
  uint8_t code = 0;
  uint8_t subcode = 0;
  std::vector<uint8_t> data;

  // Cease / Administrative Shutdown or Reset with a shutdown communication (RFC 9003):
  // one length byte, then up to 255 bytes of UTF-8. Longer text is cut at a character.
  static Notification shutdown(uint8_t cease_subcode, std::string_view message);
  // The communication, when this is such a Cease with a well-formed one.
  std::optional<std::string> shutdownCommunication() const;
  static Notification fromError(const WireError& error);
  friend bool operator==(const Notification&, const Notification&) = default;
};

struct Keepalive {
  friend bool operator==(const Keepalive&, const Keepalive&) = default;
};

// RFC 2918; subtype per RFC 7313 (0 normal request, 1 BoRR, 2 EoRR).
struct RouteRefresh {
  uint16_t afi = 0;
  uint8_t subtype = 0;
  uint8_t safi = 0;
  static constexpr uint8_t kRequest = 0;
  static constexpr uint8_t kBeginOfRefresh = 1;
  static constexpr uint8_t kEndOfRefresh = 2;
  friend bool operator==(const RouteRefresh&, const RouteRefresh&) = default;
};

using Message = std::variant<Open, Update, Notification, Keepalive, RouteRefresh>;

struct MessageDecodeResult {
  std::optional<Message> message;  // absent when nothing usable could be read
  WireErrors errors;
  ErrorAction action() const { return strongestAction(errors); }
};

// Decodes one whole message (header included; see nextMessageSize to cut a stream).
// Never throws and never reads outside `message`.
MessageDecodeResult decodeMessage(std::span<const uint8_t> message, const SessionContext& ctx);

void encodeKeepalive(std::vector<uint8_t>& out);
void encodeNotification(const Notification& notification, std::vector<uint8_t>& out);
void encodeRouteRefresh(const RouteRefresh& refresh, std::vector<uint8_t>& out);

std::string_view messageTypeName(MessageType type);

}  // namespace coral::bgp
