// Speaker configuration: plain structs with defaulted ==, so a reload can tell which
// peers changed and how, and reconfigure in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp/policy/filter.h"
#include "common/ip.h"

namespace coral::bgp {

enum class NextHopMode : uint8_t {
  kAuto,  // self towards eBGP, keep towards iBGP (self for our own routes)
  kSelf,
  kKeep,
};

struct PeerConfig {
  std::string name;  // for people; defaults to the address
  common::IpAddress address;
  uint16_t port = 179;
  uint32_t peer_as = 0;
  std::string password;  // TCP MD5 (RFC 2385); empty: none
  uint16_t hold_time_s = 90;
  uint16_t connect_retry_s = 10;
  int ebgp_multihop = 0;  // TTL of eBGP packets; 0: 1 (directly connected)
  int ttl_security = 0;   // GTSM (RFC 5082): accept this many hops; 0: off
  bool graceful_restart = true;
  uint16_t restart_time_s = 120;
  NextHopMode next_hop_mode = NextHopMode::kAuto;
  bool passive = false;
  uint64_t max_prefixes = 0;  // 0: no limit
  Filter import_filter;
  Filter export_filter;
  bool rr_client = false;
  // Keep an Adj-RIB-In with every route as received (before import policy), so a policy
  // change is re-applied locally. Off (the default, as BIRD without `import table`): only
  // the accepted routes are kept, in the Loc-RIB, plus the prefixes policy rejected (to
  // count them); a policy change asks the peer for a ROUTE-REFRESH instead.
  bool soft_reconfiguration_inbound = false;
  std::optional<common::IpAddress> local_address;  // source address to connect from
  // Next hops for "self" in the family the session does not run on (an IPv6 next hop for
  // IPv6 routes over an IPv4 session, and the reverse). Unset: that family is not sent.
  std::optional<common::IpAddress> next_hop_self_v4;
  std::optional<common::IpAddress> next_hop_self_v6;

  std::string displayName() const { return name.empty() ? address.toString() : name; }
  friend bool operator==(const PeerConfig&, const PeerConfig&) = default;
};

// Peers accepted by source address instead of configured one by one (passive).
struct DynamicNeighbourConfig {
  common::Prefix prefix;
  PeerConfig peer;  // the template: address is ignored, peer_as 0 accepts any AS
  friend bool operator==(const DynamicNeighbourConfig&, const DynamicNeighbourConfig&) = default;
};

struct SpeakerConfig {
  uint32_t router_id = 0;  // host order
  uint32_t local_as = 0;
  common::IpAddress listen_address;  // 0.0.0.0 or :: listens on both families
  bool listen_any_v6 = true;         // with 0.0.0.0: also accept IPv6 (dual stack)
  uint16_t listen_port = 179;        // 0: an ephemeral port (tests)
  bool listen = true;
  std::optional<uint32_t> cluster_id;  // route reflection; default the router id
  size_t max_paths = 1;                // ECMP width
  // Graceful restart (RFC 4724) as the restarting speaker: set the Restart State bit in
  // the OPENs of the first sessions (the host knows it restarted, e.g. after a crash).
  bool restarting = false;
  // RFC 4724 4.1, as the restarting speaker: nothing is sent to any peer (our routes, the
  // ones learnt) until every configured peer with graceful restart is up and has sent
  // End-of-RIB for each family (peers that did not advertise graceful restart, or are
  // restarting themselves, are not waited for), or until this Selection_Deferral_Timer
  // expires. Then every peer gets the full table and End-of-RIB.
  uint16_t selection_deferral_s = 120;
  std::vector<PeerConfig> peers;
  std::vector<DynamicNeighbourConfig> dynamic_neighbours;

  uint32_t clusterId() const { return cluster_id.value_or(router_id); }
  friend bool operator==(const SpeakerConfig&, const SpeakerConfig&) = default;
};

}  // namespace coral::bgp
