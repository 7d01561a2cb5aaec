#include "agent/encap_control.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/dataplane/vxlan.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"

namespace coral::agent {
namespace {

bool isV4(common::Family f) { return f == common::Family::kV4; }
const char* familyLabel(common::Family f) { return isV4(f) ? "IPv4" : "IPv6"; }

}  // namespace

absl::StatusOr<common::IpAddress> EncapControl::ensureTunnelAddress(
    const std::vector<PoolView>& pools, common::Family family) {
  const std::string handle = tunnelHandle(config_.node_name, family);
  const std::vector<std::string> names = tunnelAddressPools(pools, family);
  auto held = ipam_.addressesOf(handle);
  if (!held.ok()) return held.status();
  for (const auto& a : *held) {
    if (a.address.family() != family) continue;
    // Keep it while it is in a pool that may still give it.
    for (const auto& p : pools) {
      if (p.cidr.contains(a.address) &&
          std::find(names.begin(), names.end(), p.name) != names.end()) {
        return a.address;
      }
    }
  }
  if (!held->empty()) {
    if (auto s = ipam_.releaseHandle(handle); !s.ok()) return s;
  }
  if (names.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("no enabled {} pool with VXLAN selects node {}: it has no tunnel address",
                    familyLabel(family), config_.node_name));
  }
  ipam::AssignRequest request{.handle_id = handle,
                              .node = config_.node_name,
                              .ipv4 = isV4(family),
                              .ipv6 = !isV4(family),
                              .attributes = {{"type", "vxlanTunnelAddress"}},
                              .ipv4_pools = {},
                              .ipv6_pools = {}};
  (isV4(family) ? request.ipv4_pools : request.ipv6_pools) = names;
  auto assigned = ipam_.autoAssign(request);
  if (!assigned.ok()) return annotate(assigned.status(), "VXLAN tunnel address");
  const auto& a = isV4(family) ? assigned->ipv4 : assigned->ipv6;
  if (!a) return absl::InternalError("IPAM returned no tunnel address");
  log::info("VXLAN tunnel address assigned",
            {{"family", familyLabel(family)}, {"address", a->address.toString()}});
  return a->address;
}

absl::Status EncapControl::publishVtep(const std::vector<model::Node>& nodes, common::Family family,
                                       const std::string& address, const std::string& mac) {
  auto fields = [&](model::Node& n) {
    return isV4(family) ? std::pair{&n.spec.vxlan_tunnel_address, &n.spec.vxlan_tunnel_mac}
                        : std::pair{&n.spec.vxlan_tunnel_address_v6, &n.spec.vxlan_tunnel_mac_v6};
  };
  // Nothing to do when the cached Node already says so (the watch brings our own writes).
  for (auto n : nodes) {
    if (n.metadata.name != config_.node_name) continue;
    auto [a, m] = fields(n);
    if (*a == address && *m == mac) return absl::OkStatus();
  }
  for (int attempt = 0;; ++attempt) {
    auto node = store_.get<model::Node>(config_.node_name);
    if (!node.ok()) return node.status();
    auto [a, m] = fields(*node);
    if (*a == address && *m == mac) return absl::OkStatus();
    *a = address;
    *m = mac;
    auto written = store_.update(*node);
    if (written.ok()) {
      log::info("VTEP published", {{"family", familyLabel(family)},
                                   {"address", address.empty() ? "(none)" : address},
                                   {"mac", mac}});
      return absl::OkStatus();
    }
    if (attempt >= 5 || !datastore::isConflict(written.status())) return written.status();
  }
}

absl::Status EncapControl::syncFamily(const EncapInputs& in, common::Family family, bool& needed,
                                      bool& ready) {
  const std::string device(vxlanDevice(family));
  const auto& underlay_address = isV4(family) ? underlay_.ipv4 : underlay_.ipv6;
  needed = vxlanNeeded(in.pools, in.blocks, family);
  ready = false;
  if (needed && !underlay_address) {
    return absl::FailedPreconditionError(
        fmt::format("a pool asks for {} VXLAN but the underlay interface {} has no {} address",
                    familyLabel(family), underlay_.interface, familyLabel(family)));
  }
  if (!needed) {
    auto& released = released_once_[isV4(family) ? 0 : 1];
    if (auto s = removeVxlan(netlink_, device); !s.ok()) return s;
    // Release the address and unpublish once after start, then only when the Node says
    // we still have one (a reconcile must not cost datastore writes when idle).
    bool published = false;
    for (const auto& n : in.nodes) {
      if (n.metadata.name != config_.node_name) continue;
      published =
          !(isV4(family) ? n.spec.vxlan_tunnel_address : n.spec.vxlan_tunnel_address_v6).empty();
    }
    if (released && !published) return absl::OkStatus();
    CORAL_RETURN_IF_ERROR(publishVtep(in.nodes, family, "", ""));
    CORAL_RETURN_IF_ERROR(ipam_.releaseHandle(tunnelHandle(config_.node_name, family)));
    released = true;
    return absl::OkStatus();
  }

  CORAL_ASSIGN_OR_RETURN(common::IpAddress tunnel, ensureTunnelAddress(in.pools, family));
  auto parent = netlink_.link(underlay_.interface);
  if (!parent.ok()) return parent.status();
  VxlanState state;
  state.device =
      VxlanDevice{.name = device,
                  .vni = static_cast<uint32_t>(config_.vxlan_vni),
                  .port = static_cast<uint16_t>(config_.vxlan_port),
                  .local = underlay_address->ip,
                  .parent_ifindex = parent->index,
                  .mac = tunnelMac(config_.node_name, family),
                  .mtu = vxlanMtu(static_cast<uint32_t>(config_.mtu), parent->mtu, family),
                  .learning = false};
  state.tunnel_address = {tunnel, tunnel.bitLength()};
  for (const auto& v : remoteVteps(in.nodes, config_.node_name, family)) {
    state.peers.push_back({v.tunnel, v.mac, v.underlay});
  }
  auto stats = reconcileVxlan(netlink_, state);
  if (!stats.ok()) return annotate(stats.status(), device);
  if (stats->created) {
    log::info("VXLAN device created", {{"device", device},
                                       {"vni", config_.vxlan_vni},
                                       {"port", config_.vxlan_port},
                                       {"mtu", state.device.mtu}});
  }
  if (stats->neighbours_changed || stats->fdb_changed) {
    log::info("VXLAN peers programmed", {{"device", device},
                                         {"peers", state.peers.size()},
                                         {"neighbours_changed", stats->neighbours_changed},
                                         {"fdb_changed", stats->fdb_changed}});
  }
  ready = true;
  return publishVtep(in.nodes, family, tunnel.toString(), formatMac(state.device.mac));
}

absl::Status EncapControl::sync(const EncapInputs& in, EncapResult& result) {
  absl::Status first = absl::OkStatus();
  auto keep = [&](absl::Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  keep(syncFamily(in, common::Family::kV4, result.vxlan_needed_v4, result.vxlan_ready_v4));
  keep(syncFamily(in, common::Family::kV6, result.vxlan_needed_v6, result.vxlan_ready_v6));
  // Pods use the underlay device's MTU as it is now (it may have changed since start).
  uint32_t underlay_mtu = underlay_.mtu;
  if (auto link = netlink_.link(underlay_.interface); link.ok() && link->mtu > 0) {
    underlay_mtu = link->mtu;
  }
  result.pod_mtu = podMtu(static_cast<uint32_t>(config_.mtu), underlay_mtu, result.vxlan_needed_v4,
                          result.vxlan_needed_v6);

  NatOutgoingSpec nat;
  for (const auto& p : in.pools) {
    nat.pools.push_back(p.cidr);
    if (p.nat_outgoing) nat.nat_pools.push_back(p.cidr);
  }
  keep(nat_.apply(nat, in.force));
  return first;
}

}  // namespace coral::agent
