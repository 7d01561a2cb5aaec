// BIRD 2 configuration for a lab router: the DC's ToR and border. It accepts the DC's
// pod routes from its nodes (eBGP), installs them in its kernel table, and advertises
// the DC's pod range as one aggregate (plus the underlay) to the other DC over the WAN.
#pragma once

#include <string>

#include "ctl/lab/config.h"
#include "ctl/lab/state.h"

namespace coral::lab {

std::string birdConfig(const LabState& state, const LabRouter& router, const DataCenter& dc);

}  // namespace coral::lab
