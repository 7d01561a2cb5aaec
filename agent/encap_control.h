// EncapControl: the I/O half of encapsulation and NAT outgoing (encap_calc.h is the pure
// half). Each pass, per address family: when a pool this node uses asks for VXLAN, it
// holds a tunnel address from IPAM (handle vxlan-tunnel-addr-<node>, from a VXLAN pool
// that selects the node), keeps the VXLAN device with the other nodes' VTEPs programmed,
// and publishes this node's VTEP (tunnel address, MAC; the underlay address is already
// in the Node) in its Node resource; when no pool needs VXLAN any more, the device goes,
// the address is released and the VTEP unpublished. Then the NAT outgoing tables.
// Runs on the agent's reconcile thread (it uses that thread's Netlink).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "agent/dataplane/nat_outgoing.h"
#include "agent/dataplane/netlink.h"
#include "agent/routes/encap_calc.h"
#include "agent/underlay.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"

namespace coral::agent {

struct EncapInputs {
  std::vector<PoolView> pools;
  std::vector<model::Node> nodes;
  std::vector<model::IPAMBlock> blocks;
  bool force = false;  // re-apply NAT even if unchanged (periodic repair)
};

struct EncapResult {
  bool vxlan_needed_v4 = false;
  bool vxlan_needed_v6 = false;
  bool vxlan_ready_v4 = false;  // the device is up with its tunnel address
  bool vxlan_ready_v6 = false;
  uint32_t pod_mtu = 0;
};

class EncapControl {
 public:
  EncapControl(const AgentConfig& config, const Underlay& underlay, datastore::ResourceStore& store,
               ipam::Ipam& ipam, Netlink& netlink)
      : config_(config), underlay_(underlay), store_(store), ipam_(ipam), netlink_(netlink) {}

  // One pass. Errors of one family do not stop the other or NAT; the first is returned
  // after everything was tried, with the result of what did succeed in `result`.
  absl::Status sync(const EncapInputs& in, EncapResult& result);

 private:
  absl::StatusOr<common::IpAddress> ensureTunnelAddress(const std::vector<PoolView>& pools,
                                                        common::Family family);
  absl::Status publishVtep(const std::vector<model::Node>& nodes, common::Family family,
                           const std::string& address, const std::string& mac);
  absl::Status syncFamily(const EncapInputs& in, common::Family family, bool& needed, bool& ready);

  const AgentConfig& config_;
  const Underlay& underlay_;
  datastore::ResourceStore& store_;
  ipam::Ipam& ipam_;
  Netlink& netlink_;
  NatOutgoing nat_;
  bool released_once_[2] = {false, false};  // handles checked since start
};

}  // namespace coral::agent
