#include "model/kinds/bgp.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "model/validators.h"

namespace coral::model {

void CommunityDef::validate(Validation& v) const { checkCommunity(v.at("value"), value); }

void CidrEntry::validate(Validation& v) const { checkCidr(v.at("cidr"), cidr); }

void BGPConfigurationSpec::validate(Validation& v) const {
  for (size_t i = 0; i < prefix_advertisements.size(); ++i) {
    const auto& adv = prefix_advertisements[i];
    Validation at = v.at("prefixAdvertisements").at(i);
    checkCidr(at.at("cidr"), adv.cidr);
    for (size_t c = 0; c < adv.communities.size(); ++c) {
      const std::string& community = adv.communities[c];
      bool named = false;
      for (const auto& def : communities) named = named || def.name == community;
      if (!named) checkCommunity(at.at("communities").at(c), community);
    }
  }
}

void BGPConfiguration::applyDefaults(BGPConfiguration& config) {
  // Only the cluster-wide resource gets defaults: a per-node "node.<name>" resource that
  // leaves a field out inherits it from "default" rather than overriding it.
  if (config.metadata.name != "default") return;
  if (!config.spec.as_number) config.spec.as_number = 64512;
  if (!config.spec.node_to_node_mesh) config.spec.node_to_node_mesh = true;
  if (!config.spec.listen_port) config.spec.listen_port = 179;
}

void BGPConfiguration::validateObject(const BGPConfiguration& config, Validation& v) {
  const std::string& name = config.metadata.name;
  if (name != "default" && name.rfind("node.", 0) != 0) {
    v.at("metadata")
        .at("name")
        .error(fmt::format("\"{}\": a BGPConfiguration is named \"default\" (cluster-wide) or "
                           "\"node.<node name>\"",
                           name));
  }
}

void BGPFilterRule::validate(Validation& v) const {
  std::optional<common::Prefix> range;
  if (!cidr.empty()) range = checkCidr(v.at("cidr"), cidr);
  if (!community.empty()) checkCommunity(v.at("community"), community);
  for (size_t i = 0; i < add_communities.size(); ++i) {
    checkCommunity(v.at("addCommunities").at(i), add_communities[i]);
  }
  if (prefix_length) {
    const int bits = range ? range->address().bitLength() : 128;
    const int lo = prefix_length->min.value_or(range ? range->length() : 0);
    const int hi = prefix_length->max.value_or(bits);
    if (lo > hi) {
      v.at("prefixLength").error(fmt::format("min {} is greater than max {}", lo, hi));
    }
    if (hi > bits)
      v.at("prefixLength").at("max").error(fmt::format("{} is longer than /{}", hi, bits));
    if (range && lo < range->length()) {
      v.at("prefixLength")
          .at("min")
          .error(fmt::format("{} is shorter than the cidr's /{}", lo, range->length()));
    }
  }
  if (action == "Reject" && (!add_communities.empty() || prepend_as_path || local_pref)) {
    v.at("action").error("a Reject rule cannot also change attributes");
  }
}

absl::StatusOr<PeerEndpoint> parsePeerEndpoint(std::string_view text) {
  PeerEndpoint out;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("\"{}\": missing ']'", text));
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return absl::InvalidArgumentError(fmt::format("\"{}\": expected ':' after ']'", text));
      }
      port = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = common::IpAddress::parse(host);
  if (!ip.ok()) return ip.status();
  out.address = *ip;
  if (!port.empty() || (text.size() && text.back() == ':')) {
    auto p = parseInt<int>(port);
    if (!p || *p < 1 || *p > 65535) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}\": port \"{}\" is not a number 1-65535", text, port));
    }
    out.port = *p;
  }
  return out;
}

void BGPPeerSpec::validate(Validation& v) const {
  if (peer_ip.empty() == peer_selector.empty()) {
    v.error("exactly one of peerIP and peerSelector must be set");
  }
  if (!peer_ip.empty()) {
    auto endpoint = parsePeerEndpoint(peer_ip);
    if (!endpoint.ok()) v.at("peerIP").error(errorMessage(endpoint.status()));
    if (!as_number) v.at("asNumber").error("required field is missing when peerIP is set");
  }
  if (!node.empty() && !node_selector.empty()) {
    v.error("node and nodeSelector cannot both be set");
  }
  if (!node_selector.empty()) checkSelector(v.at("nodeSelector"), node_selector);
  if (!peer_selector.empty()) checkSelector(v.at("peerSelector"), peer_selector);
  if (hold_time_seconds && *hold_time_seconds > 0 && *hold_time_seconds < 3) {
    v.at("holdTimeSeconds")
        .error(fmt::format("{} is not allowed: 0 (no keepalives) or 3-65535 (RFC 4271)",
                           *hold_time_seconds));
  }
  if (ebgp_multihop && ttl_security) {
    v.error("ebgpMultihop and ttlSecurity cannot both be set (GTSM fixes the TTL at 255)");
  }
  if (password.size() > 80) v.at("password").error("is longer than 80 bytes (TCP MD5 limit)");
}

void BGPPeer::applyDefaults(BGPPeer& peer) {
  if (peer.spec.source_address.empty()) peer.spec.source_address = "UseNodeIP";
  if (peer.spec.next_hop_mode.empty()) peer.spec.next_hop_mode = "Auto";
}

}  // namespace coral::model
