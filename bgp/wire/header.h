// The 19-byte message header (RFC 4271 4.1): marker, length, type. Decoding checks the
// marker, the length bounds and the per-type minimum (RFC 4271 6.1); encoders reserve
// the header, append the body, then patch the length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bgp/wire/constants.h"
#include "bgp/wire/errors.h"

namespace coral::bgp {

struct Header {
  uint16_t length = 0;  // whole message, header included
  MessageType type = MessageType::kKeepalive;
};

struct HeaderDecodeResult {
  std::optional<Header> header;    // set when valid
  std::optional<WireError> error;  // set otherwise: a Message Header Error
};

// Decodes and checks the header at the start of `message`, which must hold the whole
// message: its size must equal the length field.
HeaderDecodeResult decodeHeader(std::span<const uint8_t> message);

// For a byte stream: the size of the next message, or 0 while fewer than 19 bytes are
// buffered. A length field below 19 is reported as 19 so the caller hands the broken
// message to the decoder, which rejects it; above 4096 likewise reports 19.
size_t nextMessageSize(std::span<const uint8_t> stream);

// Appends marker, a length placeholder and the type; returns where the length goes.
size_t beginMessage(MessageType type, std::vector<uint8_t>& out);
// Writes the length of the message begun at `length_at - 16`.
void finishMessage(std::vector<uint8_t>& out, size_t length_at);

}  // namespace coral::bgp
