// Peer: drives the Session FSM with real sockets. Every connection has the FSM's
// generation; events of a connection the FSM has let go of are dropped here too.
#include "bgp/speaker/peer.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "bgp/speaker/socket_options.h"
#include "common/log.h"
#include "common/strings.h"

namespace coral::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

common::IpAddress fromAsio(const asio::ip::address& a) {
  if (a.is_v4()) return common::IpAddress::v4(a.to_v4().to_uint());
  if (a.to_v6().is_v4_mapped()) {
    return common::IpAddress::v4(
        asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_uint());
  }
  return common::IpAddress::v6(a.to_v6().to_bytes());
}

asio::ip::address toAsio(const common::IpAddress& a) {
  if (a.isV4()) return asio::ip::address_v4(a.v4Value());
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a.bytes().data(), 16);
  return asio::ip::address_v6(b);
}

Capabilities capabilitiesOf(const PeerConfig& c, bool restarting) {
  Capabilities caps;
  caps.multiprotocol = {unicastOf(common::Family::kV4), unicastOf(common::Family::kV6)};
  caps.route_refresh = true;
  if (c.graceful_restart) {
    GracefulRestart gr;
    gr.restarting = restarting;
    gr.restart_time_s = std::min<uint16_t>(c.restart_time_s, 4095);
    // Forwarding state survives a restart: the kernel routes stay while we are away.
    gr.families = {{unicastOf(common::Family::kV4), true}, {unicastOf(common::Family::kV6), true}};
    caps.graceful_restart = gr;
  }
  return caps;
}

}  // namespace

struct Peer::Connection {
  Connection(tcp::socket s, uint64_t g) : socket(std::move(s)), generation(g) {}
  tcp::socket socket;
  uint64_t generation;
  std::vector<uint8_t> buffer;
  size_t used = 0;
  std::deque<std::vector<uint8_t>> queue;
  bool writing = false;
  bool closing = false;  // close once the queue is written
  bool closed = false;
};

Peer::Peer(asio::io_context& io, PeerHost& host, PeerConfig config, uint32_t local_as,
           uint32_t router_id, uint32_t source_id, bool dynamic, bool restarting)
    : io_(io),
      host_(host),
      config_(std::move(config)),
      local_as_(local_as),
      source_id_(source_id),
      dynamic_(dynamic),
      session_(
          SessionConfig{
              .local_as = local_as,
              .peer_as = config_.peer_as,
              .local_bgp_id = router_id,
              .hold_time_s = config_.hold_time_s,
              .connect_retry = std::chrono::seconds(std::max<uint16_t>(1, config_.connect_retry_s)),
              .passive = config_.passive || dynamic,
              .capabilities = capabilitiesOf(config_, restarting),
          },
          common::SystemClock::instance()),
      timer_(io) {}

Peer::~Peer() {
  timer_.cancel();
  if (stale_timer) stale_timer->cancel();
  for (auto& [gen, conn] : connections_) {
    conn->closed = true;
    boost::system::error_code ignored;
    conn->socket.close(ignored);
  }
}

void Peer::start() { apply(session_.start()); }

void Peer::stop(std::string_view message) { apply(session_.stop(message)); }

void Peer::reset(const Notification& notification, std::string reason) {
  apply(session_.reset(notification, std::move(reason)));
}

void Peer::accept(tcp::socket socket) {
  configureSocket(socket, /*connecting=*/false);
  SessionActions actions = session_.accepted();
  const uint64_t generation = session_.lastGeneration();
  auto conn = std::make_shared<Connection>(std::move(socket), generation);
  connections_[generation] = conn;
  startRead(conn);
  apply(std::move(actions));
}

void Peer::configureSocket(tcp::socket& socket, bool connecting) {
  const int fd = socket.native_handle();
  const common::Family family = config_.address.family();
  if (!config_.password.empty() && connecting) {
    if (auto s = setMd5Key(fd, family, common::Prefix::host(config_.address), config_.password);
        !s.ok()) {
      log::warn("bgp: cannot set TCP MD5 key",
                {{"peer", config_.displayName()}, {"error", errorMessage(s)}});
    }
  }
  const bool ebgp_peer = config_.peer_as != 0 && config_.peer_as != local_as_;
  absl::Status s;
  if (config_.ttl_security > 0) {
    s = setTtl(fd, family, 255);
    if (s.ok()) s = setMinTtl(fd, family, 256 - config_.ttl_security);
  } else if (ebgp_peer) {
    s = setTtl(fd, family, config_.ebgp_multihop > 0 ? config_.ebgp_multihop : 1);
  }
  if (!s.ok()) {
    log::warn("bgp: cannot set TTL", {{"peer", config_.displayName()}, {"error", errorMessage(s)}});
  }
}

void Peer::onConnect(uint64_t generation) {
  const auto family = config_.address.isV4() ? tcp::v4() : tcp::v6();
  tcp::socket socket(io_);
  boost::system::error_code ec;
  socket.open(family, ec);
  if (ec) {
    apply(session_.closed(generation));
    return;
  }
  configureSocket(socket, /*connecting=*/true);
  if (config_.local_address) {
    socket.bind(tcp::endpoint(toAsio(*config_.local_address), 0), ec);
    if (ec) {
      log::warn("bgp: cannot bind source address",
                {{"peer", config_.displayName()}, {"error", ec.message()}});
    }
  }
  auto conn = std::make_shared<Connection>(std::move(socket), generation);
  connections_[generation] = conn;
  std::weak_ptr<Peer> weak = weak_from_this();
  conn->socket.async_connect(tcp::endpoint(toAsio(config_.address), config_.port),
                             [weak, conn](const boost::system::error_code& error) {
                               auto self = weak.lock();
                               if (!self || conn->closed) return;
                               auto it = self->connections_.find(conn->generation);
                               if (it == self->connections_.end() || it->second != conn) return;
                               if (error) {
                                 self->connections_.erase(it);
                                 self->closeConnection(conn);
                                 self->apply(self->session_.closed(conn->generation));
                                 return;
                               }
                               self->startRead(conn);
                               self->apply(self->session_.connected(conn->generation));
                             });
}

void Peer::onDisconnect(uint64_t generation) {
  auto it = connections_.find(generation);
  if (it == connections_.end()) return;
  ConnectionPtr conn = it->second;
  connections_.erase(it);
  conn->closing = true;
  if (!conn->writing) closeConnection(conn);
}

void Peer::closeConnection(const ConnectionPtr& conn) {
  if (conn->closed) return;
  conn->closed = true;
  boost::system::error_code ignored;
  conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
  conn->socket.close(ignored);
}

void Peer::startRead(const ConnectionPtr& conn) {
  if (conn->closed || conn->closing) return;
  if (conn->buffer.size() - conn->used < kMaxMessageSize) {
    conn->buffer.resize(conn->used + kReadChunk);
  }
  std::weak_ptr<Peer> weak = weak_from_this();
  conn->socket.async_read_some(
      asio::buffer(conn->buffer.data() + conn->used, conn->buffer.size() - conn->used),
      [weak, conn](const boost::system::error_code& error, size_t n) {
        auto self = weak.lock();
        if (!self || conn->closed || conn->closing) return;
        if (error) {
          auto it = self->connections_.find(conn->generation);
          if (it != self->connections_.end() && it->second == conn) self->connections_.erase(it);
          self->closeConnection(conn);
          self->apply(self->session_.closed(conn->generation));
          return;
        }
        conn->used += n;
        self->onBytes(conn);
        self->startRead(conn);
      });
}

void Peer::onBytes(const ConnectionPtr& conn) {
  size_t offset = 0;
  while (!conn->closed && !conn->closing) {
    std::span<const uint8_t> rest(conn->buffer.data() + offset, conn->used - offset);
    const size_t size = nextMessageSize(rest);
    if (size == 0 || size > rest.size()) break;
    MessageDecodeResult decoded = decodeMessage(rest.first(size), session_.context());
    offset += size;
    ++counters_.messages_in;
    if (decoded.message && std::holds_alternative<Update>(*decoded.message)) {
      ++counters_.updates_in;
    }
    for (const WireError& e : decoded.errors) {
      log::warn("bgp: malformed message",
                {{"peer", config_.displayName()}, {"error", formatError(e)}});
    }
    apply(session_.received(conn->generation, decoded));
  }
  if (offset > 0) {
    std::memmove(conn->buffer.data(), conn->buffer.data() + offset, conn->used - offset);
    conn->used -= offset;
  }
}

void Peer::write(const ConnectionPtr& conn, std::vector<uint8_t> bytes) {
  if (conn->closed) return;
  ++counters_.messages_out;
  conn->queue.push_back(std::move(bytes));
  if (!conn->writing) writeNext(conn);
}

void Peer::writeNext(const ConnectionPtr& conn) {
  if (conn->queue.empty() || conn->closed) {
    conn->writing = false;
    if (conn->closing) closeConnection(conn);
    return;
  }
  conn->writing = true;
  // Coalesce queued messages into one write.
  std::vector<uint8_t> batch = std::move(conn->queue.front());
  conn->queue.pop_front();
  while (!conn->queue.empty() && batch.size() < 256 * 1024) {
    batch.insert(batch.end(), conn->queue.front().begin(), conn->queue.front().end());
    conn->queue.pop_front();
  }
  auto data = std::make_shared<std::vector<uint8_t>>(std::move(batch));
  std::weak_ptr<Peer> weak = weak_from_this();
  asio::async_write(conn->socket, asio::buffer(*data),
                    [weak, conn, data](const boost::system::error_code& error, size_t) {
                      auto self = weak.lock();
                      if (!self) return;
                      if (error) {
                        conn->writing = false;
                        auto it = self->connections_.find(conn->generation);
                        const bool current = it != self->connections_.end() && it->second == conn;
                        if (current) self->connections_.erase(it);
                        self->closeConnection(conn);
                        if (current) self->apply(self->session_.closed(conn->generation));
                        return;
                      }
                      self->writeNext(conn);
                    });
}

void Peer::sendRaw(EncodedMessages messages) {
  auto it = connections_.find(session_.generation());
  if (it == connections_.end() || !established()) return;
  counters_.updates_out += messages.size();
  for (auto& m : messages) write(it->second, std::move(m));
}

void Peer::sendMessage(const Message& message) {
  auto it = connections_.find(session_.generation());
  if (it == connections_.end()) return;
  std::vector<uint8_t> bytes;
  if (const auto* rr = std::get_if<RouteRefresh>(&message)) encodeRouteRefresh(*rr, bytes);
  if (bytes.empty()) return;
  write(it->second, std::move(bytes));
}

void Peer::onSessionUp(const SessionUpAction& up) {
  peer_open_ = up.peer_open;
  context_ = up.context;
  auto it = connections_.find(up.generation);
  local_address_.reset();
  if (it != connections_.end()) {
    boost::system::error_code ec;
    auto local = it->second->socket.local_endpoint(ec);
    if (!ec) local_address_ = fromAsio(local.address());
  }
  const Capabilities& caps = up.peer_open.capabilities;
  if (caps.multiprotocol.empty()) {
    ipv4_ = true;  // RFC 4760: no MP capability means IPv4 unicast only
    ipv6_ = false;
  } else {
    ipv4_ = caps.supports(unicastOf(common::Family::kV4));
    ipv6_ = caps.supports(unicastOf(common::Family::kV6));
  }
  auto source = std::make_shared<PathSource>();
  source->id = source_id_;
  source->address = config_.address;
  source->router_id = up.peer_open.bgp_id;
  source->peer_as = up.context.peer_as;
  source->ebgp = up.context.is_ebgp;
  source->rr_client = config_.rr_client;
  source->name = config_.displayName();
  source_ = std::move(source);
  up_since_ = std::chrono::steady_clock::now();
  log::info("bgp: session established", {{"peer", config_.displayName()},
                                         {"as", up.context.peer_as},
                                         {"hold_time_s", up.hold_time_s}});
  host_.peerUp(*this);
}

void Peer::apply(SessionActions actions) {
  for (SessionAction& action : actions) {
    if (auto* c = std::get_if<ConnectAction>(&action)) {
      onConnect(c->generation);
    } else if (auto* d = std::get_if<DisconnectAction>(&action)) {
      onDisconnect(d->generation);
    } else if (auto* s = std::get_if<SendAction>(&action)) {
      auto it = connections_.find(s->generation);
      if (it == connections_.end()) continue;
      std::vector<uint8_t> bytes;
      std::visit(
          [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Open>) {
              encodeOpen(m, bytes);
            } else if constexpr (std::is_same_v<T, Notification>) {
              encodeNotification(m, bytes);
            } else if constexpr (std::is_same_v<T, Keepalive>) {
              encodeKeepalive(bytes);
            } else if constexpr (std::is_same_v<T, RouteRefresh>) {
              encodeRouteRefresh(m, bytes);
            } else {
              (void)encodeUpdate(m, context_, bytes);
            }
          },
          s->message);
      write(it->second, std::move(bytes));
    } else if (auto* up = std::get_if<SessionUpAction>(&action)) {
      onSessionUp(*up);
    } else if (auto* down = std::get_if<SessionDownAction>(&action)) {
      // RFC 4724: a peer that advertised graceful restart and whose connection simply
      // went away may be restarting; a NOTIFICATION (either way) ends it for good.
      const bool peer_gr = peer_open_ && peer_open_->capabilities.graceful_restart;
      const bool graceful = peer_gr && down->reason == "connection closed by peer";
      log::info(
          "bgp: session down",
          {{"peer", config_.displayName()}, {"reason", down->reason}, {"graceful", graceful}});
      up_since_ = {};
      host_.peerDown(*this, down->reason, graceful);
    } else if (auto* deliver = std::get_if<DeliverAction>(&action)) {
      if (const auto* u = std::get_if<Update>(&deliver->message)) {
        host_.peerUpdate(*this, *u);
      } else if (const auto* rr = std::get_if<RouteRefresh>(&deliver->message)) {
        host_.peerRefresh(*this, *rr);
      }
    }
  }
  armTimer();
}

void Peer::armTimer() {
  const auto deadline = session_.nextDeadline();
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*deadline);
  std::weak_ptr<Peer> weak = weak_from_this();
  timer_.async_wait([weak](const boost::system::error_code& error) {
    if (error) return;
    if (auto self = weak.lock()) self->apply(self->session_.poll());
  });
}

std::vector<std::string> familyNames(const Peer& peer) {
  std::vector<std::string> out;
  if (!peer.established()) return out;
  if (peer.ipv4()) out.push_back("ipv4-unicast");
  if (peer.ipv6()) out.push_back("ipv6-unicast");
  return out;
}

}  // namespace coral::bgp
