// Workload plumbing: the veth pair that connects a pod to its node, configured the Calico
// way — the pod gets its /32 (/128), a default route via 169.254.1.1 (IPv6: the host end's
// link-local address) that the host end answers for (proxy ARP, plus a permanent
// neighbour entry inside the pod so the first packet never waits), and the node gets a
// host route to the pod via the host end. No bridge, no per-node L2 domain.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/dataplane/netlink.h"
#include "common/ip.h"

namespace coral::agent {

// Every host end has this MAC; pods see it as their gateway's.
inline constexpr MacAddress kHostSideMac = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
// The IPv4 gateway pods use; IPv6 uses the host end's link-local (EUI-64 of the MAC).
common::IpAddress gatewayV4();
common::IpAddress gatewayV6();

// "cor" + 11 hex characters of a hash of the workload id: stable, ≤ 15 characters.
std::string hostInterfaceName(std::string_view workload_id);

struct WorkloadSpec {
  std::string host_ifname;
  std::string pod_ifname = "eth0";
  std::string netns_path;
  std::vector<common::IpAddress> addresses;  // one per family at most
  uint32_t mtu = 1500;
};

struct WorkloadLinks {
  MacAddress pod_mac{};
  int host_ifindex = 0;
};

// Creates and configures everything; on any failure removes what it made.
absl::StatusOr<WorkloadLinks> plumbWorkload(Netlink& host, const WorkloadSpec& spec);
// Removes the veth (the host routes through it go with it). Idempotent.
absl::Status unplumbWorkload(Netlink& host, const std::string& host_ifname);
// Verifies the pod side (interface up, addresses, default routes) and the host side
// (host end up, host route per address). Names the first thing that does not match.
absl::Status checkWorkload(Netlink& host, const WorkloadSpec& spec);

}  // namespace coral::agent
