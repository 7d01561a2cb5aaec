#include "model/kinds/node.h"

#include <fmt/format.h>

#include "model/validators.h"

namespace coral::model {

void NodeAddress::validate(Validation& v) const {
  checkIpWithOptionalLength(v.at("address"), address);
}

void NodeSpec::validate(Validation& v) const {
  if (!ipv4_address.empty()) {
    checkIpWithOptionalLength(v.at("ipv4Address"), ipv4_address);
    if (ipv4_address.find(':') != std::string::npos) {
      v.at("ipv4Address").error(fmt::format("\"{}\" is not an IPv4 address", ipv4_address));
    }
  }
  if (!ipv6_address.empty()) {
    checkIpWithOptionalLength(v.at("ipv6Address"), ipv6_address);
    if (ipv6_address.find(':') == std::string::npos) {
      v.at("ipv6Address").error(fmt::format("\"{}\" is not an IPv6 address", ipv6_address));
    }
  }
  if (!route_reflector_cluster_id.empty()) {
    auto id = checkIp(v.at("routeReflectorClusterID"), route_reflector_cluster_id);
    if (id && !id->isV4()) {
      v.at("routeReflectorClusterID").error("must be written as an IPv4 address (a 32-bit id)");
    }
  }
  if (!vxlan_tunnel_address.empty()) checkIp(v.at("vxlanTunnelAddress"), vxlan_tunnel_address);
  if (!vxlan_tunnel_mac.empty()) checkMac(v.at("vxlanTunnelMACAddr"), vxlan_tunnel_mac);
  if (!vxlan_tunnel_address_v6.empty()) {
    checkIp(v.at("vxlanTunnelAddressV6"), vxlan_tunnel_address_v6);
  }
  if (!vxlan_tunnel_mac_v6.empty()) checkMac(v.at("vxlanTunnelMACAddrV6"), vxlan_tunnel_mac_v6);
}

void WorkloadEndpointSpec::validate(Validation& v) const {
  for (size_t i = 0; i < ip_networks.size(); ++i) {
    auto prefix = checkCidr(v.at("ipNetworks").at(i), ip_networks[i]);
    if (prefix && !prefix->isHost()) {
      v.at("ipNetworks")
          .at(i)
          .error(fmt::format("\"{}\" must be a single address (/32 or /128)", ip_networks[i]));
    }
  }
  if (!mac.empty()) checkMac(v.at("mac"), mac);
  if (interface_name.size() > 15) {
    v.at("interfaceName")
        .error(fmt::format("\"{}\" is longer than 15 characters (Linux IFNAMSIZ)", interface_name));
  }
}

void WorkloadEndpoint::applyDefaults(WorkloadEndpoint& endpoint) {
  for (auto& port : endpoint.spec.ports) {
    if (port.protocol.empty()) port.protocol = "TCP";
  }
}

}  // namespace coral::model
