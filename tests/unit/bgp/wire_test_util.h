// Helpers for the bgp/wire tests: hex byte vectors and message framing.
#pragma once

#include <cctype>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"
#include "common/ip.h"

namespace coral::bgp::testing {

// "ff 00 0a" -> {0xff, 0x00, 0x0a}; spaces, newlines and '|' are ignored.
inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
    const int v =
        std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Marker, length and type in front of `body`.
inline std::vector<uint8_t> frame(MessageType type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(16, 0xff);
  putU16(out, static_cast<uint16_t>(19 + body.size()));
  putU8(out, static_cast<uint8_t>(type));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// An UPDATE body from its three parts.
inline std::vector<uint8_t> updateBody(const std::vector<uint8_t>& withdrawn,
                                       const std::vector<uint8_t>& attrs,
                                       const std::vector<uint8_t>& nlri) {
  std::vector<uint8_t> out;
  // Reserved up front: GCC 12 at -O3 flags the growth of a 2-byte vector in insert with a
  // false -Warray-bounds.
  out.reserve(4 + withdrawn.size() + attrs.size() + nlri.size());
  putU16(out, static_cast<uint16_t>(withdrawn.size()));
  out.insert(out.end(), withdrawn.begin(), withdrawn.end());
  putU16(out, static_cast<uint16_t>(attrs.size()));
  out.insert(out.end(), attrs.begin(), attrs.end());
  out.insert(out.end(), nlri.begin(), nlri.end());
  return out;
}

inline common::Prefix P(std::string_view text) { return *common::Prefix::parse(text); }
inline common::IpAddress A(std::string_view text) { return *common::IpAddress::parse(text); }

}  // namespace coral::bgp::testing
