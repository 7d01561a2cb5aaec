// Export rules and attribute rewrites towards one peer.
#include "bgp/speaker/export.h"

#include <algorithm>

namespace coral::bgp {
namespace {

bool hasCommunity(const PathAttributes& a, uint32_t c) {
  return std::find(a.communities.begin(), a.communities.end(), c) != a.communities.end();
}

}  // namespace

bool mayExport(const Path& best, const ExportTarget& to) {
  const PathSource& from = *best.source;
  if (from.id == to.source_id) return false;
  const PathAttributes& a = *best.attrs;
  if (hasCommunity(a, kNoAdvertise)) return false;
  if (to.ebgp && hasCommunity(a, kNoExport)) return false;
  if (to.ebgp || from.isLocal() || from.ebgp) return true;
  // iBGP to iBGP: only by reflection.
  return from.rr_client || to.rr_client;
}

std::optional<PathAttributes> exportAttributes(const Path& best, const common::Prefix& prefix,
                                               const ExportTarget& to, const LocalIdentity& me,
                                               bool filtered) {
  if (prefix.isV4() ? !to.ipv4 : !to.ipv6) return std::nullopt;
  if (!mayExport(best, to)) return std::nullopt;
  const PathSource& from = *best.source;
  PathAttributes a = *best.attrs;
  if (!a.origin) a.origin = Origin::kIgp;
  if (!a.as_path) a.as_path = AsPath{};

  bool self = false;
  if (to.ebgp) {
    prependAs(*a.as_path, me.local_as, 1);
    a.local_pref.reset();
    a.originator_id.reset();
    a.cluster_list.clear();
    if (!from.isLocal()) a.med.reset();
    self = to.next_hop_mode != NextHopMode::kKeep || from.isLocal();
  } else {
    if (!a.local_pref) a.local_pref = 100;
    self = from.isLocal() || to.next_hop_mode == NextHopMode::kSelf;
    if (!from.isLocal() && !from.ebgp) {
      // Reflected (RFC 4456 8).
      if (!a.originator_id) a.originator_id = common::IpAddress::v4(from.router_id);
      a.cluster_list.insert(a.cluster_list.begin(), me.cluster_id);
    }
  }

  // Next hop per family: IPv4 in NEXT_HOP, IPv6 in MP_REACH_NLRI.
  a.mp_link_local_next_hop.reset();
  if (prefix.isV4()) {
    a.mp_next_hop.reset();
    if (self || !a.next_hop) {
      if (!to.self_v4) return std::nullopt;
      a.next_hop = *to.self_v4;
    }
  } else {
    a.next_hop.reset();
    if (self || !a.mp_next_hop) {
      if (!to.self_v6) return std::nullopt;
      a.mp_next_hop = *to.self_v6;
    }
  }

  if (filtered && to.filter != nullptr && !to.filter->empty()) {
    PathAttributes modified;
    switch (applyFilter(*to.filter, prefix, a, me.local_as, modified)) {
      case FilterVerdict::kReject:
        return std::nullopt;
      case FilterVerdict::kAccept:
        break;
      case FilterVerdict::kAcceptModified:
        a = std::move(modified);
        if (to.ebgp) a.local_pref.reset();
        break;
    }
  }
  return a;
}

}  // namespace coral::bgp
