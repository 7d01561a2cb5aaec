// coral-bgpd's status protocol: one JSON request per line on a unix socket, one JSON
// answer per line. Requests: {"command":"peers"}, {"command":"routes","prefix":"10.0.0.0/8"}.
// Answers: {"peers":[...]} / {"routes":[...]} or {"error":"..."}. coralctl bgp reads it.
#pragma once

#include <nlohmann/json.hpp>

#include "bgp/speaker/status.h"

namespace coral::bgp {

nlohmann::json toJson(const PeerStatus& peer);
nlohmann::json toJson(const RouteStatus& route);
nlohmann::json attributesToJson(const PathAttributes& attrs);

}  // namespace coral::bgp
