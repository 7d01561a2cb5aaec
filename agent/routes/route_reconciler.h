// Makes the kernel's Coral routes (protocol 77, main table) equal to the desired set:
// deletes what is not desired, replaces what is missing or different, and never looks
// at routes with another protocol number.
//
// RouteReconciler keeps what it last programmed. A full resync (the first call, after
// an error, and whenever the caller asks, e.g. periodically) dumps the kernel's protocol-77
// routes and diffs the desired set against them, which also repairs routes someone else
// changed. An incremental update diffs the desired set against what was last
// programmed, without listing the kernel, so a pod ADD costs one route change. Either
// way the changes go to the kernel in one pipelined batch (Netlink::applyRoutes).
#pragma once

#include <cstddef>
#include <map>
#include <optional>

#include "absl/status/statusor.h"
#include "agent/dataplane/netlink.h"
#include "agent/routes/route_calc.h"

namespace coral::agent {

struct ReconcileStats {
  size_t desired = 0;
  size_t added = 0;  // created or replaced
  size_t removed = 0;
  size_t skipped = 0;  // desired but not installable now (device gone)
  size_t errors = 0;
  bool full = false;  // the kernel was listed (a full resync)
};

// Routes as the kernel knows them (devices resolved to indexes), by destination.
using KernelRoutes = std::map<common::Prefix, Route>;

class RouteReconciler {
 public:
  explicit RouteReconciler(Netlink& netlink) : netlink_(netlink) {}

  // Incremental when a previous round left a known state, else a full resync.
  absl::StatusOr<ReconcileStats> reconcile(const DesiredRoutes& desired);
  // Lists the kernel and repairs every difference.
  absl::StatusOr<ReconcileStats> resync(const DesiredRoutes& desired);
  // The next reconcile lists the kernel (e.g. someone may have changed our routes).
  void invalidate() { programmed_.reset(); }

 private:
  absl::StatusOr<ReconcileStats> apply(const DesiredRoutes& desired, KernelRoutes have, bool full);
  Netlink& netlink_;
  // What the kernel holds of ours, as far as we know: after a successful round, the
  // routes that were installed (or found) there. nullopt: unknown, list the kernel.
  std::optional<KernelRoutes> programmed_;
};

// One full resync (lists the kernel), for callers that keep no state.
absl::StatusOr<ReconcileStats> reconcileRoutes(Netlink& netlink, const DesiredRoutes& desired);

}  // namespace coral::agent
