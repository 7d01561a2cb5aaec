// Peer: one configured (or dynamic) neighbour — the pure Session FSM from bgp/session
// driven by real sockets and a steady timer, message framing, the per-peer RIB state
// (Adj-RIB-In, Adj-RIB-Out) and counters. Routing decisions belong to the PeerHost
// (the speaker core); the peer only moves bytes and FSM events. Internal to the speaker:
// includes Asio.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bgp/rib/adj_rib_in.h"
#include "bgp/rib/adj_rib_out.h"
#include "bgp/rib/path.h"
#include "bgp/session/fsm.h"
#include "bgp/speaker/config.h"
#include "bgp/wire/packer.h"

namespace coral::bgp {

class Peer;

// What a peer tells the speaker core.
class PeerHost {
 public:
  virtual ~PeerHost() = default;
  virtual void peerUp(Peer& peer) = 0;
  // `graceful`: the peer may be restarting (RFC 4724): keep its routes stale.
  virtual void peerDown(Peer& peer, const std::string& reason, bool graceful) = 0;
  virtual void peerUpdate(Peer& peer, const Update& update) = 0;
  virtual void peerRefresh(Peer& peer, const RouteRefresh& refresh) = 0;
};

struct PeerCounters {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t updates_in = 0;
  uint64_t updates_out = 0;
};

class Peer : public std::enable_shared_from_this<Peer> {
 public:
  Peer(boost::asio::io_context& io, PeerHost& host, PeerConfig config, uint32_t local_as,
       uint32_t router_id, uint32_t source_id, bool dynamic, bool restarting);
  ~Peer();

  void start();
  void stop(std::string_view message);
  // Resets the session with `notification` (e.g. Cease / max prefixes).
  void reset(const Notification& notification, std::string reason);
  // Hands an accepted connection from this peer's address to the FSM.
  void accept(boost::asio::ip::tcp::socket socket);
  // Sends already encoded messages on the established connection.
  void sendRaw(EncodedMessages messages);
  void sendMessage(const Message& message);

  const PeerConfig& config() const { return config_; }
  // Policy-only changes (filters, limits, RR client, next hop mode) that keep the session.
  void setPolicy(const PeerConfig& config) { config_ = config; }
  const Session& session() const { return session_; }
  bool established() const { return session_.state() == SessionState::kEstablished; }
  uint32_t sourceId() const { return source_id_; }
  bool dynamic() const { return dynamic_; }
  const PathSourcePtr& source() const { return source_; }
  const std::optional<Open>& peerOpen() const { return peer_open_; }
  const SessionContext& context() const { return context_; }
  std::optional<common::IpAddress> localAddress() const { return local_address_; }
  std::chrono::steady_clock::time_point upSince() const { return up_since_; }
  bool ipv4() const { return ipv4_; }
  bool ipv6() const { return ipv6_; }
  bool ebgp() const { return config_.peer_as != local_as_ || config_.peer_as == 0; }

  // Everything received with soft reconfiguration inbound; else only the rejected prefixes.
  AdjRibIn& adjIn() { return adj_in_; }
  const AdjRibIn& adjIn() const { return adj_in_; }
  AdjRibOut& adjOut() { return adj_out_; }
  PeerCounters& counters() { return counters_; }
  // Graceful restart bookkeeping, owned by the core.
  bool stale = false;
  std::unique_ptr<boost::asio::steady_timer> stale_timer;
  // End-of-RIB received since the session came up: IPv4, IPv6 (selection deferral).
  bool eor_received[2] = {false, false};

 private:
  struct Connection;
  using ConnectionPtr = std::shared_ptr<Connection>;

  void apply(SessionActions actions);
  void onConnect(uint64_t generation);
  void onDisconnect(uint64_t generation);
  void onSessionUp(const SessionUpAction& up);
  void startRead(const ConnectionPtr& conn);
  void onBytes(const ConnectionPtr& conn);
  void write(const ConnectionPtr& conn, std::vector<uint8_t> bytes);
  void writeNext(const ConnectionPtr& conn);
  void closeConnection(const ConnectionPtr& conn);
  void configureSocket(boost::asio::ip::tcp::socket& socket, bool connecting);
  void armTimer();

  boost::asio::io_context& io_;
  PeerHost& host_;
  PeerConfig config_;
  uint32_t local_as_;
  uint32_t source_id_;
  bool dynamic_;
  Session session_;
  std::map<uint64_t, ConnectionPtr> connections_;
  boost::asio::steady_timer timer_;
  PathSourcePtr source_;
  std::optional<Open> peer_open_;
  SessionContext context_;
  std::optional<common::IpAddress> local_address_;
  std::chrono::steady_clock::time_point up_since_{};
  bool ipv4_ = false;
  bool ipv6_ = false;
  AdjRibIn adj_in_;
  AdjRibOut adj_out_;
  PeerCounters counters_;
};

using PeerPtr = std::shared_ptr<Peer>;

// "ipv4-unicast" etc.
std::vector<std::string> familyNames(const Peer& peer);

}  // namespace coral::bgp
