// SpeakerCore lifecycle: listeners and accepting, peers (configured and dynamic),
// reconfiguration in place, shutdown and the status snapshots.
#include "bgp/speaker/core.h"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "bgp/speaker/socket_options.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"

namespace coral::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

common::IpAddress fromAsio(const asio::ip::address& a) {
  if (a.is_v4()) return common::IpAddress::v4(a.to_v4().to_uint());
  if (a.to_v6().is_v4_mapped()) {
    return common::IpAddress::v4(
        asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_uint());
  }
  return common::IpAddress::v6(a.to_v6().to_bytes());
}

// The PeerConfig fields that only change policy: a difference in anything else restarts
// the session.
PeerConfig sessionPart(PeerConfig c) {
  c.name.clear();
  c.import_filter = {};
  c.export_filter = {};
  c.max_prefixes = 0;
  c.next_hop_mode = NextHopMode::kAuto;
  c.next_hop_self_v4.reset();
  c.next_hop_self_v6.reset();
  return c;
}

bool globalChanged(const SpeakerConfig& a, const SpeakerConfig& b) {
  return a.router_id != b.router_id || a.local_as != b.local_as ||
         a.listen_address != b.listen_address || a.listen_port != b.listen_port ||
         a.listen != b.listen || a.listen_any_v6 != b.listen_any_v6 ||
         a.clusterId() != b.clusterId();
}

}  // namespace

SpeakerCore::SpeakerCore(asio::io_context& io, SpeakerConfig config, BestPathCallback cb)
    : io_(io),
      config_(std::move(config)),
      on_best_path_(std::move(cb)),
      rib_(config_.local_as, config_.max_paths),
      started_at_(std::chrono::steady_clock::now()) {}

SpeakerCore::~SpeakerCore() = default;

absl::Status SpeakerCore::start() {
  if (config_.router_id == 0) return absl::InvalidArgumentError("router id must not be 0");
  if (config_.local_as == 0) return absl::InvalidArgumentError("local AS must not be 0");
  if (config_.listen) CORAL_RETURN_IF_ERROR(openListeners());
  for (const PeerConfig& pc : config_.peers) {
    if (peers_.count(pc.address)) {
      return absl::InvalidArgumentError(
          fmt::format("peer {} is configured twice", pc.address.toString()));
    }
    makePeer(pc, /*dynamic=*/false)->start();
  }
  applyListenerKeys();
  if (config_.restarting) {
    deferring_ = true;
    log::info("bgp: restarting, deferring our updates until the peers' End-of-RIB",
              {{"selection_deferral_s", config_.selection_deferral_s}});
    deferral_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    deferral_timer_->expires_after(std::chrono::seconds(config_.selection_deferral_s));
    deferral_timer_->async_wait([this](const boost::system::error_code& error) {
      if (!error && deferring_) endDeferral("selection deferral timer expired");
    });
    maybeEndDeferral();
  }
  return absl::OkStatus();
}

absl::Status SpeakerCore::openListeners() {
  listeners_.clear();
  std::vector<common::IpAddress> addresses = {config_.listen_address};
  if (config_.listen_address.isV4() && config_.listen_address.isUnspecified() &&
      config_.listen_any_v6) {
    addresses.push_back(common::IpAddress::zero(common::Family::kV6));
  }
  uint16_t port = config_.listen_port;
  for (const common::IpAddress& a : addresses) {
    auto acceptor = std::make_unique<tcp::acceptor>(io_);
    const auto address = asio::ip::make_address(a.toString());
    tcp::endpoint endpoint(address, port);
    boost::system::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && a.isV6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      if (&a != &addresses.front()) {  // the extra IPv6 listener is best effort
        log::warn("bgp: no IPv6 listener", {{"error", ec.message()}});
        continue;
      }
      return absl::UnavailableError(
          fmt::format("cannot listen on {} port {}: {}", a.toString(), port, ec.message()));
    }
    port = acceptor->local_endpoint().port();
    listeners_.push_back(std::move(acceptor));
    acceptNext(*listeners_.back());
  }
  listen_port_ = port;
  return absl::OkStatus();
}

void SpeakerCore::applyListenerKeys() {
  for (const auto& acceptor : listeners_) {
    const int fd = acceptor->native_handle();
    const auto family =
        acceptor->local_endpoint().address().is_v4() ? common::Family::kV4 : common::Family::kV6;
    auto set = [&](const common::Prefix& prefix, const std::string& key) {
      if (prefix.family() != family || key.empty()) return;
      if (auto s = setMd5Key(fd, family, prefix, key); !s.ok()) {
        log::warn("bgp: cannot set listener MD5 key", {{"error", errorMessage(s)}});
      }
    };
    for (const PeerConfig& pc : config_.peers) set(common::Prefix::host(pc.address), pc.password);
    for (const auto& dn : config_.dynamic_neighbours) set(dn.prefix, dn.peer.password);
  }
}

void SpeakerCore::acceptNext(tcp::acceptor& acceptor) {
  acceptor.async_accept(
      [this, &acceptor](const boost::system::error_code& error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) onAccepted(std::move(socket));
        acceptNext(acceptor);
      });
}

void SpeakerCore::onAccepted(tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return;
  const common::IpAddress address = fromAsio(remote.address());
  auto it = peers_.find(address);
  if (it != peers_.end()) {
    it->second->accept(std::move(socket));
    return;
  }
  for (const DynamicNeighbourConfig& dn : config_.dynamic_neighbours) {
    if (!dn.prefix.contains(address)) continue;
    PeerConfig pc = dn.peer;
    pc.address = address;
    pc.passive = true;
    if (pc.name.empty()) pc.name = address.toString();
    log::info("bgp: dynamic neighbour",
              {{"peer", address.toString()}, {"range", dn.prefix.toString()}});
    PeerPtr peer = makePeer(pc, /*dynamic=*/true);
    peer->start();
    peer->accept(std::move(socket));
    return;
  }
  log::info("bgp: connection from unknown address refused", {{"from", address.toString()}});
  socket.close(ec);
}

PeerPtr SpeakerCore::makePeer(const PeerConfig& config, bool dynamic) {
  auto peer = std::make_shared<Peer>(io_, *this, config, config_.local_as, config_.router_id,
                                     next_source_id_++, dynamic, restarting());
  peers_[config.address] = peer;
  return peer;
}

bool SpeakerCore::restarting() const {
  return config_.restarting &&
         std::chrono::steady_clock::now() - started_at_ < std::chrono::seconds(120);
}

void SpeakerCore::removePeer(const common::IpAddress& address, std::string_view message) {
  auto it = peers_.find(address);
  if (it == peers_.end()) return;
  PeerPtr peer = it->second;
  peer->stop(message);
  RibChanges changes;
  rib_.withdrawSource(peer->sourceId(), changes);
  peers_.erase(it);
  propagate(changes);
}

void SpeakerCore::shutdown(std::string_view message) {
  for (auto& [address, peer] : peers_) peer->stop(message);
  for (auto& acceptor : listeners_) {
    boost::system::error_code ignored;
    acceptor->close(ignored);
  }
}

absl::Status SpeakerCore::reconfigure(SpeakerConfig config) {
  if (config == config_) return absl::OkStatus();
  if (config.router_id == 0 || config.local_as == 0) {
    return absl::InvalidArgumentError("router id and local AS must not be 0");
  }
  if (globalChanged(config_, config)) {
    // Identity or listener changed: every session restarts.
    log::info("bgp: global settings changed, restarting every session");
    std::vector<common::IpAddress> all;
    for (const auto& [address, peer] : peers_) all.push_back(address);
    for (const auto& a : all) removePeer(a, "configuration changed");
    for (auto& acceptor : listeners_) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
    listeners_.clear();
    config_ = std::move(config);
    rib_.setLocalAs(config_.local_as);
    RibChanges changes;
    rib_.setMaxPaths(config_.max_paths, changes);
    propagate(changes);
    return start();
  }
  const SpeakerConfig old = std::move(config_);
  config_ = std::move(config);
  if (old.max_paths != config_.max_paths) {
    RibChanges changes;
    rib_.setMaxPaths(config_.max_paths, changes);
    propagate(changes);
  }
  std::map<common::IpAddress, const PeerConfig*> wanted;
  for (const PeerConfig& pc : config_.peers) wanted[pc.address] = &pc;
  // Removed peers (dynamic ones stay while their range does).
  std::vector<common::IpAddress> gone;
  for (const auto& [address, peer] : peers_) {
    if (peer->dynamic()) {
      bool covered = false;
      for (const auto& dn : config_.dynamic_neighbours) covered |= dn.prefix.contains(address);
      if (!covered || wanted.count(address)) gone.push_back(address);
    } else if (!wanted.count(address)) {
      gone.push_back(address);
    }
  }
  for (const auto& a : gone) removePeer(a, "peer deconfigured");
  for (const auto& [address, pc] : wanted) {
    auto it = peers_.find(address);
    if (it == peers_.end()) {
      log::info("bgp: peer added", {{"peer", pc->displayName()}});
      makePeer(*pc, false)->start();
      continue;
    }
    PeerPtr peer = it->second;
    if (peer->config() == *pc) continue;
    if (sessionPart(peer->config()) != sessionPart(*pc)) {
      log::info("bgp: peer session settings changed, restarting it", {{"peer", pc->displayName()}});
      removePeer(address, "configuration changed");
      makePeer(*pc, false)->start();
      continue;
    }
    // Policy only: re-filter what the peer sent, re-export what we send; no reset.
    log::info("bgp: peer policy changed", {{"peer", pc->displayName()}});
    peer->setPolicy(*pc);
    if (peer->established()) {
      RibChanges changes;
      reimport(*peer, changes);
      propagate(changes);
      if (!deferring_) sendFullTable(*peer);
    }
  }
  applyListenerKeys();
  return absl::OkStatus();
}

std::vector<PeerStatus> SpeakerCore::peerStatus() const {
  std::vector<PeerStatus> out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [address, peer] : peers_) {
    PeerStatus s;
    const PeerConfig& c = peer->config();
    s.name = c.displayName();
    s.address = address.toString();
    s.peer_as = peer->established() ? peer->context().peer_as : c.peer_as;
    s.local_as = config_.local_as;
    s.state = std::string(sessionStateName(peer->session().state()));
    if (peer->peerOpen()) s.router_id = common::IpAddress::v4(peer->peerOpen()->bgp_id).toString();
    s.ebgp = s.peer_as != config_.local_as;
    s.dynamic = peer->dynamic();
    s.rr_client = c.rr_client;
    if (peer->established()) {
      s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(now - peer->upSince()).count();
    }
    s.prefixes_received = receivedCount(*peer);
    s.prefixes_accepted = acceptedCount(*peer);
    s.prefixes_advertised = peer->adjOut().advertisedCount();
    s.last_error = peer->session().lastError();
    s.families = familyNames(*peer);
    out.push_back(std::move(s));
  }
  if (peers_.empty()) return out;
  // Stale counts in one pass over the RIB.
  std::unordered_map<uint32_t, uint64_t> stale = rib_.staleCounts();
  size_t i = 0;
  for (const auto& [address, peer] : peers_) out[i++].stale_prefixes = stale[peer->sourceId()];
  return out;
}

std::vector<RouteStatus> SpeakerCore::routeStatus(
    const std::optional<common::Prefix>& prefix) const {
  std::vector<RouteStatus> out;
  rib_.forEach([&](const common::Prefix& p, const Destination& d) {
    if (prefix && !(prefix->contains(p) || p == *prefix)) return;
    RouteStatus r;
    r.prefix = p;
    r.reason = std::string(bestPathStepName(d.reason));
    for (size_t i = 0; i < d.paths.size(); ++i) {
      const Path& path = d.paths[i];
      PathStatus ps;
      ps.from = path.source->name;
      if (!path.source->isLocal()) ps.peer_address = path.source->address.toString();
      ps.best = i == 0;
      ps.multipath = i < d.multipath_count;
      ps.stale = path.stale;
      ps.weight = path.weight;
      ps.attrs = *path.attrs;
      r.paths.push_back(std::move(ps));
    }
    out.push_back(std::move(r));
  });
  std::sort(out.begin(), out.end(),
            [](const RouteStatus& a, const RouteStatus& b) { return a.prefix < b.prefix; });
  return out;
}

}  // namespace coral::bgp
