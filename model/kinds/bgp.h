// BGP kinds: BGPConfiguration (cluster-wide "default" or per node "node.<name>") and
// BGPPeer (a session from some nodes to a router, a route reflector or another node).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "model/meta.h"

namespace coral::model {

struct CommunityDef {
  std::string name;
  std::string value;  // aa:nn or aa:nn:mm
  template <class V>
  void describe(V& v) {
    v("name", name, {.required = true});
    v("value", value, {.required = true, .pattern = kCommunityShape});
  }
  void validate(Validation& v) const;
  bool operator==(const CommunityDef&) const = default;
};

struct PrefixAdvertisement {
  std::string cidr;
  std::vector<std::string> communities;  // names from spec.communities or literal values
  template <class V>
  void describe(V& v) {
    v("cidr", cidr, {.required = true});
    v("communities", communities);
  }
  bool operator==(const PrefixAdvertisement&) const = default;
};

struct CidrEntry {
  std::string cidr;
  template <class V>
  void describe(V& v) {
    v("cidr", cidr, {.required = true, .pattern = kCidrShape});
  }
  void validate(Validation& v) const;
  bool operator==(const CidrEntry&) const = default;
};

struct BGPConfigurationSpec {
  std::optional<uint32_t> as_number;      // default 64512 (in "default")
  std::optional<bool> node_to_node_mesh;  // default true
  std::optional<int> listen_port;         // default 179
  std::vector<CommunityDef> communities;
  std::vector<PrefixAdvertisement> prefix_advertisements;
  std::vector<CidrEntry> service_cluster_ips;
  std::vector<CidrEntry> service_external_ips;
  std::vector<CidrEntry> service_load_balancer_ips;

  template <class V>
  void describe(V& v) {
    v("asNumber", as_number, {.minimum = 1, .doc = "Default AS of nodes"});
    v("nodeToNodeMesh", node_to_node_mesh);
    v("listenPort", listen_port, {.minimum = 1, .maximum = 65535});
    v("communities", communities);
    v("prefixAdvertisements", prefix_advertisements);
    v("serviceClusterIPs", service_cluster_ips);
    v("serviceExternalIPs", service_external_ips);
    v("serviceLoadBalancerIPs", service_load_balancer_ips);
  }
  void validate(Validation& v) const;
  bool operator==(const BGPConfigurationSpec&) const = default;
};

struct BGPConfiguration {
  static constexpr const char* kKind = "BGPConfiguration";
  ObjectMeta metadata;
  BGPConfigurationSpec spec;
  static void applyDefaults(BGPConfiguration& config);
  static void validateObject(const BGPConfiguration& config, Validation& v);
  bool operator==(const BGPConfiguration&) const = default;
};

struct PrefixLengthRange {
  std::optional<int> min;
  std::optional<int> max;
  template <class V>
  void describe(V& v) {
    v("min", min, {.minimum = 0, .maximum = 128});
    v("max", max, {.minimum = 0, .maximum = 128});
  }
  bool operator==(const PrefixLengthRange&) const = default;
};

// One import or export filter rule; rules are tried in order, the first match decides.
struct BGPFilterRule {
  std::string action;  // Accept | Reject
  std::string cidr;    // match prefixes inside this range (empty: any)
  std::optional<PrefixLengthRange> prefix_length;
  std::string community;  // match routes carrying this community
  std::vector<std::string> add_communities;
  std::optional<int> prepend_as_path;  // prepend our AS this many times
  std::optional<uint32_t> local_pref;

  template <class V>
  void describe(V& v) {
    v("action", action, {.required = true, .enum_values = {"Accept", "Reject"}});
    v("cidr", cidr);
    v("prefixLength", prefix_length);
    v("community", community);
    v("addCommunities", add_communities);
    v("prependASPath", prepend_as_path, {.minimum = 1, .maximum = 16});
    v("localPref", local_pref);
  }
  void validate(Validation& v) const;
  bool operator==(const BGPFilterRule&) const = default;
};

struct GracefulRestart {
  std::optional<bool> enabled;              // default true
  std::optional<int> restart_time_seconds;  // default 120
  template <class V>
  void describe(V& v) {
    v("enabled", enabled);
    v("restartTimeSeconds", restart_time_seconds, {.minimum = 1, .maximum = 4095});
  }
  bool operator==(const GracefulRestart&) const = default;
};

struct BGPPeerSpec {
  std::string node;           // only this node peers (empty: see nodeSelector)
  std::string node_selector;  // nodes that peer (empty and no node: all nodes)
  std::string peer_ip;        // "10.0.0.1", "10.0.0.1:1179", "[fd00::1]:1179"
  std::string peer_selector;  // peer with the Coral nodes matching this, instead of peerIP
  std::optional<uint32_t> as_number;
  std::string password;
  std::optional<int> hold_time_seconds;  // 0 or 3-65535; default 90
  std::optional<int> ebgp_multihop;      // TTL for multihop eBGP
  std::optional<int> ttl_security;       // GTSM: accepted hops
  std::optional<GracefulRestart> graceful_restart;
  std::string source_address;  // UseNodeIP (default) | None
  std::string next_hop_mode;   // Auto (default) | Self | Keep
  bool passive = false;        // wait for the peer to connect
  std::optional<int64_t> max_prefixes;
  std::vector<BGPFilterRule> import_filters;
  std::vector<BGPFilterRule> export_filters;

  template <class V>
  void describe(V& v) {
    v("node", node);
    v("nodeSelector", node_selector);
    v("peerIP", peer_ip);
    v("peerSelector", peer_selector);
    v("asNumber", as_number, {.minimum = 1});
    v("password", password);
    v("holdTimeSeconds", hold_time_seconds, {.minimum = 0, .maximum = 65535});
    v("ebgpMultihop", ebgp_multihop, {.minimum = 1, .maximum = 255});
    v("ttlSecurity", ttl_security, {.minimum = 1, .maximum = 254});
    v("gracefulRestart", graceful_restart);
    v("sourceAddress", source_address,
      {.enum_values = {"UseNodeIP", "None"}, .default_json = "\"UseNodeIP\""});
    v("nextHopMode", next_hop_mode,
      {.enum_values = {"Auto", "Self", "Keep"}, .default_json = "\"Auto\""});
    v("passive", passive);
    v("maxPrefixes", max_prefixes, {.minimum = 1});
    v("importFilters", import_filters);
    v("exportFilters", export_filters);
  }
  void validate(Validation& v) const;
  bool operator==(const BGPPeerSpec&) const = default;
};

struct BGPPeer {
  static constexpr const char* kKind = "BGPPeer";
  ObjectMeta metadata;
  BGPPeerSpec spec;
  static void applyDefaults(BGPPeer& peer);
  bool operator==(const BGPPeer&) const = default;
};

// "10.0.0.1", "10.0.0.1:1179", "fd00::1", "[fd00::1]:1179" → address and port (179 default).
struct PeerEndpoint {
  common::IpAddress address;
  int port = 179;
};
absl::StatusOr<PeerEndpoint> parsePeerEndpoint(std::string_view text);

}  // namespace coral::model
