// The path attribute table: one row per attribute type (code, name, expected flags,
// RFC 7606 action when malformed, decode, encode, format), in the manner of BIRD's
// attrs.c. Adding an attribute is adding a row. Also the framing of the attribute block
// into raw attributes, and the whole-block decode and encode built on the rows.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/attributes.h"
#include "bgp/wire/constants.h"
#include "bgp/wire/context.h"
#include "bgp/wire/errors.h"
#include "bgp/wire/nlri.h"

namespace coral::bgp {

// One attribute as framed on the wire; spans point into the message.
struct RawAttribute {
  uint8_t flags = 0;
  uint8_t code = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;  // flags, code, length and value: NOTIFICATION data
};

struct MpNlri {
  AfiSafi afi_safi;
  std::vector<common::Prefix> prefixes;
};

// What the rows decoded, before the cross-attribute checks of validate.h.
struct DecodedAttributes {
  PathAttributes attrs;
  std::optional<AsPath> as4_path;            // only kept from 2-octet sessions
  std::optional<Aggregator> as4_aggregator;  // idem
  std::optional<MpNlri> mp_reach;
  std::optional<MpNlri> mp_unreach;
  std::bitset<256> seen;  // codes seen on the wire (first occurrence decides)
};

// What the encoder needs beyond the attributes: the MP_REACH / MP_UNREACH contents.
struct MpEncode {
  std::optional<AfiSafi> reach;
  std::span<const common::Prefix> reach_prefixes;
  std::optional<AfiSafi> unreach;
  std::span<const common::Prefix> unreach_prefixes;
};

struct EncodeInput {
  const PathAttributes& attrs;
  const SessionContext& ctx;
  const MpEncode& mp;
};

// A row's verdict on a malformed value: the UPDATE error subcode, why, and the action
// when it differs from the row's default.
struct Malformed {
  uint8_t subcode = err::kAttributeLength;
  std::string reason;
  std::optional<ErrorAction> action;
  AfiSafi afi_safi{};  // the family an MP attribute error is about
};

struct AttributeRow {
  AttrCode code;
  std::string_view name;
  uint8_t flags;  // expected Optional and Transitive bits
  ErrorAction on_malformed;
  std::optional<Malformed> (*decode)(std::span<const uint8_t> value, const SessionContext& ctx,
                                     DecodedAttributes& out);
  // Appends the value and returns true when the attribute is to be sent.
  bool (*encode)(const EncodeInput& in, std::vector<uint8_t>& value);
  // Human-readable value, nullopt when absent.
  std::optional<std::string> (*format)(const PathAttributes& attrs);
};

std::span<const AttributeRow> attributeTable();
const AttributeRow* findAttributeRow(uint8_t code);

// Splits the path attribute block into attributes. An attribute overrunning the block or
// a leftover shorter than an attribute header is "treat-as-withdraw" (RFC 7606 4); the
// attributes before it are returned.
std::vector<RawAttribute> splitAttributes(std::span<const uint8_t> block, WireErrors& errors);

// Runs every raw attribute through its row: flags, duplicates, unknown attributes and the
// row's own checks. Errors are appended; malformed attributes are left out of the result.
DecodedAttributes decodeAttributes(std::span<const RawAttribute> raw, const SessionContext& ctx,
                                   WireErrors& errors);

// Appends the attributes (and MP_REACH/MP_UNREACH) in type-code order.
void encodeAttributes(const EncodeInput& in, std::vector<uint8_t>& out);

// Appends one attribute header and value, with Extended Length when the value needs it.
void writeAttribute(std::vector<uint8_t>& out, uint8_t flags, uint8_t code,
                    std::span<const uint8_t> value);

// "ORIGIN igp; AS_PATH 65001 65002; NEXT_HOP 10.0.0.1; ..."
std::string formatAttributes(const PathAttributes& attrs);

}  // namespace coral::bgp
