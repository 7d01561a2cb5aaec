#include "agent/dataplane/vxlan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace coral::agent {
namespace {

// What must hold for an existing device to be kept (the rest can change in place).
bool sameIdentity(const VxlanDevice& have, const VxlanDevice& want) {
  return have.vni == want.vni && have.port == want.port && have.local == want.local &&
         have.parent_ifindex == want.parent_ifindex && have.mac == want.mac &&
         have.learning == want.learning;
}

}  // namespace

absl::StatusOr<VxlanStats> reconcileVxlan(Netlink& nl, const VxlanState& state) {
  VxlanStats stats;
  const VxlanDevice& want = state.device;
  auto have = nl.vxlan(want.name);
  if (!have.ok() && !absl::IsNotFound(have.status())) {
    if (!absl::IsFailedPrecondition(have.status())) return have.status();
    // Something else holds our name: ours by convention, replace it.
  }
  if (have.ok() && !sameIdentity(*have, want)) {
    if (auto s = nl.deleteLink(want.name); !s.ok() && !absl::IsNotFound(s)) return s;
    have = absl::NotFoundError("recreated");
  } else if (!have.ok() && absl::IsFailedPrecondition(have.status())) {
    if (auto s = nl.deleteLink(want.name); !s.ok() && !absl::IsNotFound(s)) return s;
  }
  if (!have.ok()) {
    if (auto s = nl.createVxlan(want); !s.ok()) return s;
    stats.created = true;
  } else if (want.mtu > 0 && have->mtu != want.mtu) {
    if (auto s = nl.setLinkMtu(want.name, want.mtu); !s.ok()) return s;
  }
  if (auto link = nl.link(want.name); link.ok() && !link->up) {
    if (auto s = nl.setLinkUp(want.name); !s.ok()) return s;
  }

  // The tunnel address, alone.
  auto addresses = nl.addresses(want.name);
  if (!addresses.ok()) return addresses.status();
  bool has_address = false;
  for (const auto& a : *addresses) {
    if (a == state.tunnel_address) {
      has_address = true;
    } else if (!a.ip.isLinkLocal()) {
      if (auto s = nl.deleteAddress(want.name, a); !s.ok() && !absl::IsNotFound(s)) return s;
    }
  }
  if (!has_address) {
    if (auto s = nl.addAddress(want.name, state.tunnel_address); !s.ok()) return s;
  }

  // Neighbours: one permanent entry per peer, nothing else (link-local NDP entries the
  // kernel makes for itself are left alone).
  auto neighbours = nl.neighbours(want.name);
  if (!neighbours.ok()) return neighbours.status();
  for (const auto& n : *neighbours) {
    const bool wanted = std::any_of(state.peers.begin(), state.peers.end(), [&](const auto& p) {
      return p.tunnel == n.ip && p.mac == n.mac && n.permanent;
    });
    if (!wanted && !n.ip.isLinkLocal()) {
      if (auto s = nl.deleteNeighbour(want.name, n.ip); s.ok()) ++stats.neighbours_changed;
    }
  }
  for (const auto& p : state.peers) {
    const bool present = std::any_of(neighbours->begin(), neighbours->end(), [&](const auto& n) {
      return p.tunnel == n.ip && p.mac == n.mac && n.permanent;
    });
    if (present) continue;
    if (auto s = nl.addPermanentNeighbour(want.name, p.tunnel, p.mac); !s.ok()) return s;
    ++stats.neighbours_changed;
  }

  // FDB: one entry per peer MAC, pointing at its underlay address.
  auto fdb = nl.fdbEntries(want.name);
  if (!fdb.ok()) return fdb.status();
  std::set<FdbEntry> desired;
  for (const auto& p : state.peers) desired.insert({p.mac, p.underlay});
  for (const auto& e : *fdb) {
    if (desired.contains(e)) continue;
    if (auto s = nl.deleteFdbEntry(want.name, e); s.ok()) ++stats.fdb_changed;
  }
  for (const auto& e : desired) {
    if (std::find(fdb->begin(), fdb->end(), e) != fdb->end()) continue;
    if (auto s = nl.replaceFdbEntry(want.name, e); !s.ok()) return s;
    ++stats.fdb_changed;
  }
  return stats;
}

absl::Status removeVxlan(Netlink& nl, std::string_view name) {
  auto have = nl.vxlan(name);
  if (absl::IsNotFound(have.status())) return absl::OkStatus();
  if (!have.ok()) return have.status();
  auto s = nl.deleteLink(name);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace coral::agent
