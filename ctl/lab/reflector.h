// The route reflectors of a `bgp: rr` lab: per data center one coral-bgpd in its own
// namespace on the DC's bridge, iBGP (the DC's node AS) with every node of the DC as a
// route-reflector client. The nodes keep their eBGP to the ToR beside it.
#pragma once

#include "absl/status/status.h"
#include "ctl/lab/config.h"
#include "ctl/lab/lab.h"
#include "ctl/lab/nodes.h"
#include "ctl/lab/state.h"

namespace coral::lab {

// The reflector's underlay host number: the router is .1, nodes start at .11.
inline constexpr uint64_t kReflectorHost = 2;

// coral-bgpd's configuration for the reflector: routerID and clusterID its address, the
// DC's node AS, the whole DC underlay as dynamic neighbours (route-reflector clients, so
// nodes that join or leave need no reconfiguration), no kernel routes.
std::string reflectorConfig(const LabState& state, const LabReflector& rr, const DataCenter& dc);

// Builds the reflector of `dc` (namespace coral-LAB-DC-rr, attached to the DC's bridge,
// config in <lab dir>/rr/DC.yaml, log in <lab dir>/logs/DC-rr.bgpd.log, status socket
// <lab dir>/run/DC-rr.bgpd.sock) and starts coral-bgpd; returns when its status socket
// exists. Recorded in the state at every step.
absl::Status startReflector(LabState& state, const DataCenter& dc, const std::string& coral_bgpd,
                            Progress& progress);

}  // namespace coral::lab
