// Update packing: measure the fixed part once, then fill each message greedily.
#include "bgp/wire/packer.h"

#include <fmt/format.h>

#include "bgp/wire/constants.h"
#include "bgp/wire/nlri.h"
#include "bgp/wire/update.h"

namespace coral::bgp {
namespace {

using common::Family;
using common::Prefix;

absl::Status checkFamily(std::span<const Prefix> prefixes) {
  for (const Prefix& p : prefixes) {
    if (p.family() != prefixes.front().family()) {
      return absl::InvalidArgumentError(fmt::format("cannot pack {} with {} prefixes in one run",
                                                    p.toString(),
                                                    familyName(prefixes.front().family())));
    }
  }
  return absl::OkStatus();
}

void place(Update& u, Family family, bool announce, std::vector<Prefix> prefixes) {
  if (family == Family::kV4) {
    (announce ? u.announced_v4 : u.withdrawn_v4) = std::move(prefixes);
  } else {
    (announce ? u.announced_v6 : u.withdrawn_v6) = std::move(prefixes);
  }
}

absl::StatusOr<EncodedMessages> pack(const PathAttributes& attrs, std::span<const Prefix> prefixes,
                                     bool announce, const SessionContext& ctx) {
  EncodedMessages out;
  if (prefixes.empty()) return out;
  if (auto s = checkFamily(prefixes); !s.ok()) return s;
  const Family family = prefixes.front().family();

  // The message with a single prefix, minus that prefix, is the fixed part. IPv6 prefixes
  // grow the MP attribute, whose header gains a byte once its value passes 255 bytes:
  // reserve that byte up front.
  Update probe;
  if (announce) probe.attributes = attrs;
  place(probe, family, announce, {prefixes.front()});
  std::vector<uint8_t> bytes;
  if (auto s = encodeUpdate(probe, ctx, bytes); !s.ok()) return s;
  const size_t fixed =
      bytes.size() - encodedPrefixSize(prefixes.front()) + (family == Family::kV6 ? 1 : 0);
  if (fixed >= kMaxMessageSize) {
    return absl::InvalidArgumentError(
        fmt::format("path attributes take {} bytes, leaving no room for NLRI", fixed));
  }
  const size_t room = kMaxMessageSize - fixed;

  size_t i = 0;
  while (i < prefixes.size()) {
    std::vector<Prefix> chunk;
    size_t used = 0;
    while (i < prefixes.size() && used + encodedPrefixSize(prefixes[i]) <= room) {
      used += encodedPrefixSize(prefixes[i]);
      chunk.push_back(prefixes[i++]);
    }
    Update u;
    if (announce) u.attributes = attrs;
    place(u, family, announce, std::move(chunk));
    std::vector<uint8_t> message;
    if (auto s = encodeUpdate(u, ctx, message); !s.ok()) return s;
    out.push_back(std::move(message));
  }
  return out;
}

}  // namespace

absl::StatusOr<EncodedMessages> packAnnouncements(const PathAttributes& attrs,
                                                  std::span<const Prefix> prefixes,
                                                  const SessionContext& ctx) {
  return pack(attrs, prefixes, /*announce=*/true, ctx);
}

absl::StatusOr<EncodedMessages> packWithdrawals(std::span<const Prefix> prefixes,
                                                const SessionContext& ctx) {
  return pack(PathAttributes{}, prefixes, /*announce=*/false, ctx);
}

}  // namespace coral::bgp
