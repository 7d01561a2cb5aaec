// LabConfig: the topology of a lab, from YAML (`coralctl lab up --config lab.yaml`) or
// the defaults: two data centers, each a BIRD router (the ToR/border, its own AS) and two
// nodes running corald; the routers joined by a WAN link (eBGP between the DCs).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"
#include "model/field.h"

namespace coral::lab {

struct DataCenter {
  std::string name;
  uint32_t router_as = 0;
  uint32_t node_as = 0;
  std::string underlay;  // the DC's node subnet (a bridge in the router), e.g. 10.101.0.0/24
  std::string pods;      // the DC's IPv4 pod range (an IPPool for its nodes)
  std::string pods_v6;   // optional IPv6 pod range
  // Optional IPv6 underlay (ULA) of the DC's bridge. With it and pods_v6 the DC is dual
  // stack: nodes get an IPv6 address too, their v6 blocks are routed like the v4 ones.
  std::string underlay_v6;
  int nodes = 2;

  template <class V>
  void describe(V& v) {
    v("name", name, {.required = true});
    v("routerAS", router_as, {.required = true, .minimum = 1});
    v("nodeAS", node_as, {.required = true, .minimum = 1});
    v("underlay", underlay, {.required = true});
    v("pods", pods, {.required = true});
    v("podsV6", pods_v6);
    v("underlayV6", underlay_v6);
    v("nodes", nodes, {.minimum = 1, .maximum = 8});
  }
  bool operator==(const DataCenter&) const = default;
};

struct LabConfig {
  std::string name = "demo";
  std::string datastore = "file";  // file | etcd
  // How nodes get routes: "tor" (each node peers with its ToR over eBGP) or
  // "datastore" (routes from block affinities within a DC; no BGP from nodes).
  std::string routing = "tor";
  // BGP between the nodes: "tor" (only eBGP to the ToR), "mesh" (also an iBGP full mesh
  // among the nodes of each DC) or "rr" (also iBGP with a coral-bgpd route reflector per
  // DC). With mesh and rr corald installs the routes it learns (routeSource bgp).
  std::string bgp = "tor";
  std::string wan = "172.31.255.0/30";
  std::string wan_v6 = "fd00:100:ff::/64";  // the routers' IPv6 WAN link (empty: none)
  std::string encapsulation = "None";
  std::vector<DataCenter> dcs;

  template <class V>
  void describe(V& v) {
    v("name", name);
    v("datastore", datastore, {.enum_values = {"file", "etcd"}});
    v("routing", routing, {.enum_values = {"tor", "datastore"}});
    v("bgp", bgp, {.enum_values = {"tor", "mesh", "rr"}});
    v("wan", wan);
    v("wanV6", wan_v6);
    v("encapsulation", encapsulation, {.enum_values = {"None", "VXLAN", "VXLANCrossSubnet"}});
    v("dcs", dcs);
  }
  void validate(model::Validation& v) const;
  bool operator==(const LabConfig&) const = default;
};

LabConfig defaultLabConfig();
absl::StatusOr<LabConfig> loadLabConfig(const std::string& path);

// Every range the lab would use (underlays and WAN links of both families, pods).
std::vector<common::Prefix> labRanges(const LabConfig& config);

}  // namespace coral::lab
