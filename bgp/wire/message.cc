// Top-level message decode and the NOTIFICATION / KEEPALIVE / ROUTE-REFRESH codecs.
#include "bgp/wire/message.h"

#include <fmt/format.h>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"

namespace coral::bgp {
namespace {

// Length of the UTF-8 prefix of `s` no longer than `max` that ends on a character.
size_t utf8Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t n = max;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xc0) == 0x80) --n;
  return n;
}

bool validUtf8(std::span<const uint8_t> s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = s[i];
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > s.size() - i - 1) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

bool isShutdownCease(uint8_t code, uint8_t subcode) {
  return code == err::kCease &&
         (subcode == err::kCeaseAdminShutdown || subcode == err::kCeaseAdminReset);
}

MessageDecodeResult decodeNotification(std::span<const uint8_t> body) {
  MessageDecodeResult result;
  ByteReader r(body);
  Notification n;
  n.code = *r.u8();  // the header check guarantees 2 bytes
  n.subcode = *r.u8();
  auto rest = r.rest();
  n.data.assign(rest.begin(), rest.end());
  result.message = std::move(n);
  return result;
}

MessageDecodeResult decodeRouteRefresh(std::span<const uint8_t> message,
                                       std::span<const uint8_t> body) {
  MessageDecodeResult result;
  ByteReader r(body);
  RouteRefresh rr;
  rr.afi = *r.u16();  // the header check guarantees 4 bytes
  rr.subtype = *r.u8();
  rr.safi = *r.u8();
  // RFC 7313 5: BoRR/EoRR must be exactly 4 bytes; a request may carry ORFs (ignored).
  if ((rr.subtype == RouteRefresh::kBeginOfRefresh || rr.subtype == RouteRefresh::kEndOfRefresh) &&
      body.size() != 4) {
    result.errors.push_back({ErrorAction::kSessionReset,
                             err::kRouteRefreshMessage,
                             err::kInvalidRouteRefreshLength,
                             {message.begin(), message.end()},
                             fmt::format("ROUTE-REFRESH subtype {} with {} body bytes, expected 4",
                                         rr.subtype, body.size())});
    return result;
  }
  result.message = rr;
  return result;
}

}  // namespace

Notification Notification::shutdown(uint8_t cease_subcode, std::string_view message) {
  Notification n{err::kCease, cease_subcode, {}};
  const size_t len = utf8Cut(message, 255);
  n.data.reserve(len + 1);
  n.data.push_back(static_cast<uint8_t>(len));
  for (char c : message.substr(0, len)) n.data.push_back(static_cast<uint8_t>(c));
  return n;
}

std::optional<std::string> Notification::shutdownCommunication() const {
  if (!isShutdownCease(code, subcode) || data.empty()) return std::nullopt;
  const size_t len = data[0];
  if (len + 1 > data.size()) return std::nullopt;
  const std::span<const uint8_t> text(data.data() + 1, len);
  if (!validUtf8(text)) return std::nullopt;
  return std::string(text.begin(), text.end());
}

Notification Notification::fromError(const WireError& error) {
  return {error.code, error.subcode, error.data};
}

MessageDecodeResult decodeMessage(std::span<const uint8_t> message, const SessionContext& ctx) {
  // Each branch builds and returns its own result: one named result moved out of several
  // branches trips GCC 12's -Wmaybe-uninitialized at -O3 (a false positive in the
  // optional<variant> move).
  HeaderDecodeResult header = decodeHeader(message);
  if (!header.header) {
    MessageDecodeResult failed;
    failed.errors.push_back(*std::move(header.error));
    return failed;
  }
  const auto body = message.subspan(kHeaderSize);
  switch (header.header->type) {
    case MessageType::kOpen: {
      OpenDecodeResult open = decodeOpen(body);
      MessageDecodeResult out;
      if (open.open) out.message.emplace(std::in_place_type<Open>, *std::move(open.open));
      out.errors = std::move(open.errors);
      return out;
    }
    case MessageType::kUpdate: {
      UpdateDecodeResult update = decodeUpdate(body, ctx);
      MessageDecodeResult out;
      out.message.emplace(std::in_place_type<Update>, std::move(update.update));
      out.errors = std::move(update.errors);
      return out;
    }
    case MessageType::kNotification:
      return decodeNotification(body);
    case MessageType::kKeepalive: {
      MessageDecodeResult out;
      out.message.emplace(std::in_place_type<Keepalive>);
      return out;
    }
    case MessageType::kRouteRefresh:
      return decodeRouteRefresh(message, body);
  }
  return {};
}

void encodeKeepalive(std::vector<uint8_t>& out) {
  const size_t at = beginMessage(MessageType::kKeepalive, out);
  finishMessage(out, at);
}

void encodeNotification(const Notification& n, std::vector<uint8_t>& out) {
  const size_t at = beginMessage(MessageType::kNotification, out);
  putU8(out, n.code);
  putU8(out, n.subcode);
  // The data is cut so the message stays within 4096 bytes.
  const size_t room = kMaxMessageSize - kMinNotificationSize;
  putBytes(out, std::span(n.data).first(std::min(room, n.data.size())));
  finishMessage(out, at);
}

void encodeRouteRefresh(const RouteRefresh& rr, std::vector<uint8_t>& out) {
  const size_t at = beginMessage(MessageType::kRouteRefresh, out);
  putU16(out, rr.afi);
  putU8(out, rr.subtype);
  putU8(out, rr.safi);
  finishMessage(out, at);
}

std::string_view messageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kOpen:
      return "OPEN";
    case MessageType::kUpdate:
      return "UPDATE";
    case MessageType::kNotification:
      return "NOTIFICATION";
    case MessageType::kKeepalive:
      return "KEEPALIVE";
    case MessageType::kRouteRefresh:
      return "ROUTE-REFRESH";
  }
  return "UNKNOWN";
}

}  // namespace coral::bgp
