// Makes the kernel's Coral routes (protocol 77, main table) equal to the desired set:
// deletes what is not desired, replaces what is missing or different, and never looks
// at routes with another protocol number. Safe to run at any time, as often as needed.
#pragma once

#include <cstddef>

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
};

absl::StatusOr<ReconcileStats> reconcileRoutes(Netlink& netlink, const DesiredRoutes& desired);

}  // namespace coral::agent
