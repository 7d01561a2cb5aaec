// The VXLAN device of one address family, reconciled against the kernel: the device
// itself (VNI, UDP port, underlay binding, MAC, MTU; learning off), its tunnel address,
// and for every other node a permanent neighbour entry (tunnel address → its MAC) and a
// permanent FDB entry (its MAC → its underlay address). Unicast only: no group, no
// flooding, nothing learnt. Anything else found on the device is removed: the device is
// Coral's alone.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agent/dataplane/netlink.h"

namespace coral::agent {

struct VxlanPeer {
  common::IpAddress tunnel;
  MacAddress mac{};
  common::IpAddress underlay;
  bool operator==(const VxlanPeer&) const = default;
};

struct VxlanState {
  VxlanDevice device;
  InterfaceAddress tunnel_address;  // /32 or /128 on the device
  std::vector<VxlanPeer> peers;
  bool operator==(const VxlanState&) const = default;
};

struct VxlanStats {
  bool created = false;  // made or remade
  size_t neighbours_changed = 0;
  size_t fdb_changed = 0;
};

// Creates or repairs the device and its entries. Attributes the kernel cannot change in
// place (VNI, port, local address, parent) make it delete and recreate the device.
absl::StatusOr<VxlanStats> reconcileVxlan(Netlink& netlink, const VxlanState& state);
// Deletes the device (its routes, neighbours and FDB entries go with it). OK when absent.
absl::Status removeVxlan(Netlink& netlink, std::string_view name);

}  // namespace coral::agent
