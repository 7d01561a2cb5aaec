// The attribute block: framing into raw attributes, the decode loop over the table
// (flags, duplicates, unknown attributes), and encoding in type-code order.
#include <algorithm>

#include <fmt/format.h>

#include "bgp/wire/attribute_table.h"
#include "bgp/wire/buffer.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

WireError attributeError(ErrorAction action, uint8_t subcode, const RawAttribute& raw,
                         std::string reason) {
  WireError e{action, err::kUpdateMessage, subcode, {}, std::move(reason)};
  // RFC 4271 6.3: the data is the erroneous attribute, except for a malformed AS_PATH.
  if (subcode != err::kMalformedAsPath && subcode != err::kMalformedAttributeList) {
    e.data.assign(raw.whole.begin(), raw.whole.end());
  }
  return e;
}

}  // namespace

std::vector<RawAttribute> splitAttributes(std::span<const uint8_t> block, WireErrors& errors) {
  std::vector<RawAttribute> out;
  ByteReader r(block);
  while (!r.empty()) {
    const size_t start = r.position();
    auto flags = r.u8();
    auto code = r.u8();
    std::optional<uint16_t> len;
    if (flags && code) {
      if (*flags & flag::kExtendedLength) {
        len = r.u16();
      } else if (auto l8 = r.u8()) {
        len = *l8;
      }
    }
    if (!len) {
      errors.push_back({ErrorAction::kTreatAsWithdraw,
                        err::kUpdateMessage,
                        err::kMalformedAttributeList,
                        {},
                        fmt::format("{} bytes left at attribute offset {} are too few for an "
                                    "attribute header",
                                    block.size() - start, start)});
      break;
    }
    auto value = r.take(*len);
    if (!value) {
      errors.push_back({ErrorAction::kTreatAsWithdraw,
                        err::kUpdateMessage,
                        err::kAttributeLength,
                        {},
                        fmt::format("attribute {} at offset {} has length {} but only {} bytes "
                                    "remain in the attribute block",
                                    *code, start, *len, r.remaining())});
      break;
    }
    out.push_back({*flags, *code, *value, block.subspan(start, r.position() - start)});
  }
  return out;
}

DecodedAttributes decodeAttributes(std::span<const RawAttribute> raw, const SessionContext& ctx,
                                   WireErrors& errors) {
  DecodedAttributes out;
  for (const RawAttribute& a : raw) {
    const AttributeRow* row = findAttributeRow(a.code);
    const std::string name = row ? std::string(row->name) : fmt::format("attribute {}", a.code);
    if (out.seen.test(a.code)) {
      // RFC 7606 3(g): repeated MP_REACH/MP_UNREACH resets, others keep the first.
      const bool mp = a.code == static_cast<uint8_t>(AttrCode::kMpReachNlri) ||
                      a.code == static_cast<uint8_t>(AttrCode::kMpUnreachNlri);
      errors.push_back(attributeError(
          mp ? ErrorAction::kSessionReset : ErrorAction::kAttributeDiscard,
          err::kMalformedAttributeList, a, fmt::format("{} appears more than once", name)));
      continue;
    }
    out.seen.set(a.code);
    if (row == nullptr) {
      if (!(a.flags & flag::kOptional)) {
        errors.push_back(attributeError(ErrorAction::kSessionReset, err::kUnrecognizedWellKnown, a,
                                        fmt::format("unrecognized well-known {}", name)));
      } else if (a.flags & flag::kTransitive) {
        // Kept as it will be passed on: Partial set (RFC 4271 5), no Extended Length.
        out.attrs.unknown.push_back(
            {static_cast<uint8_t>((a.flags | flag::kPartial) & ~flag::kExtendedLength),
             a.code,
             {a.value.begin(), a.value.end()}});
      }  // unknown optional non-transitive: quietly dropped (RFC 4271 5)
      continue;
    }
    constexpr uint8_t kOt = flag::kOptional | flag::kTransitive;
    if ((a.flags & kOt) != row->flags) {
      errors.push_back(attributeError(row->on_malformed, err::kAttributeFlags, a,
                                      fmt::format("{} flags 0x{:02x}, expected optional/transitive "
                                                  "bits 0x{:02x}",
                                                  name, a.flags, row->flags)));
      continue;
    }
    if (auto bad = row->decode(a.value, ctx, out)) {
      WireError e = attributeError(bad->action.value_or(row->on_malformed), bad->subcode, a,
                                   fmt::format("{}: {}", name, bad->reason));
      e.afi = bad->afi_safi.afi;
      e.safi = bad->afi_safi.safi;
      errors.push_back(std::move(e));
    }
  }
  std::sort(out.attrs.unknown.begin(), out.attrs.unknown.end(),
            [](const auto& x, const auto& y) { return x.code < y.code; });
  return out;
}

void writeAttribute(std::vector<uint8_t>& out, uint8_t flags, uint8_t code,
                    std::span<const uint8_t> value) {
  const bool extended = value.size() > 255;
  flags = extended ? (flags | flag::kExtendedLength) : (flags & ~flag::kExtendedLength);
  putU8(out, flags);
  putU8(out, code);
  if (extended) {
    putU16(out, static_cast<uint16_t>(value.size()));
  } else {
    putU8(out, static_cast<uint8_t>(value.size()));
  }
  putBytes(out, value);
}

void encodeAttributes(const EncodeInput& in, std::vector<uint8_t>& out) {
  auto unknown = in.attrs.unknown.begin();
  const auto flushUnknownBelow = [&](int code) {
    for (; unknown != in.attrs.unknown.end() && unknown->code < code; ++unknown) {
      if (findAttributeRow(unknown->code) != nullptr) continue;  // never shadow a known row
      writeAttribute(out, static_cast<uint8_t>(unknown->flags | flag::kPartial), unknown->code,
                     unknown->value);
    }
  };
  std::vector<uint8_t> value;
  for (const AttributeRow& row : attributeTable()) {
    flushUnknownBelow(static_cast<int>(row.code));
    value.clear();
    if (row.encode(in, value))
      writeAttribute(out, row.flags, static_cast<uint8_t>(row.code), value);
  }
  flushUnknownBelow(256);
}

std::string formatAttributes(const PathAttributes& attrs) {
  std::vector<std::string> parts;
  for (const AttributeRow& row : attributeTable()) {
    if (auto text = row.format(attrs)) {
      parts.push_back(text->empty() ? std::string(row.name)
                                    : fmt::format("{} {}", row.name, *text));
    }
  }
  for (const auto& u : attrs.unknown) {
    parts.push_back(fmt::format("attribute {} ({} bytes)", u.code, u.value.size()));
  }
  return join(parts, "; ");
}

}  // namespace coral::bgp
