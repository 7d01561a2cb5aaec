// UPDATE validation across attributes and against the session.
#include "bgp/wire/validate.h"

#include <fmt/format.h>

#include "bgp/wire/as_path.h"

namespace coral::bgp {
namespace {

void missing(WireErrors& errors, AttrCode code, std::string_view name) {
  // RFC 7606 3(d): a missing well-known mandatory attribute is treat-as-withdraw; the
  // NOTIFICATION data would be the missing type code (RFC 4271 6.3).
  errors.push_back({ErrorAction::kTreatAsWithdraw,
                    err::kUpdateMessage,
                    err::kMissingWellKnown,
                    {static_cast<uint8_t>(code)},
                    fmt::format("UPDATE with NLRI lacks mandatory {}", name)});
}

void discard(WireErrors& errors, std::string reason) {
  errors.push_back({ErrorAction::kAttributeDiscard, err::kUpdateMessage, 0, {}, std::move(reason)});
}

bool seen(const DecodedAttributes& d, AttrCode code) {
  return d.seen.test(static_cast<uint8_t>(code));
}

void mergeAs4(DecodedAttributes& d) {
  // RFC 6793 4.2.3: an AGGREGATOR whose AS is not AS_TRANS means a 2-octet speaker
  // aggregated after the AS4 attributes were added: they are stale, ignore both.
  if (d.attrs.aggregator && d.attrs.aggregator->asn != kAsTrans) return;
  if (d.as4_aggregator) d.attrs.aggregator = d.as4_aggregator;
  if (d.as4_path && d.attrs.as_path) d.attrs.as_path = mergeAs4Path(*d.attrs.as_path, *d.as4_path);
}

}  // namespace

void validateUpdateAttributes(DecodedAttributes& d, bool has_ipv4_nlri, const SessionContext& ctx,
                              WireErrors& errors) {
  PathAttributes& a = d.attrs;
  const bool has_mp_nlri = d.mp_reach && !d.mp_reach->prefixes.empty();
  const bool announces = has_ipv4_nlri || has_mp_nlri;

  // Attributes an external peer must not send: discarded (RFC 7606 7.5, 7.9, 7.10).
  if (ctx.is_ebgp) {
    if (a.local_pref) {
      a.local_pref.reset();
      discard(errors, "LOCAL_PREF from an external peer");
    }
    if (a.originator_id) {
      a.originator_id.reset();
      discard(errors, "ORIGINATOR_ID from an external peer");
    }
    if (!a.cluster_list.empty()) {
      a.cluster_list.clear();
      discard(errors, "CLUSTER_LIST from an external peer");
    }
  }

  if (!ctx.four_octet_as) mergeAs4(d);

  if (!announces) return;  // withdrawals need no attributes (RFC 4760 4, RFC 7606 3(d))

  if (!seen(d, AttrCode::kOrigin)) missing(errors, AttrCode::kOrigin, "ORIGIN");
  if (!seen(d, AttrCode::kAsPath)) missing(errors, AttrCode::kAsPath, "AS_PATH");
  if (has_ipv4_nlri && !seen(d, AttrCode::kNextHop))
    missing(errors, AttrCode::kNextHop, "NEXT_HOP");
  if (!ctx.is_ebgp && !seen(d, AttrCode::kLocalPref)) {
    missing(errors, AttrCode::kLocalPref, "LOCAL_PREF");
  }

  if (ctx.is_ebgp && a.as_path) {
    const auto malformed = [&](std::string reason) {
      errors.push_back({ErrorAction::kTreatAsWithdraw,
                        err::kUpdateMessage,
                        err::kMalformedAsPath,
                        {},
                        std::move(reason)});
    };
    bool confed = false;
    for (const AsSegment& s : a.as_path->segments) {
      confed |= s.type == AsSegmentType::kConfedSequence || s.type == AsSegmentType::kConfedSet;
    }
    if (a.as_path->empty()) {
      malformed("empty AS_PATH from an external peer");
    } else if (confed) {
      malformed("AS_PATH from an external peer carries confederation segments");
    } else if (ctx.peer_as != 0 && a.as_path->firstAs() != ctx.peer_as) {
      malformed(fmt::format("AS_PATH {} from an external peer does not start with its AS {}",
                            a.as_path->toString(), ctx.peer_as));
    }
  }

  // NEXT_HOP semantics (RFC 4271 6.3, RFC 7606 7.3): treat-as-withdraw.
  if (has_ipv4_nlri && a.next_hop) {
    const uint32_t nh = a.next_hop->v4Value();
    if (nh == 0 || nh == 0xffffffff || (nh >> 28) == 0xe) {
      errors.push_back(
          {ErrorAction::kTreatAsWithdraw,
           err::kUpdateMessage,
           err::kInvalidNextHop,
           {},
           fmt::format("NEXT_HOP {} is not a unicast address", a.next_hop->toString())});
    }
  }
}

}  // namespace coral::bgp
