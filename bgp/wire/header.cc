// Message header decode and encode helpers.
#include "bgp/wire/header.h"

#include <algorithm>

#include <fmt/format.h>

#include "bgp/wire/buffer.h"

namespace coral::bgp {
namespace {

WireError headerError(uint8_t subcode, std::vector<uint8_t> data, std::string reason) {
  return {ErrorAction::kSessionReset, err::kMessageHeader, subcode, std::move(data),
          std::move(reason)};
}

// RFC 4271 6.1: the smallest (or, for KEEPALIVE, the only) legal length per type.
bool lengthFitsType(MessageType type, size_t length) {
  switch (type) {
    case MessageType::kOpen:
      return length >= kMinOpenSize;
    case MessageType::kUpdate:
      return length >= kMinUpdateSize;
    case MessageType::kNotification:
      return length >= kMinNotificationSize;
    case MessageType::kKeepalive:
      return length == kKeepaliveSize;
    case MessageType::kRouteRefresh:
      return length >= kRouteRefreshSize;
  }
  return false;
}

}  // namespace

HeaderDecodeResult decodeHeader(std::span<const uint8_t> message) {
  if (message.size() < kHeaderSize) {
    return {
        std::nullopt,
        headerError(err::kBadMessageLength, {0, static_cast<uint8_t>(message.size())},
                    fmt::format("message of {} bytes is shorter than the header", message.size()))};
  }
  if (!std::all_of(message.begin(), message.begin() + kMarkerSize,
                   [](uint8_t b) { return b == 0xff; })) {
    return {std::nullopt,
            headerError(err::kConnectionNotSynchronized, {}, "marker is not all ones")};
  }
  ByteReader r(message.subspan(kMarkerSize));
  const uint16_t length = *r.u16();
  const uint8_t type = *r.u8();
  std::vector<uint8_t> length_data = {static_cast<uint8_t>(length >> 8),
                                      static_cast<uint8_t>(length)};
  if (length < kHeaderSize || length > kMaxMessageSize) {
    return {std::nullopt,
            headerError(err::kBadMessageLength, length_data,
                        fmt::format("message length {} is outside 19..4096", length))};
  }
  if (length != message.size()) {
    return {std::nullopt, headerError(err::kBadMessageLength, length_data,
                                      fmt::format("message length field {} but {} bytes given",
                                                  length, message.size()))};
  }
  if (type < 1 || type > 5) {
    return {std::nullopt, headerError(err::kBadMessageType, {type},
                                      fmt::format("unknown message type {}", type))};
  }
  const auto mtype = static_cast<MessageType>(type);
  if (!lengthFitsType(mtype, length)) {
    return {std::nullopt,
            headerError(err::kBadMessageLength, length_data,
                        fmt::format("length {} is not valid for message type {}", length, type))};
  }
  return {Header{length, mtype}, std::nullopt};
}

size_t nextMessageSize(std::span<const uint8_t> stream) {
  if (stream.size() < kHeaderSize) return 0;
  const size_t length = (size_t{stream[16]} << 8) | stream[17];
  if (length < kHeaderSize || length > kMaxMessageSize) return kHeaderSize;
  return length;
}

size_t beginMessage(MessageType type, std::vector<uint8_t>& out) {
  out.insert(out.end(), kMarkerSize, 0xff);
  const size_t length_at = out.size();
  putU16(out, 0);
  putU8(out, static_cast<uint8_t>(type));
  return length_at;
}

void finishMessage(std::vector<uint8_t>& out, size_t length_at) {
  patchU16(out, length_at, static_cast<uint16_t>(out.size() - (length_at - kMarkerSize)));
}

}  // namespace coral::bgp
