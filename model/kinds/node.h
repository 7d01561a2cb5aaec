// Node (a host running corald) and WorkloadEndpoint (a pod's interface, written by corald).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/meta.h"

namespace coral::model {

struct NodeAddress {
  std::string address;  // IP, optionally with prefix length
  std::string type;     // InternalIP (default) | ExternalIP
  template <class V>
  void describe(V& v) {
    v("address", address, {.required = true});
    v("type", type, {.enum_values = {"InternalIP", "ExternalIP"}});
  }
  void validate(Validation& v) const;
  bool operator==(const NodeAddress&) const = default;
};

struct NodeSpec {
  std::vector<NodeAddress> addresses;
  std::string ipv4_address;  // BGP/underlay address with its subnet, e.g. 10.0.0.11/24
  std::string ipv6_address;
  std::optional<uint32_t> as_number;       // overrides BGPConfiguration's
  std::string route_reflector_cluster_id;  // set: this node is a route reflector
  // VXLAN tunnel endpoint, published by corald when a pool uses VXLAN.
  std::string vxlan_tunnel_address;
  std::string vxlan_tunnel_mac;
  std::string vxlan_tunnel_address_v6;
  std::string vxlan_tunnel_mac_v6;

  template <class V>
  void describe(V& v) {
    v("addresses", addresses);
    v("ipv4Address", ipv4_address);
    v("ipv6Address", ipv6_address);
    v("asNumber", as_number, {.minimum = 1});
    v("routeReflectorClusterID", route_reflector_cluster_id);
    v("vxlanTunnelAddress", vxlan_tunnel_address);
    v("vxlanTunnelMACAddr", vxlan_tunnel_mac);
    v("vxlanTunnelAddressV6", vxlan_tunnel_address_v6);
    v("vxlanTunnelMACAddrV6", vxlan_tunnel_mac_v6);
  }
  void validate(Validation& v) const;
  bool operator==(const NodeSpec&) const = default;
};

struct Node {
  static constexpr const char* kKind = "Node";
  ObjectMeta metadata;
  NodeSpec spec;
  bool operator==(const Node&) const = default;
};

struct EndpointPort {
  std::string name;
  std::string protocol;  // TCP (default) | UDP | SCTP
  int port = 0;
  template <class V>
  void describe(V& v) {
    v("name", name, {.required = true});
    v("protocol", protocol, {.enum_values = {"TCP", "UDP", "SCTP"}});
    v("port", port, {.required = true, .minimum = 1, .maximum = 65535});
  }
  bool operator==(const EndpointPort&) const = default;
};

struct WorkloadEndpointSpec {
  std::string orchestrator;  // k8s | lab | cni
  std::string node;
  std::string pod;
  std::string container_id;
  std::string endpoint;                  // interface name inside the pod, e.g. eth0
  std::string interface_name;            // host end of the veth, e.g. cor1a2b3c4d5e6
  std::string mac;                       // pod end's MAC
  std::vector<std::string> ip_networks;  // the pod's /32 and /128
  std::vector<std::string> profiles;
  std::vector<EndpointPort> ports;  // named container ports, for policy named ports
  std::string service_account_name;

  template <class V>
  void describe(V& v) {
    v("orchestrator", orchestrator);
    v("node", node, {.required = true});
    v("pod", pod);
    v("containerID", container_id);
    v("endpoint", endpoint);
    v("interfaceName", interface_name, {.required = true});
    v("mac", mac);
    v("ipNetworks", ip_networks);
    v("profiles", profiles);
    v("ports", ports);
    v("serviceAccountName", service_account_name);
  }
  void validate(Validation& v) const;
  bool operator==(const WorkloadEndpointSpec&) const = default;
};

struct WorkloadEndpoint {
  static constexpr const char* kKind = "WorkloadEndpoint";
  ObjectMeta metadata;
  WorkloadEndpointSpec spec;
  static void applyDefaults(WorkloadEndpoint& endpoint);
  bool operator==(const WorkloadEndpoint&) const = default;
};

}  // namespace coral::model
