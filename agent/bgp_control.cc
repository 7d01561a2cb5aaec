#include "agent/bgp_control.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "bgp/speaker/speaker.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "policy/selector/selector.h"

namespace coral::agent {
namespace {

constexpr uint32_t kDefaultAs = 64512;

std::optional<common::IpAddress> addressPart(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto ip = common::IpAddress::parse(text.substr(0, text.find('/')));
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

bool selects(const std::string& selector, const common::Labels& labels) {
  if (selector.empty()) return true;
  auto s = policy::Selector::parse(selector);
  return s.ok() && s->matches(labels);
}

absl::StatusOr<bgp::Filter> filterOf(const std::vector<model::BGPFilterRule>& rules) {
  bgp::Filter f;
  for (const auto& r : rules) {
    bgp::FilterRule rule;
    rule.action =
        r.action == "Reject" ? bgp::FilterRule::Action::kReject : bgp::FilterRule::Action::kAccept;
    if (!r.cidr.empty()) {
      auto p = common::Prefix::parse(r.cidr);
      if (!p.ok()) return p.status();
      rule.within = *p;
    }
    if (r.prefix_length) {
      rule.min_length = r.prefix_length->min;
      rule.max_length = r.prefix_length->max;
    }
    if (!r.community.empty()) {
      auto c = bgp::parseCommunity(r.community);
      if (!c.ok()) return c.status();
      rule.community = *c;
    }
    for (const auto& text : r.add_communities) {
      auto c = bgp::parseCommunity(text);
      if (!c.ok()) return c.status();
      rule.add_communities.push_back(*c);
    }
    rule.prepend_as_path = r.prepend_as_path.value_or(0);
    rule.local_pref = r.local_pref;
    f.rules.push_back(std::move(rule));
  }
  return f;
}

uint32_t nodeAs(const model::Node& node, const std::vector<model::BGPConfiguration>& configs) {
  if (node.spec.as_number) return *node.spec.as_number;
  for (const auto& c : configs) {
    if (c.metadata.name == "node." + node.metadata.name && c.spec.as_number)
      return *c.spec.as_number;
  }
  for (const auto& c : configs) {
    if (c.metadata.name == "default" && c.spec.as_number) return *c.spec.as_number;
  }
  return kDefaultAs;
}

}  // namespace

absl::StatusOr<std::optional<bgp::SpeakerConfig>> speakerConfigFor(const BgpInputs& in) {
  const model::Node* self = nullptr;
  for (const auto& n : in.nodes) {
    if (n.metadata.name == in.self) self = &n;
  }
  if (self == nullptr) return std::optional<bgp::SpeakerConfig>();
  auto router_ip = addressPart(self->spec.ipv4_address);
  if (!router_ip || !router_ip->isV4()) return std::optional<bgp::SpeakerConfig>();
  const model::BGPConfiguration* global = nullptr;
  const model::BGPConfiguration* mine = nullptr;
  for (const auto& c : in.configs) {
    if (c.metadata.name == "default") global = &c;
    if (c.metadata.name == "node." + in.self) mine = &c;
  }
  auto pick = [&](auto field) {
    if (mine && (mine->spec.*field)) return mine->spec.*field;
    if (global) return global->spec.*field;
    return decltype(mine->spec.*field){};
  };

  bgp::SpeakerConfig config;
  config.router_id = router_ip->v4Value();
  config.local_as = nodeAs(*self, in.configs);
  config.listen_address = common::IpAddress::zero(common::Family::kV4);
  config.listen_port =
      static_cast<uint16_t>(pick(&model::BGPConfigurationSpec::listen_port).value_or(179));
  config.restarting = in.restarting;
  if (!self->spec.route_reflector_cluster_id.empty()) {
    if (auto id = common::IpAddress::parse(self->spec.route_reflector_cluster_id); id.ok()) {
      config.cluster_id = id->v4Value();
    }
  }
  const auto self_v6 = addressPart(self->spec.ipv6_address);
  std::set<common::IpAddress> seen;
  auto addPeer = [&](bgp::PeerConfig peer) {
    if (peer.address == *router_ip || !seen.insert(peer.address).second) return;
    peer.next_hop_self_v4 = *router_ip;
    if (self_v6) peer.next_hop_self_v6 = *self_v6;
    peer.connect_retry_s = 5;
    config.peers.push_back(std::move(peer));
  };

  // Explicit peers first, so their options win over the mesh for the same address.
  for (const auto& p : in.peers) {
    const auto& s = p.spec;
    if (!s.node.empty() && s.node != in.self) continue;
    if (s.node.empty() && !selects(s.node_selector, self->metadata.labels)) continue;
    std::vector<bgp::PeerConfig> targets;
    bgp::PeerConfig base;
    base.password = s.password;
    base.hold_time_s = static_cast<uint16_t>(s.hold_time_seconds.value_or(90));
    base.ebgp_multihop = s.ebgp_multihop.value_or(0);
    base.ttl_security = s.ttl_security.value_or(0);
    base.graceful_restart = !s.graceful_restart || s.graceful_restart->enabled.value_or(true);
    if (s.graceful_restart && s.graceful_restart->restart_time_seconds) {
      base.restart_time_s = static_cast<uint16_t>(*s.graceful_restart->restart_time_seconds);
    }
    base.next_hop_mode = s.next_hop_mode == "Self"   ? bgp::NextHopMode::kSelf
                         : s.next_hop_mode == "Keep" ? bgp::NextHopMode::kKeep
                                                     : bgp::NextHopMode::kAuto;
    base.passive = s.passive;
    base.max_prefixes = static_cast<uint64_t>(s.max_prefixes.value_or(0));
    auto imp = filterOf(s.import_filters);
    if (!imp.ok()) return annotate(imp.status(), p.metadata.name);
    auto exp = filterOf(s.export_filters);
    if (!exp.ok()) return annotate(exp.status(), p.metadata.name);
    base.import_filter = *imp;
    base.export_filter = *exp;
    if (!s.peer_ip.empty()) {
      auto endpoint = model::parsePeerEndpoint(s.peer_ip);
      if (!endpoint.ok()) continue;
      bgp::PeerConfig peer = base;
      peer.name = p.metadata.name;
      peer.address = endpoint->address;
      peer.port = static_cast<uint16_t>(endpoint->port);
      peer.peer_as = s.as_number.value_or(0);
      addPeer(std::move(peer));
    } else {
      for (const auto& n : in.nodes) {
        if (n.metadata.name == in.self || !selects(s.peer_selector, n.metadata.labels)) continue;
        auto ip = addressPart(n.spec.ipv4_address);
        if (!ip) continue;
        bgp::PeerConfig peer = base;
        peer.name = fmt::format("{}/{}", p.metadata.name, n.metadata.name);
        peer.address = *ip;
        peer.peer_as = s.as_number.value_or(nodeAs(n, in.configs));
        // This node reflects for the selected nodes when it is a route reflector.
        peer.rr_client = !self->spec.route_reflector_cluster_id.empty() &&
                         n.spec.route_reflector_cluster_id.empty();
        addPeer(std::move(peer));
      }
    }
  }
  const bool mesh = pick(&model::BGPConfigurationSpec::node_to_node_mesh).value_or(true);
  if (mesh) {
    for (const auto& n : in.nodes) {
      if (n.metadata.name == in.self) continue;
      auto ip = addressPart(n.spec.ipv4_address);
      if (!ip) continue;
      bgp::PeerConfig peer;
      peer.name = "mesh/" + n.metadata.name;
      peer.address = *ip;
      peer.peer_as = nodeAs(n, in.configs);
      addPeer(std::move(peer));
    }
  }
  return std::optional<bgp::SpeakerConfig>(std::move(config));
}

BgpControl::BgpControl(std::function<void()> on_routes_changed)
    : on_routes_changed_(std::move(on_routes_changed)) {}

BgpControl::~BgpControl() { stop(); }

void BgpControl::stop() {
  std::unique_ptr<bgp::Speaker> speaker;
  {
    std::lock_guard lock(speaker_mu_);
    speaker = std::move(speaker_);
  }
}

absl::Status BgpControl::sync(const BgpInputs& in) {
  auto wanted = speakerConfigFor(in);
  if (!wanted.ok()) return wanted.status();
  if (!*wanted) return absl::OkStatus();  // not registered yet
  if (!speaker_) {
    auto started =
        bgp::Speaker::start(**wanted, [this](const std::vector<bgp::BestPathChange>& changes) {
          {
            std::lock_guard lock(mu_);
            for (const auto& c : changes) {
              if (c.withdrawn || c.local || c.next_hops.empty()) {
                learned_.erase(c.prefix);
              } else {
                learned_[c.prefix] = c.next_hops.front();
              }
            }
            last_learned_change_ = std::chrono::steady_clock::now();
          }
          on_routes_changed_();
        });
    if (!started.ok()) return started.status();
    std::lock_guard lock(speaker_mu_);
    speaker_ = std::move(*started);
    config_ = std::make_unique<bgp::SpeakerConfig>(**wanted);
    log::info("BGP speaker started", {{"as", config_->local_as}, {"peers", config_->peers.size()}});
  } else if (!(*config_ == **wanted)) {
    // The restart flag only matters for the first sessions.
    (*wanted)->restarting = config_->restarting;
    if (!(*config_ == **wanted)) {
      if (auto s = speaker_->reconfigure(**wanted); !s.ok()) return s;
      *config_ = **wanted;
      log::info("BGP speaker reconfigured", {{"peers", config_->peers.size()}});
    }
  }
  std::vector<common::Prefix> next = in.originate;
  std::sort(next.begin(), next.end());
  for (const auto& p : originated_) {
    if (!std::binary_search(next.begin(), next.end(), p)) speaker_->withdraw(p);
  }
  for (const auto& p : next) {
    if (!std::binary_search(originated_.begin(), originated_.end(), p)) speaker_->originate(p);
  }
  originated_ = std::move(next);
  return absl::OkStatus();
}

std::map<common::Prefix, common::IpAddress> BgpControl::learnedRoutes() const {
  std::lock_guard lock(mu_);
  return learned_;
}

bool BgpControl::converged(std::chrono::steady_clock::time_point now,
                           std::chrono::seconds quiet) const {
  std::vector<bgp::PeerStatus> peers;
  {
    std::lock_guard lock(speaker_mu_);
    if (!speaker_) return false;
    peers = speaker_->peers();
  }
  for (const auto& p : peers) {
    if (p.dynamic) continue;
    if (p.state != "Established") return false;
    if (std::chrono::seconds(p.uptime_s) < quiet) return false;
  }
  std::lock_guard lock(mu_);
  return now - last_learned_change_ >= quiet;
}

std::vector<bgp::PeerStatus> BgpControl::peers() {
  // Called from the status service's threads while sync() may be starting the speaker.
  std::lock_guard lock(speaker_mu_);
  if (!speaker_) return {};
  return speaker_->peers();
}

}  // namespace coral::agent
