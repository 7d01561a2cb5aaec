// SpeakerCore: everything the speaker's event-loop thread owns — listeners, peers, the
// Loc-RIB, the attribute interner, locally originated routes — and the routing between
// them (import, best path, export). Only ever touched from that thread. Internal to the
// speaker: includes Asio. Lifecycle and status live in core.cc, routing in routing.cc.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "bgp/rib/loc_rib.h"
#include "bgp/speaker/config.h"
#include "bgp/speaker/export.h"
#include "bgp/speaker/peer.h"
#include "bgp/speaker/speaker.h"
#include "bgp/speaker/status.h"

namespace coral::bgp {

class SpeakerCore : public PeerHost {
 public:
  SpeakerCore(boost::asio::io_context& io, SpeakerConfig config, BestPathCallback on_best_path);
  ~SpeakerCore() override;

  absl::Status start();
  void shutdown(std::string_view message);
  absl::Status reconfigure(SpeakerConfig config);
  void originate(const common::Prefix& prefix, PathAttributes attrs);
  void withdraw(const common::Prefix& prefix);
  std::vector<PeerStatus> peerStatus() const;
  std::vector<RouteStatus> routeStatus(const std::optional<common::Prefix>& prefix) const;
  uint16_t listenPort() const { return listen_port_; }

  // PeerHost.
  void peerUp(Peer& peer) override;
  void peerDown(Peer& peer, const std::string& reason, bool graceful) override;
  void peerUpdate(Peer& peer, const Update& update) override;
  void peerRefresh(Peer& peer, const RouteRefresh& refresh) override;

 private:
  // core.cc
  absl::Status openListeners();
  void acceptNext(boost::asio::ip::tcp::acceptor& acceptor);
  void onAccepted(boost::asio::ip::tcp::socket socket);
  void applyListenerKeys();
  PeerPtr makePeer(const PeerConfig& config, bool dynamic);
  void removePeer(const common::IpAddress& address, std::string_view message);
  bool restarting() const;

  // routing.cc
  LocalIdentity identity() const;
  ExportTarget targetOf(const Peer& peer) const;
  // Runs import policy on one received route and updates the Loc-RIB.
  void importRoute(Peer& peer, const common::Prefix& prefix, const PathAttributesPtr& attrs,
                   bool loop, RibChanges& out);
  // A peer's prefixes: accepted by import policy (in the Loc-RIB, not stale), received.
  size_t acceptedCount(const Peer& peer) const;
  size_t receivedCount(const Peer& peer) const;
  // Re-runs import policy over a peer's Adj-RIB-In (soft reconfiguration), or asks the
  // peer for a ROUTE-REFRESH (none: resets the session).
  void reimport(Peer& peer, RibChanges& out);
  // Tells the host and every established peer about `changes` (after any batched ones),
  // then flushes.
  void propagate(const RibChanges& changes);
  // Received UPDATEs add their changes to batch_; this propagates them once the event
  // loop gets back to it (or now when the batch is large): all the UPDATEs of one socket
  // read (or of several peers' reads) go out together, one pass over the peers and fuller
  // UPDATEs instead of one round per received message.
  void scheduleBatch();
  void propagateNow(const RibChanges& changes);
  void sendFullTable(Peer& peer);
  void flush(Peer& peer);
  void sweepStale(Peer& peer, std::optional<common::Family> family);
  void checkMaxPrefixes(Peer& peer);
  // Selection deferral as the restarting speaker (SpeakerConfig::selection_deferral_s).
  void maybeEndDeferral();
  void endDeferral(std::string_view why);

  boost::asio::io_context& io_;
  SpeakerConfig config_;
  BestPathCallback on_best_path_;
  LocRib rib_;
  AttributeInterner interner_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listeners_;
  uint16_t listen_port_ = 0;
  std::map<common::IpAddress, PeerPtr> peers_;
  uint32_t next_source_id_ = 1;
  std::unordered_map<common::Prefix, PathAttributesPtr> originated_;
  std::chrono::steady_clock::time_point started_at_;
  RibChanges batch_;        // see scheduleBatch
  bool deferring_ = false;  // restarting: nothing sent to peers yet
  std::unique_ptr<boost::asio::steady_timer> deferral_timer_;
  bool batch_posted_ = false;
};

}  // namespace coral::bgp
