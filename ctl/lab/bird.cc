#include "ctl/lab/bird.h"

#include <fmt/format.h>

namespace coral::lab {
namespace {

// `[ 10.244.0.0/17{17,32} ]`: the range and everything inside it.
std::string prefixSet(const std::string& cidr, int max_length) {
  return fmt::format("[ {}{{{},{}}} ]", cidr, cidr.substr(cidr.find('/') + 1), max_length);
}

}  // namespace

std::string birdConfig(const LabState& state, const LabRouter& router, const DataCenter& dc) {
  // With VXLAN the routers are a plain underlay: they learn no pod range at all (no BGP
  // from the nodes, no DC aggregate), only the other DC's node subnet over the WAN.
  const bool encapsulated = state.config.encapsulation != "None";
  // Dual stack: IPv6 channels beside the IPv4 ones (the nodes' v6 blocks ride their IPv4
  // session as MP-BGP; the WAN has its own IPv6 session).
  const bool v6 = !router.address_v6.empty();
  const bool v6_pods = v6 && !dc.pods_v6.empty();
  std::string c;
  c += fmt::format("# BIRD 2 for lab {} router {} (AS {}), written by coralctl lab.\n", state.name,
                   router.name, router.as);
  c += fmt::format("log \"{}/logs/{}.bird.log\" all;\n", state.dir, router.name);
  c += fmt::format("router id {};\n\n", router.address);
  c += "protocol device { scan time 5; }\n";
  c += fmt::format("protocol direct {{ ipv4; {}interface \"br0\", \"wan0\"; }}\n",
                   v6 ? "ipv6; " : "");
  // Routes learned by BGP go into this namespace's kernel table so the router forwards.
  c += "protocol kernel {\n  ipv4 { import none; export filter { if source = RTS_BGP then "
       "accept; reject; }; };\n  merge paths on;\n}\n";
  if (v6) {
    c += "protocol kernel kernel6 {\n  ipv6 { import none; export filter { if source = RTS_BGP "
         "then accept; reject; }; };\n  merge paths on;\n}\n";
  }
  if (!encapsulated) {
    c += fmt::format("protocol static dc_aggregate {{\n  ipv4;\n  route {} unreachable;\n}}\n",
                     dc.pods);
    if (v6_pods) {
      c += fmt::format("protocol static dc_aggregate6 {{\n  ipv6;\n  route {} unreachable;\n}}\n",
                       dc.pods_v6);
    }
  }
  c += '\n';
  c += fmt::format("define DC_PODS = {};\n", prefixSet(dc.pods, 32));
  c += "filter from_nodes { if net ~ DC_PODS then accept; reject; }\n";
  c += encapsulated
           ? "filter to_wan { if source = RTS_DEVICE then accept; reject; }\n"
           : "filter to_wan { if proto = \"dc_aggregate\" then accept; if source = RTS_DEVICE "
             "then accept; reject; }\n";
  if (v6) {
    if (v6_pods) {
      c += fmt::format("define DC_PODS6 = {};\n", prefixSet(dc.pods_v6, 128));
      c += "filter from_nodes6 { if net ~ DC_PODS6 then accept; reject; }\n";
    }
    c += encapsulated || !v6_pods
             ? "filter to_wan6 { if source = RTS_DEVICE then accept; reject; }\n"
             : "filter to_wan6 { if proto = \"dc_aggregate6\" then accept; if source = "
               "RTS_DEVICE then accept; reject; }\n";
  }
  c += '\n';
  c += fmt::format(
      "template bgp node_peer {{\n  local {} as {};\n  ipv4 {{ import filter "
      "from_nodes; export none; }};\n{}  graceful restart on;\n  connect delay time "
      "1;\n  connect retry time 2;\n}}\n",
      router.address, router.as,
      v6_pods ? "  ipv6 { import filter from_nodes6; export none; };\n" : "");
  for (const auto& n : state.nodes) {
    if (n.dc != dc.name || encapsulated) continue;
    std::string proto = n.name;
    for (char& ch : proto) {
      if (ch == '-') ch = '_';
    }
    c += fmt::format("protocol bgp {} from node_peer {{ neighbor {} as {}; }}\n", proto, n.address,
                     dc.node_as);
  }
  for (const auto& other : state.routers) {
    if (other.name == router.name || other.wan_address.empty()) continue;
    c += fmt::format(
        "\nprotocol bgp wan {{\n  local {} as {};\n  neighbor {} as {};\n  ipv4 {{ import all; "
        "export filter to_wan; }};\n  connect delay time 1;\n  connect retry time 2;\n}}\n",
        router.wan_address, router.as, other.wan_address, other.as);
    if (v6 && !router.wan_address_v6.empty() && !other.wan_address_v6.empty()) {
      c += fmt::format(
          "\nprotocol bgp wan6 {{\n  local {} as {};\n  neighbor {} as {};\n  ipv6 {{ import "
          "all; export filter to_wan6; }};\n  connect delay time 1;\n  connect retry time "
          "2;\n}}\n",
          router.wan_address_v6, router.as, other.wan_address_v6, other.as);
    }
  }
  return c;
}

}  // namespace coral::lab
