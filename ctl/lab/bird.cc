#include "ctl/lab/bird.h"

#include <fmt/format.h>

namespace coral::lab {

std::string birdConfig(const LabState& state, const LabRouter& router, const DataCenter& dc) {
  // With VXLAN the routers are a plain underlay: they learn no pod range at all (no BGP
  // from the nodes, no DC aggregate), only the other DC's node subnet over the WAN.
  const bool encapsulated = state.config.encapsulation != "None";
  std::string c;
  c += fmt::format("# BIRD 2 for lab {} router {} (AS {}), written by coralctl lab.\n", state.name,
                   router.name, router.as);
  c += fmt::format("log \"{}/logs/{}.bird.log\" all;\n", state.dir, router.name);
  c += fmt::format("router id {};\n\n", router.address);
  c += "protocol device { scan time 5; }\n";
  c += "protocol direct { ipv4; interface \"br0\", \"wan0\"; }\n";
  // Routes learned by BGP go into this namespace's kernel table so the router forwards.
  c += "protocol kernel {\n  ipv4 { import none; export filter { if source = RTS_BGP then "
       "accept; reject; }; };\n  merge paths on;\n}\n";
  if (!encapsulated) {
    c += fmt::format("protocol static dc_aggregate {{\n  ipv4;\n  route {} unreachable;\n}}\n\n",
                     dc.pods);
  }
  c += fmt::format("define DC_PODS = [ {}{{{},32}} ];\n", dc.pods,
                   dc.pods.substr(dc.pods.find('/') + 1));
  c += "filter from_nodes { if net ~ DC_PODS then accept; reject; }\n";
  c += encapsulated
           ? "filter to_wan { if source = RTS_DEVICE then accept; reject; }\n\n"
           : "filter to_wan { if proto = \"dc_aggregate\" then accept; if source = RTS_DEVICE "
             "then accept; reject; }\n\n";
  c += fmt::format(
      "template bgp node_peer {{\n  local {} as {};\n  ipv4 {{ import filter from_nodes; "
      "export none; }};\n  graceful restart on;\n  connect delay time 1;\n  connect retry time "
      "2;\n}}\n",
      router.address, router.as);
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
  }
  return c;
}

}  // namespace coral::lab
