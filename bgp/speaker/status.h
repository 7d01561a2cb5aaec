// Read-only snapshots of the speaker for status interfaces (coral-bgpd's socket,
// corald's status service): peers with counters, routes with every path and the reason
// the best one won.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

struct PeerStatus {
  std::string name;
  std::string address;
  uint32_t peer_as = 0;
  uint32_t local_as = 0;
  std::string state;  // RFC 4271 state name
  std::string router_id;
  bool ebgp = false;
  bool dynamic = false;
  bool rr_client = false;
  int64_t uptime_s = 0;  // time Established; 0 when not
  uint64_t prefixes_received = 0;
  uint64_t prefixes_accepted = 0;
  uint64_t prefixes_advertised = 0;
  uint64_t stale_prefixes = 0;  // kept through the peer's graceful restart
  std::string last_error;
  std::vector<std::string> families;  // negotiated: "ipv4-unicast", "ipv6-unicast"
};

struct PathStatus {
  std::string from;  // peer name or "local"
  std::string peer_address;
  bool best = false;
  bool multipath = false;
  bool stale = false;
  uint32_t weight = 0;
  PathAttributes attrs;
};

struct RouteStatus {
  common::Prefix prefix;
  std::string reason;  // why the best path won (bestPathStepName)
  std::vector<PathStatus> paths;
};

// A best-path change for the host (to install in the kernel).
struct BestPathChange {
  common::Prefix prefix;
  bool withdrawn = false;
  bool local = false;                        // the best path is our own origination
  std::vector<common::IpAddress> next_hops;  // the ECMP set's next hops, best first
  PathAttributesPtr attrs;                   // of the best path (null when withdrawn)
};

}  // namespace coral::bgp
