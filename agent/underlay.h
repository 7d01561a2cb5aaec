// Finds the node's underlay interface and addresses: the ones other nodes and routers
// reach it on, published in its Node resource and used as the next hop for its blocks.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "agent/dataplane/netlink.h"

namespace coral::agent {

struct Underlay {
  std::string interface;
  uint32_t mtu = 0;
  std::optional<InterfaceAddress> ipv4;
  std::optional<InterfaceAddress> ipv6;  // global scope only
};

// config.underlay_interface when set; otherwise config.address_detection:
//   auto            exactly one candidate interface (up, not loopback, not Coral's own,
//                   with a global IPv4 address), else an error naming the candidates
//   cidr=CIDR       the interface whose IPv4 address is inside CIDR
//   interface=NAME  the interface whose name starts with NAME
absl::StatusOr<Underlay> detectUnderlay(Netlink& netlink, const AgentConfig& config);

}  // namespace coral::agent
