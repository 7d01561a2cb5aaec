// YAML → DaemonConfig with yaml-cpp. Errors name the key and the value.
#include "bgp/bgpd/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/status.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

absl::Status bad(const std::string& where, const std::string& why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", where, why));
}

template <typename T>
absl::StatusOr<T> scalar(const YAML::Node& node, const std::string& where) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception& e) {
    return bad(where, fmt::format("\"{}\" is not a valid value", YAML::Dump(node)));
  }
}

absl::StatusOr<common::IpAddress> address(const YAML::Node& node, const std::string& where) {
  CORAL_ASSIGN_OR_RETURN(std::string text, scalar<std::string>(node, where));
  auto a = common::IpAddress::parse(text);
  if (!a.ok()) return bad(where, fmt::format("\"{}\" is not an IP address", text));
  return *a;
}

absl::StatusOr<common::Prefix> prefixOf(const YAML::Node& node, const std::string& where) {
  CORAL_ASSIGN_OR_RETURN(std::string text, scalar<std::string>(node, where));
  auto p = common::Prefix::parse(text);
  if (!p.ok()) return bad(where, std::string(errorMessage(p.status())));
  return *p;
}

absl::StatusOr<Community> community(const YAML::Node& node, const std::string& where) {
  CORAL_ASSIGN_OR_RETURN(std::string text, scalar<std::string>(node, where));
  auto c = parseCommunity(text);
  if (!c.ok()) return bad(where, std::string(errorMessage(c.status())));
  return *c;
}

void addCommunity(PathAttributes& attrs, const Community& c) {
  if (c.standard) attrs.communities.push_back(*c.standard);
  if (c.large) attrs.large_communities.push_back(*c.large);
}

absl::StatusOr<Filter> filterOf(const YAML::Node& node, const std::string& where) {
  Filter f;
  if (!node) return f;
  if (!node.IsSequence()) return bad(where, "must be a list of rules");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node r = node[i];
    const std::string at = fmt::format("{}[{}]", where, i);
    FilterRule rule;
    CORAL_ASSIGN_OR_RETURN(std::string action, scalar<std::string>(r["action"], at + ".action"));
    if (action == "Accept") {
      rule.action = FilterRule::Action::kAccept;
    } else if (action == "Reject") {
      rule.action = FilterRule::Action::kReject;
    } else {
      return bad(at + ".action", fmt::format("\"{}\" is not Accept or Reject", action));
    }
    if (r["cidr"]) {
      CORAL_ASSIGN_OR_RETURN(rule.within, prefixOf(r["cidr"], at + ".cidr"));
    }
    if (auto pl = r["prefixLength"]) {
      if (pl["min"]) {
        CORAL_ASSIGN_OR_RETURN(rule.min_length, scalar<int>(pl["min"], at + ".prefixLength.min"));
      }
      if (pl["max"]) {
        CORAL_ASSIGN_OR_RETURN(rule.max_length, scalar<int>(pl["max"], at + ".prefixLength.max"));
      }
    }
    if (r["community"]) {
      CORAL_ASSIGN_OR_RETURN(rule.community, community(r["community"], at + ".community"));
    }
    if (auto add = r["addCommunities"]) {
      for (size_t j = 0; j < add.size(); ++j) {
        CORAL_ASSIGN_OR_RETURN(Community c,
                               community(add[j], fmt::format("{}.addCommunities[{}]", at, j)));
        rule.add_communities.push_back(c);
      }
    }
    if (r["prependASPath"]) {
      CORAL_ASSIGN_OR_RETURN(rule.prepend_as_path,
                             scalar<int>(r["prependASPath"], at + ".prependASPath"));
    }
    if (r["localPref"]) {
      CORAL_ASSIGN_OR_RETURN(rule.local_pref, scalar<uint32_t>(r["localPref"], at + ".localPref"));
    }
    f.rules.push_back(std::move(rule));
  }
  return f;
}

// The neighbour keys shared by static and dynamic neighbours.
absl::Status peerOptions(const YAML::Node& n, const std::string& at, PeerConfig& pc) {
  if (n["asNumber"]) {
    CORAL_ASSIGN_OR_RETURN(pc.peer_as, scalar<uint32_t>(n["asNumber"], at + ".asNumber"));
  }
  if (n["name"]) {
    CORAL_ASSIGN_OR_RETURN(pc.name, scalar<std::string>(n["name"], at + ".name"));
  }
  if (n["password"]) {
    CORAL_ASSIGN_OR_RETURN(pc.password, scalar<std::string>(n["password"], at + ".password"));
  }
  if (n["holdTimeSeconds"]) {
    CORAL_ASSIGN_OR_RETURN(int hold, scalar<int>(n["holdTimeSeconds"], at + ".holdTimeSeconds"));
    if (hold != 0 && (hold < 3 || hold > 65535)) {
      return bad(at + ".holdTimeSeconds", "must be 0 or 3..65535");
    }
    pc.hold_time_s = static_cast<uint16_t>(hold);
  }
  if (n["connectRetrySeconds"]) {
    CORAL_ASSIGN_OR_RETURN(pc.connect_retry_s,
                           scalar<uint16_t>(n["connectRetrySeconds"], at + ".connectRetrySeconds"));
  }
  if (n["ebgpMultihop"]) {
    CORAL_ASSIGN_OR_RETURN(pc.ebgp_multihop, scalar<int>(n["ebgpMultihop"], at + ".ebgpMultihop"));
  }
  if (n["ttlSecurity"]) {
    CORAL_ASSIGN_OR_RETURN(pc.ttl_security, scalar<int>(n["ttlSecurity"], at + ".ttlSecurity"));
  }
  if (auto gr = n["gracefulRestart"]) {
    if (gr["enabled"]) {
      CORAL_ASSIGN_OR_RETURN(pc.graceful_restart,
                             scalar<bool>(gr["enabled"], at + ".gracefulRestart.enabled"));
    }
    if (gr["restartTimeSeconds"]) {
      CORAL_ASSIGN_OR_RETURN(
          pc.restart_time_s,
          scalar<uint16_t>(gr["restartTimeSeconds"], at + ".gracefulRestart.restartTimeSeconds"));
    }
  }
  if (n["nextHopMode"]) {
    CORAL_ASSIGN_OR_RETURN(std::string mode,
                           scalar<std::string>(n["nextHopMode"], at + ".nextHopMode"));
    if (mode == "Auto") {
      pc.next_hop_mode = NextHopMode::kAuto;
    } else if (mode == "Self") {
      pc.next_hop_mode = NextHopMode::kSelf;
    } else if (mode == "Keep") {
      pc.next_hop_mode = NextHopMode::kKeep;
    } else {
      return bad(at + ".nextHopMode", fmt::format("\"{}\" is not Auto, Self or Keep", mode));
    }
  }
  if (n["passive"]) {
    CORAL_ASSIGN_OR_RETURN(pc.passive, scalar<bool>(n["passive"], at + ".passive"));
  }
  if (n["maxPrefixes"]) {
    CORAL_ASSIGN_OR_RETURN(pc.max_prefixes,
                           scalar<uint64_t>(n["maxPrefixes"], at + ".maxPrefixes"));
  }
  if (n["routeReflectorClient"]) {
    CORAL_ASSIGN_OR_RETURN(pc.rr_client,
                           scalar<bool>(n["routeReflectorClient"], at + ".routeReflectorClient"));
  }
  if (n["softReconfigurationInbound"]) {
    CORAL_ASSIGN_OR_RETURN(
        pc.soft_reconfiguration_inbound,
        scalar<bool>(n["softReconfigurationInbound"], at + ".softReconfigurationInbound"));
  }
  if (n["sourceAddress"]) {
    CORAL_ASSIGN_OR_RETURN(pc.local_address, address(n["sourceAddress"], at + ".sourceAddress"));
  }
  if (n["nextHopSelfV4"]) {
    CORAL_ASSIGN_OR_RETURN(pc.next_hop_self_v4, address(n["nextHopSelfV4"], at + ".nextHopSelfV4"));
  }
  if (n["nextHopSelfV6"]) {
    CORAL_ASSIGN_OR_RETURN(pc.next_hop_self_v6, address(n["nextHopSelfV6"], at + ".nextHopSelfV6"));
  }
  CORAL_ASSIGN_OR_RETURN(pc.import_filter, filterOf(n["importFilters"], at + ".importFilters"));
  CORAL_ASSIGN_OR_RETURN(pc.export_filter, filterOf(n["exportFilters"], at + ".exportFilters"));
  return absl::OkStatus();
}

// "10.0.0.1", "10.0.0.1:1179", "fd00::1", "[fd00::1]:1179".
absl::Status peerEndpoint(const std::string& text, const std::string& at, PeerConfig& pc) {
  std::string host = text;
  std::optional<uint16_t> port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return bad(at, fmt::format("\"{}\" lacks ]", text));
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return bad(at, fmt::format("\"{}\": junk after ]", text));
      port = parseInt<uint16_t>(std::string_view(text).substr(close + 2));
      if (!port) return bad(at, fmt::format("\"{}\": bad port", text));
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = parseInt<uint16_t>(std::string_view(text).substr(colon + 1));
    if (!port) return bad(at, fmt::format("\"{}\": bad port", text));
  }
  auto a = common::IpAddress::parse(host);
  if (!a.ok()) return bad(at, fmt::format("\"{}\" is not an IP address", text));
  pc.address = *a;
  if (port) pc.port = *port;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DaemonConfig> parseDaemonConfig(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(fmt::format("config is not YAML: {}", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("config must be a YAML map");
  DaemonConfig dc;
  SpeakerConfig& sc = dc.speaker;
  if (!root["routerID"]) return bad("routerID", "is required");
  CORAL_ASSIGN_OR_RETURN(common::IpAddress rid, address(root["routerID"], "routerID"));
  if (!rid.isV4()) return bad("routerID", "must be an IPv4 address");
  sc.router_id = rid.v4Value();
  if (!root["asNumber"]) return bad("asNumber", "is required");
  CORAL_ASSIGN_OR_RETURN(sc.local_as, scalar<uint32_t>(root["asNumber"], "asNumber"));
  if (root["listenAddress"]) {
    CORAL_ASSIGN_OR_RETURN(sc.listen_address, address(root["listenAddress"], "listenAddress"));
  }
  if (root["listenPort"]) {
    CORAL_ASSIGN_OR_RETURN(sc.listen_port, scalar<uint16_t>(root["listenPort"], "listenPort"));
  }
  if (root["listen"]) {
    CORAL_ASSIGN_OR_RETURN(sc.listen, scalar<bool>(root["listen"], "listen"));
  }
  if (root["clusterID"]) {
    CORAL_ASSIGN_OR_RETURN(common::IpAddress cid, address(root["clusterID"], "clusterID"));
    if (!cid.isV4()) return bad("clusterID", "must be an IPv4 address");
    sc.cluster_id = cid.v4Value();
  }
  if (root["selectionDeferralSeconds"]) {
    CORAL_ASSIGN_OR_RETURN(
        sc.selection_deferral_s,
        scalar<uint16_t>(root["selectionDeferralSeconds"], "selectionDeferralSeconds"));
  }
  if (root["maxPaths"]) {
    CORAL_ASSIGN_OR_RETURN(sc.max_paths, scalar<size_t>(root["maxPaths"], "maxPaths"));
  }
  if (root["statusSocket"]) {
    CORAL_ASSIGN_OR_RETURN(dc.status_socket,
                           scalar<std::string>(root["statusSocket"], "statusSocket"));
  }
  if (auto k = root["kernel"]) {
    if (k["install"]) {
      CORAL_ASSIGN_OR_RETURN(dc.kernel_install, scalar<bool>(k["install"], "kernel.install"));
    }
    if (k["protocol"]) {
      CORAL_ASSIGN_OR_RETURN(int proto, scalar<int>(k["protocol"], "kernel.protocol"));
      if (proto < 1 || proto > 255) return bad("kernel.protocol", "must be 1..255");
      dc.kernel_protocol = static_cast<uint8_t>(proto);
    }
  }
  if (auto ps = root["prefixes"]) {
    for (size_t i = 0; i < ps.size(); ++i) {
      const std::string at = fmt::format("prefixes[{}]", i);
      Origination o;
      CORAL_ASSIGN_OR_RETURN(o.prefix, prefixOf(ps[i]["cidr"], at + ".cidr"));
      if (auto cs = ps[i]["communities"]) {
        for (size_t j = 0; j < cs.size(); ++j) {
          CORAL_ASSIGN_OR_RETURN(Community c,
                                 community(cs[j], fmt::format("{}.communities[{}]", at, j)));
          addCommunity(o.attrs, c);
        }
      }
      dc.prefixes.push_back(std::move(o));
    }
  }
  YAML::Node ns = root["neighbours"] ? root["neighbours"] : root["peers"];
  for (size_t i = 0; ns && i < ns.size(); ++i) {
    const std::string at = fmt::format("neighbours[{}]", i);
    PeerConfig pc;
    CORAL_ASSIGN_OR_RETURN(std::string ip, scalar<std::string>(ns[i]["peerIP"], at + ".peerIP"));
    CORAL_RETURN_IF_ERROR(peerEndpoint(ip, at + ".peerIP", pc));
    CORAL_RETURN_IF_ERROR(peerOptions(ns[i], at, pc));
    if (pc.peer_as == 0) return bad(at + ".asNumber", "is required");
    for (const PeerConfig& other : sc.peers) {
      if (other.address == pc.address) return bad(at + ".peerIP", "is configured twice");
    }
    sc.peers.push_back(std::move(pc));
  }
  if (auto ds = root["dynamicNeighbours"]) {
    for (size_t i = 0; i < ds.size(); ++i) {
      const std::string at = fmt::format("dynamicNeighbours[{}]", i);
      DynamicNeighbourConfig dn;
      CORAL_ASSIGN_OR_RETURN(dn.prefix, prefixOf(ds[i]["prefix"], at + ".prefix"));
      CORAL_RETURN_IF_ERROR(peerOptions(ds[i], at, dn.peer));
      dn.peer.passive = true;
      sc.dynamic_neighbours.push_back(std::move(dn));
    }
  }
  return dc;
}

absl::StatusOr<DaemonConfig> loadDaemonConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(fmt::format("cannot read config {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = parseDaemonConfig(ss.str());
  if (!parsed.ok()) return annotate(parsed.status(), path);
  return parsed;
}

}  // namespace coral::bgp
