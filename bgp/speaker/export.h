// Export rules: what a peer is told about a best path. Pure functions, so the iBGP and
// route-reflection rules (RFC 4271 9.2, RFC 4456) and the attribute rewrites are tested
// without sockets.
//
// Who gets a path: never the peer it came from; NO_ADVERTISE nobody, NO_EXPORT no eBGP
// peer; a path from an iBGP peer goes to eBGP peers, and to iBGP peers only by
// reflection (from a client: to everyone; from a non-client: to clients).
// What they get: towards eBGP our AS prepended, next hop self (unless Keep), no
// LOCAL_PREF / ORIGINATOR_ID / CLUSTER_LIST, MED only on our own routes; towards iBGP
// LOCAL_PREF (default 100), next hop kept (self for our own routes or with Self), and
// for reflected paths ORIGINATOR_ID and our cluster id prepended to CLUSTER_LIST.
// Then the peer's export filter.
#pragma once

#include <cstdint>
#include <optional>

#include "bgp/policy/filter.h"
#include "bgp/rib/path.h"
#include "bgp/speaker/config.h"
#include "common/ip.h"

namespace coral::bgp {

struct LocalIdentity {
  uint32_t local_as = 0;
  uint32_t router_id = 0;
  uint32_t cluster_id = 0;
};

struct ExportTarget {
  uint32_t source_id = 0;  // the peer's id in the RIB
  bool ebgp = true;
  bool rr_client = false;
  NextHopMode next_hop_mode = NextHopMode::kAuto;
  std::optional<common::IpAddress> self_v4;  // our next hop per family; unset: not sent
  std::optional<common::IpAddress> self_v6;
  bool ipv4 = true;  // families negotiated on the session
  bool ipv6 = false;
  const Filter* filter = nullptr;
};

constexpr uint32_t kNoExport = 0xFFFFFF01;
constexpr uint32_t kNoAdvertise = 0xFFFFFF02;

// The prefix-independent part: may this peer be told about `best` at all?
bool mayExport(const Path& best, const ExportTarget& to);

// The attributes to send, or nullopt when the path is not exported to this peer. With
// `filtered` false, the export filter is not run (the caller runs it per prefix).
std::optional<PathAttributes> exportAttributes(const Path& best, const common::Prefix& prefix,
                                               const ExportTarget& to, const LocalIdentity& me,
                                               bool filtered = true);

}  // namespace coral::bgp
