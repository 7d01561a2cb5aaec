// AgentConfig: corald's configuration, from a YAML file with environment overrides.
// Described with the model's field lists, so a typo in the file is an error that names
// the field, not a silently ignored key.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "model/field.h"

namespace coral::agent {

struct AgentConfig {
  std::string node_name;  // default: the host name
  std::string datastore;  // URL; default file:///var/lib/coral
  std::string cni_socket = "/var/run/coral/cni.sock";
  std::string http_address = "127.0.0.1";
  int http_port = 9099;  // /livez /readyz /metrics; 0 disables
  int mtu = 0;           // pod MTU; 0: the underlay's MTU (minus encapsulation)
  // VXLAN (pools with encapsulation VXLAN or VXLANCrossSubnet): the VNI and UDP port of
  // the devices vxlan.coral (IPv4) and vxlan-v6.coral (IPv6). Calico's defaults.
  int vxlan_vni = 4096;
  int vxlan_port = 4789;
  std::string underlay_interface;  // e.g. eth0; empty: detect
  // How to find the node's address when underlayInterface is empty:
  //   auto (exactly one candidate interface, else an error naming them), cidr=10.0.0.0/8,
  //   interface=REGEX-free name prefix (e.g. interface=ens)
  std::string address_detection = "auto";
  // Where routes to other nodes' blocks come from: "datastore" (block affinities and node
  // addresses; nodes must share a subnet) or "bgp" (best paths of the embedded speaker).
  std::string route_source = "datastore";
  // The embedded BGP speaker: "enabled" originates this node's blocks to its peers
  // (BGPPeer resources, the node-to-node mesh); "disabled" runs no BGP at all.
  std::string bgp = "enabled";
  // Network policy enforcement: nftables (table inet coral), iptables (CORAL-* chains,
  // for hosts without nftables) or disabled.
  std::string policy_backend = "nftables";
  int resync_interval_s = 30;  // full route reconcile
  std::string log_level = "info";
  std::string log_format = "text";  // text | json

  template <class V>
  void describe(V& v) {
    v("nodeName", node_name);
    v("datastore", datastore);
    v("cniSocket", cni_socket);
    v("httpAddress", http_address);
    v("httpPort", http_port, {.minimum = 0, .maximum = 65535});
    v("mtu", mtu, {.minimum = 0, .maximum = 65535});
    v("vxlanVNI", vxlan_vni, {.minimum = 1, .maximum = 16777215});
    v("vxlanPort", vxlan_port, {.minimum = 1, .maximum = 65535});
    v("underlayInterface", underlay_interface);
    v("addressDetection", address_detection);
    v("routeSource", route_source, {.enum_values = {"datastore", "bgp"}});
    v("bgp", bgp, {.enum_values = {"enabled", "disabled"}});
    v("policyBackend", policy_backend, {.enum_values = {"nftables", "iptables", "disabled"}});
    v("resyncIntervalSeconds", resync_interval_s, {.minimum = 1});
    v("logLevel", log_level, {.enum_values = {"debug", "info", "warn", "error"}});
    v("logFormat", log_format, {.enum_values = {"text", "json"}});
  }
  void validate(model::Validation& v) const;
  bool operator==(const AgentConfig&) const = default;
};

// Reads `path` (may be empty: defaults only), then applies CORAL_NODENAME, CORAL_DATASTORE,
// CORAL_CNI_SOCKET, CORAL_HTTP_PORT, CORAL_MTU, CORAL_UNDERLAY_INTERFACE,
// CORAL_ROUTE_SOURCE, CORAL_BGP, CORAL_POLICY_BACKEND, CORAL_VXLAN_VNI, CORAL_VXLAN_PORT,
// CORAL_LOG_LEVEL from `env`.
absl::StatusOr<AgentConfig> loadAgentConfig(const std::string& path,
                                            const std::map<std::string, std::string>& env);
// The process environment as a map.
std::map<std::string, std::string> processEnvironment();

}  // namespace coral::agent
