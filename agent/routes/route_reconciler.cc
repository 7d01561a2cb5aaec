// RouteReconciler: diff the desired routes against the kernel (full) or against what was
// last programmed (incremental), then one pipelined batch of replaces and deletes.
#include "agent/routes/route_reconciler.h"

#include <vector>

#include "common/log.h"
#include "common/strings.h"

namespace coral::agent {
namespace {

// The kernel form of a desired route; nullopt when its device does not exist now.
std::optional<Route> kernelForm(const DesiredRoute& d, const std::map<std::string, int>& ifindex) {
  Route r;
  r.dst = d.dst;
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
        auto it = ifindex.find(d.device);
        if (it == ifindex.end()) return std::nullopt;
        r.ifindex = it->second;
      }
      break;
  }
  return r;
}

// Whether the kernel's route is the one we want. A route we give no device is compared
// without the device the kernel filled in (IPv6 blackholes show `dev lo`).
bool same(const Route& want, Route kernel) {
  if (want.ifindex == 0) kernel.ifindex = 0;
  return kernel == want;
}

}  // namespace

absl::StatusOr<ReconcileStats> RouteReconciler::reconcile(const DesiredRoutes& desired) {
  if (!programmed_) return resync(desired);
  KernelRoutes have = std::move(*programmed_);
  programmed_.reset();  // unknown until this round succeeds
  return apply(desired, std::move(have), false);
}

absl::StatusOr<ReconcileStats> RouteReconciler::resync(const DesiredRoutes& desired) {
  programmed_.reset();
  auto current = netlink_.routes(kCoralRouteProtocol);
  if (!current.ok()) return current.status();
  KernelRoutes have;
  for (auto& r : *current) have.emplace_hint(have.end(), r.dst, std::move(r));
  return apply(desired, std::move(have), true);
}

absl::StatusOr<ReconcileStats> RouteReconciler::apply(const DesiredRoutes& desired,
                                                      KernelRoutes have, bool full) {
  ReconcileStats stats;
  stats.desired = desired.size();
  stats.full = full;

  // Device names to indexes: one link dump per round, only when some route names one.
  std::map<std::string, int> ifindex;
  for (const auto& [dst, d] : desired) {
    if (d.device.empty()) continue;
    auto links = netlink_.links();
    if (!links.ok()) return links.status();
    for (const auto& l : *links) ifindex.emplace(l.name, l.index);
    break;
  }

  // Both sides are sorted by destination: one merge walk finds every difference.
  std::vector<Netlink::RouteChange> changes;
  auto want = desired.begin();
  auto kernel = have.begin();
  while (want != desired.end() || kernel != have.end()) {
    if (kernel == have.end() || (want != desired.end() && want->first < kernel->first)) {
      if (auto r = kernelForm(want->second, ifindex)) {
        changes.push_back({Netlink::RouteChange::Op::kReplace, std::move(*r)});
      } else {
        ++stats.skipped;
      }
      ++want;
    } else if (want == desired.end() || kernel->first < want->first) {
      changes.push_back({Netlink::RouteChange::Op::kDelete, kernel->second});
      ++kernel;
    } else {
      auto r = kernelForm(want->second, ifindex);
      if (!r) {
        ++stats.skipped;  // its device went (and took the kernel's route along)
        changes.push_back({Netlink::RouteChange::Op::kDelete, kernel->second});
      } else if (!same(*r, kernel->second)) {
        changes.push_back({Netlink::RouteChange::Op::kReplace, std::move(*r)});
      }
      ++want;
      ++kernel;
    }
  }

  if (!changes.empty()) {
    auto results = netlink_.applyRoutes(changes);
    if (!results.ok()) return results.status();  // programmed_ stays unknown: resync next
    for (size_t i = 0; i < changes.size(); ++i) {
      const auto& c = changes[i];
      const absl::Status& s = (*results)[i];
      if (c.op == Netlink::RouteChange::Op::kDelete) {
        if (s.ok() || absl::IsNotFound(s)) {
          ++stats.removed;
          have.erase(c.route.dst);
        } else {
          // Kept in `have`: the next round tries again.
          ++stats.errors;
          log::warn("cannot delete route",
                    {{"route", c.route.dst.toString()}, {"error", errorMessage(s)}});
        }
      } else if (s.ok()) {
        ++stats.added;
        have.insert_or_assign(c.route.dst, c.route);
      } else {
        // `have` keeps what was there before (or nothing): the next round tries again.
        ++stats.errors;
        log::warn("cannot install route",
                  {{"route", c.route.dst.toString()}, {"error", errorMessage(s)}});
      }
    }
  }
  programmed_ = std::move(have);
  return stats;
}

absl::StatusOr<ReconcileStats> reconcileRoutes(Netlink& netlink, const DesiredRoutes& desired) {
  return RouteReconciler(netlink).resync(desired);
}

}  // namespace coral::agent
