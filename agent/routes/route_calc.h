// Which routes this node needs, from what the datastore and BGP say (pure, no kernel):
//  * a blackhole for each block affine to this node (its pods' /32s are more specific);
//  * a /32 (/128) to each local workload through its host-side veth;
//  * each other node's block via that node's address, when routes come from the
//    datastore rather than BGP and that address is on one of this node's connected
//    subnets (the underlay); blocks of nodes beyond it are left to BGP (the ToR), as
//    Calico leaves routes to other subnets to BGP;
//  * each address borrowed from a block by another node, as a /32 via the borrower;
//  * blocks (and borrowed addresses) of VXLAN pools through the VXLAN device instead, next
//    hop the remote node's tunnel address, onlink (VXLANCrossSubnet: only to nodes
//    outside our underlay subnet; see encap_calc.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/dataplane/netlink.h"
#include "agent/routes/encap_calc.h"
#include "common/ip.h"
#include "model/kinds/ipam.h"
#include "model/kinds/node.h"

namespace coral::agent {

struct LocalWorkload {
  std::string host_ifname;
  std::vector<common::IpAddress> addresses;
};

struct RouteInputs {
  std::string self;  // this node's name
  std::vector<model::IPAMBlock> blocks;
  std::vector<model::Node> nodes;
  std::vector<LocalWorkload> workloads;
  // Where other nodes' blocks come from: the datastore (block affinities and node
  // addresses) or BGP best paths (`learned`, prefix → next hop).
  bool routes_from_bgp = false;
  std::map<common::Prefix, common::IpAddress> learned;
  // This node's directly connected subnets (its underlay addresses with their prefix).
  // A next hop outside all of them cannot be installed (the kernel refuses a gateway it
  // has no connected route to). nullopt: not known, every node's address is taken as on
  // link.
  std::optional<std::vector<common::Prefix>> connected;
  // Encapsulation: the pools, and which VXLAN devices this node has up (a route through
  // a device that is not there yet would fail).
  std::vector<PoolView> pools;
  bool vxlan_v4 = false;
  bool vxlan_v6 = false;
};

enum class RouteKind { kLocalBlock, kWorkload, kRemoteBlock, kBorrowed };
std::string_view routeKindName(RouteKind kind);

struct DesiredRoute {
  common::Prefix dst;
  RouteKind kind = RouteKind::kRemoteBlock;
  std::string device;                        // for workload routes: resolved at apply time
  std::optional<common::IpAddress> gateway;  // for remote routes
  bool onlink = false;                       // through VXLAN: the next hop is a tunnel address
  bool operator==(const DesiredRoute&) const = default;
};

using DesiredRoutes = std::map<common::Prefix, DesiredRoute>;

// A route the datastore source does not install: `node`'s address `via` is not on a
// connected subnet, so the block (or borrowed address) `dst` is left to BGP.
struct OffSubnetRoute {
  common::Prefix dst;
  std::string node;
  common::IpAddress via;
  bool operator==(const OffSubnetRoute&) const = default;
};

// `off_subnet`, when given, receives the routes left out for that reason, by dst.
DesiredRoutes computeRoutes(const RouteInputs& inputs,
                            std::vector<OffSubnetRoute>* off_subnet = nullptr);

// Routes kept through a restart while BGP relearns them: the kernel routes of before
// that have a next hop (other nodes' routes; this node's blackholes and pod routes have
// none), as `staleRoutesOf` picks them. keepStaleRoutes adds each whose destination is
// not desired as a remote route via its old next hop, and returns how many it added;
// desired routes win.
std::map<common::Prefix, Route> staleRoutesOf(const std::vector<Route>& kernel);
size_t keepStaleRoutes(DesiredRoutes& desired, const std::map<common::Prefix, Route>& stale);

// "host:<node>" → node name, or empty.
std::string affinityNode(const std::string& affinity);

}  // namespace coral::agent
