// coral-bgpd's YAML config. Keys mirror the BGPConfiguration and BGPPeer resources
// (model/kinds/bgp.h) so an operator moves between them without a dictionary:
//
//   routerID: 10.0.0.1          asNumber: 65001
//   listenAddress: 0.0.0.0      listenPort: 179
//   clusterID: 10.0.0.1         maxPaths: 4
//   selectionDeferralSeconds: 120   # after a crash: wait this long at most for End-of-RIBs
//   statusSocket: /run/coral-bgpd.sock
//   kernel: {install: true, protocol: 78}
//   prefixes: [{cidr: 10.1.0.0/24, communities: ["65001:10", "65001:1:2"]}]
//   neighbours:
//     - peerIP: 10.0.0.2          # or "10.0.0.2:1179", "[fd00::2]:1179"
//       asNumber: 65002
//       password: secret          holdTimeSeconds: 90
//       ebgpMultihop: 2           ttlSecurity: 1
//       gracefulRestart: {enabled: true, restartTimeSeconds: 120}
//       nextHopMode: Auto         # Auto | Self | Keep
//       passive: false            maxPrefixes: 10000
//       routeReflectorClient: false
//       softReconfigurationInbound: false   # keep what the peer sent, before import policy
//       sourceAddress: 10.0.0.1   nextHopSelfV6: fd00::1
//       importFilters: [{action: Reject, cidr: 10.0.0.0/8, prefixLength: {min: 25}}]
//       exportFilters: [{action: Accept, community: "65001:10", addCommunities: ["65001:20"],
//                        prependASPath: 2, localPref: 200}]
//   dynamicNeighbours: [{prefix: 10.0.1.0/24, asNumber: 65003}]   # plus neighbour keys
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/speaker/config.h"
#include "bgp/wire/attributes.h"

namespace coral::bgp {

struct Origination {
  common::Prefix prefix;
  PathAttributes attrs;
  friend bool operator==(const Origination&, const Origination&) = default;
};

struct DaemonConfig {
  SpeakerConfig speaker;
  std::vector<Origination> prefixes;
  std::string status_socket = "/run/coral-bgpd.sock";
  bool kernel_install = false;
  uint8_t kernel_protocol = 78;  // corald uses 77, BIRD 12, Calico 80
};

absl::StatusOr<DaemonConfig> parseDaemonConfig(std::string_view yaml);
absl::StatusOr<DaemonConfig> loadDaemonConfig(const std::string& path);

}  // namespace coral::bgp
