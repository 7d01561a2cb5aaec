// AS_PATH / AS4_PATH wire codec and the RFC 6793 merge.
#include "bgp/wire/as_path.h"

#include <fmt/format.h>

#include "bgp/wire/buffer.h"
#include "bgp/wire/constants.h"

namespace coral::bgp {

absl::StatusOr<AsPath> decodeAsPath(std::span<const uint8_t> value, int as_size) {
  AsPath path;
  ByteReader r(value);
  while (!r.empty()) {
    const size_t offset = r.position();
    auto type = r.u8();
    auto count = r.u8();
    if (!type || !count) {
      return absl::InvalidArgumentError(
          fmt::format("AS_PATH segment header at offset {} is truncated", offset));
    }
    if (*type < 1 || *type > 4) {
      return absl::InvalidArgumentError(
          fmt::format("AS_PATH segment at offset {} has bad type {}", offset, *type));
    }
    if (*count == 0) {
      return absl::InvalidArgumentError(
          fmt::format("AS_PATH segment at offset {} has zero length", offset));
    }
    auto body = r.take(size_t{*count} * static_cast<size_t>(as_size));
    if (!body) {
      return absl::InvalidArgumentError(
          fmt::format("AS_PATH segment at offset {} claims {} ASes of {} octets, {} bytes remain",
                      offset, *count, as_size, r.remaining()));
    }
    AsSegment seg{static_cast<AsSegmentType>(*type), {}};
    ByteReader br(*body);
    for (int i = 0; i < *count; ++i) {
      seg.asns.push_back(as_size == 4 ? *br.u32() : *br.u16());
    }
    path.segments.push_back(std::move(seg));
  }
  return path;
}

void encodeAsPath(std::vector<uint8_t>& out, const AsPath& path, int as_size) {
  for (const AsSegment& seg : path.segments) {
    for (size_t start = 0; start < seg.asns.size(); start += 255) {
      const size_t n = std::min<size_t>(255, seg.asns.size() - start);
      putU8(out, static_cast<uint8_t>(seg.type));
      putU8(out, static_cast<uint8_t>(n));
      for (size_t i = start; i < start + n; ++i) {
        const uint32_t asn = seg.asns[i];
        if (as_size == 4) {
          putU32(out, asn);
        } else {
          putU16(out, asn > 0xffff ? kAsTrans : static_cast<uint16_t>(asn));
        }
      }
    }
  }
}

bool needsAs4Path(const AsPath& path) {
  for (const AsSegment& seg : path.segments) {
    if (seg.type == AsSegmentType::kConfedSequence || seg.type == AsSegmentType::kConfedSet) {
      continue;
    }
    for (uint32_t asn : seg.asns) {
      if (asn > 0xffff) return true;
    }
  }
  return false;
}

AsPath as4PathOf(const AsPath& path) {
  AsPath out;
  for (const AsSegment& seg : path.segments) {
    if (seg.type == AsSegmentType::kSequence || seg.type == AsSegmentType::kSet) {
      out.segments.push_back(seg);
    }
  }
  return out;
}

AsPath mergeAs4Path(const AsPath& as_path, const AsPath& as4_path) {
  const size_t n_as = as_path.length();
  const size_t n_as4 = as4_path.length();
  if (n_as < n_as4) return as_path;
  size_t keep = n_as - n_as4;  // leading ASes of AS_PATH to keep
  AsPath out;
  for (const AsSegment& seg : as_path.segments) {
    const bool confed =
        seg.type == AsSegmentType::kConfedSequence || seg.type == AsSegmentType::kConfedSet;
    if (confed) {
      // Confed segments lead the path and AS4_PATH never carries them: keep them.
      out.segments.push_back(seg);
      continue;
    }
    if (keep == 0) break;
    if (seg.type == AsSegmentType::kSet) {
      out.segments.push_back(seg);
      keep -= 1;
      continue;
    }
    const size_t take = std::min(keep, seg.asns.size());
    out.segments.push_back(AsSegment{seg.type, {seg.asns.begin(), seg.asns.begin() + take}});
    keep -= take;
  }
  for (const AsSegment& seg : as4_path.segments) {
    // Join a sequence continuing a kept sequence, as the path read left to right.
    if (!out.segments.empty() && seg.type == AsSegmentType::kSequence &&
        out.segments.back().type == AsSegmentType::kSequence &&
        out.segments.back().asns.size() + seg.asns.size() <= 255) {
      auto& tail = out.segments.back().asns;
      tail.insert(tail.end(), seg.asns.begin(), seg.asns.end());
    } else {
      out.segments.push_back(seg);
    }
  }
  return out;
}

}  // namespace coral::bgp
