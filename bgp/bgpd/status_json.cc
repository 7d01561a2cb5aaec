// Status snapshots as JSON.
#include "bgp/bgpd/status_json.h"

#include "bgp/policy/filter.h"

namespace coral::bgp {

nlohmann::json toJson(const PeerStatus& p) {
  return {{"name", p.name},
          {"address", p.address},
          {"peerAS", p.peer_as},
          {"localAS", p.local_as},
          {"state", p.state},
          {"routerID", p.router_id},
          {"type", p.ebgp ? "eBGP" : "iBGP"},
          {"dynamic", p.dynamic},
          {"routeReflectorClient", p.rr_client},
          {"uptimeSeconds", p.uptime_s},
          {"prefixesReceived", p.prefixes_received},
          {"prefixesAccepted", p.prefixes_accepted},
          {"prefixesAdvertised", p.prefixes_advertised},
          {"stalePrefixes", p.stale_prefixes},
          {"lastError", p.last_error},
          {"families", p.families}};
}

nlohmann::json attributesToJson(const PathAttributes& a) {
  nlohmann::json j = nlohmann::json::object();
  if (a.origin) {
    j["origin"] = *a.origin == Origin::kIgp   ? "IGP"
                  : *a.origin == Origin::kEgp ? "EGP"
                                              : "incomplete";
  }
  j["asPath"] = a.as_path ? a.as_path->toString() : "";
  if (a.next_hop) j["nextHop"] = a.next_hop->toString();
  if (a.mp_next_hop) j["nextHop"] = a.mp_next_hop->toString();
  if (a.mp_link_local_next_hop) j["linkLocalNextHop"] = a.mp_link_local_next_hop->toString();
  if (a.med) j["med"] = *a.med;
  if (a.local_pref) j["localPref"] = *a.local_pref;
  if (a.atomic_aggregate) j["atomicAggregate"] = true;
  if (a.aggregator) {
    j["aggregator"] = std::to_string(a.aggregator->asn) + " " + a.aggregator->address.toString();
  }
  if (!a.communities.empty()) {
    auto& cs = j["communities"] = nlohmann::json::array();
    for (uint32_t c : a.communities) cs.push_back(formatCommunity(c));
  }
  if (!a.large_communities.empty()) {
    auto& cs = j["largeCommunities"] = nlohmann::json::array();
    for (const auto& c : a.large_communities) cs.push_back(formatLargeCommunity(c));
  }
  if (!a.extended_communities.empty()) {
    auto& cs = j["extendedCommunities"] = nlohmann::json::array();
    for (const auto& c : a.extended_communities) {
      std::string hex;
      for (uint8_t b : c.bytes) {
        static const char* kHex = "0123456789abcdef";
        hex += kHex[b >> 4];
        hex += kHex[b & 15];
      }
      cs.push_back(hex);
    }
  }
  if (a.originator_id) j["originatorID"] = a.originator_id->toString();
  if (!a.cluster_list.empty()) {
    auto& cl = j["clusterList"] = nlohmann::json::array();
    for (uint32_t c : a.cluster_list) cl.push_back(common::IpAddress::v4(c).toString());
  }
  if (!a.unknown.empty()) j["unknownAttributes"] = a.unknown.size();
  return j;
}

nlohmann::json toJson(const RouteStatus& r) {
  nlohmann::json paths = nlohmann::json::array();
  for (const PathStatus& p : r.paths) {
    paths.push_back({{"from", p.from},
                     {"peerAddress", p.peer_address},
                     {"best", p.best},
                     {"multipath", p.multipath},
                     {"stale", p.stale},
                     {"weight", p.weight},
                     {"attributes", attributesToJson(p.attrs)}});
  }
  return {{"prefix", r.prefix.toString()}, {"reason", r.reason}, {"paths", paths}};
}

}  // namespace coral::bgp
