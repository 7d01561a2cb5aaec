// BIRD 2 configuration for a lab router: the DC's ToR and border. It accepts the DC's
// pod routes from its nodes (eBGP; IPv6 as MP-BGP on the same session), installs them in
// its kernel tables, and advertises the DC's pod ranges as one aggregate per family (plus
// the underlay) to the other DC over the WAN (one session per family).
#pragma once

#include <string>

#include "ctl/lab/config.h"
#include "ctl/lab/state.h"

namespace coral::lab {

std::string birdConfig(const LabState& state, const LabRouter& router, const DataCenter& dc);

}  // namespace coral::lab
