#include "agent/routes/route_reconciler.h"

#include <map>

#include "common/log.h"
#include "common/strings.h"

namespace coral::agent {

absl::StatusOr<ReconcileStats> reconcileRoutes(Netlink& netlink, const DesiredRoutes& desired) {
  ReconcileStats stats;
  stats.desired = desired.size();
  auto current = netlink.routes(kCoralRouteProtocol);
  if (!current.ok()) return current.status();

  // Resolve desired routes to kernel form (device names to indexes).
  std::map<common::Prefix, Route> want;
  std::map<std::string, int> ifindex;
  auto resolve = [&](const std::string& device) {
    auto it = ifindex.find(device);
    if (it == ifindex.end()) {
      auto link = netlink.link(device);
      it = ifindex.emplace(device, link.ok() ? link->index : 0).first;
    }
    return it->second;
  };
  for (const auto& [dst, d] : desired) {
    Route r;
    r.dst = dst;
    switch (d.kind) {
      case RouteKind::kLocalBlock:
        r.type = RouteType::kBlackhole;
        break;
      case RouteKind::kWorkload:
      case RouteKind::kRemoteBlock:
      case RouteKind::kBorrowed:
        r.gateway = d.gateway;
        r.onlink = d.onlink;
        // Workload routes and routes through VXLAN name their device.
        if (!d.device.empty()) {
          r.ifindex = resolve(d.device);
          if (r.ifindex == 0) {
            ++stats.skipped;
            continue;
          }
        }
        break;
    }
    want.emplace(dst, r);
  }

  std::map<common::Prefix, Route> have;
  for (auto& r : *current) have.emplace(r.dst, r);

  for (const auto& [dst, r] : have) {
    if (want.contains(dst)) continue;
    if (auto s = netlink.deleteRoute(r); s.ok() || absl::IsNotFound(s)) {
      ++stats.removed;
    } else {
      ++stats.errors;
      log::warn("cannot delete route", {{"route", dst.toString()}, {"error", errorMessage(s)}});
    }
  }
  for (const auto& [dst, r] : want) {
    auto it = have.find(dst);
    // Remote routes are compared without the device the kernel filled in.
    if (it != have.end()) {
      Route kernel = it->second;
      if (r.type == RouteType::kUnicast && r.ifindex == 0) kernel.ifindex = 0;
      if (kernel == r) continue;
    }
    if (auto s = netlink.replaceRoute(r); s.ok()) {
      ++stats.added;
    } else {
      ++stats.errors;
      log::warn("cannot install route", {{"route", dst.toString()}, {"error", errorMessage(s)}});
    }
  }
  return stats;
}

}  // namespace coral::agent
