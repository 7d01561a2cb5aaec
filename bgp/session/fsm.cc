// The session state machine: one function per kind of event, each looking at the state.
#include "bgp/session/fsm.h"

#include <algorithm>

#include <fmt/format.h>

namespace coral::bgp {
namespace {

using std::chrono::seconds;

// While OpenSent, RFC 4271 8.2.2 suggests a "large value" hold timer of 4 minutes.
constexpr seconds kOpenSentHold{240};

Notification fsmError(SessionState state) {
  const uint8_t sub = state == SessionState::kOpenSent      ? err::kFsmUnexpectedInOpenSent
                      : state == SessionState::kOpenConfirm ? err::kFsmUnexpectedInOpenConfirm
                      : state == SessionState::kEstablished ? err::kFsmUnexpectedInEstablished
                                                            : err::kFsmUnspecified;
  return {err::kFsm, sub, {}};
}

bool due(const std::optional<common::Clock::Steady::time_point>& deadline,
         common::Clock::Steady::time_point now) {
  return deadline && *deadline <= now;
}

}  // namespace

std::string_view sessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kIdle:
      return "Idle";
    case SessionState::kConnect:
      return "Connect";
    case SessionState::kActive:
      return "Active";
    case SessionState::kOpenSent:
      return "OpenSent";
    case SessionState::kOpenConfirm:
      return "OpenConfirm";
    case SessionState::kEstablished:
      return "Established";
  }
  return "Unknown";
}

ConnectionOrigin collisionWinner(uint32_t local_bgp_id, uint32_t remote_bgp_id) {
  return local_bgp_id > remote_bgp_id ? ConnectionOrigin::kLocal : ConnectionOrigin::kRemote;
}

Session::Session(SessionConfig config, const common::Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  context_.local_as = config_.local_as;
  context_.peer_as = config_.peer_as;
  context_.is_ebgp = config_.peer_as != config_.local_as;
}

SessionActions Session::start() {
  SessionActions out;
  started_ = true;
  if (state_ != SessionState::kIdle) return out;
  idle_hold_at_.reset();
  if (config_.passive) {
    state_ = SessionState::kActive;
  } else {
    connect(out);
  }
  return out;
}

SessionActions Session::stop(std::string_view shutdown_message) {
  SessionActions out;
  started_ = false;
  if (state_ == SessionState::kIdle) {
    idle_hold_at_.reset();
    return out;
  }
  fail(Notification::shutdown(err::kCeaseAdminShutdown, shutdown_message), "stopped by operator",
       out);
  return out;
}

void Session::connect(SessionActions& out) {
  generation_ = ++last_generation_;
  origin_ = ConnectionOrigin::kLocal;
  state_ = SessionState::kConnect;
  connect_retry_at_ = clock_.now() + config_.connect_retry;
  out.push_back(ConnectAction{generation_});
}

SessionActions Session::connected(uint64_t generation) {
  SessionActions out;
  if (generation != generation_ || state_ != SessionState::kConnect) {
    out.push_back(DisconnectAction{generation});  // a late connect: not wanted any more
    return out;
  }
  connect_retry_at_.reset();
  sendOpen(generation_, out);
  return out;
}

void Session::sendOpen(uint64_t generation, SessionActions& out) {
  out.push_back(SendAction{generation, Open::make(config_.local_as, config_.hold_time_s,
                                                  config_.local_bgp_id, config_.capabilities)});
  state_ = SessionState::kOpenSent;
  hold_at_ = clock_.now() + kOpenSentHold;
}

SessionActions Session::accepted() {
  SessionActions out;
  const uint64_t incoming = ++last_generation_;
  switch (state_) {
    case SessionState::kConnect:
      // Our own attempt is still pending: give it up and take the peer's (RFC 4271 8.2.2).
      out.push_back(DisconnectAction{generation_});
      [[fallthrough]];
    case SessionState::kActive:
      generation_ = incoming;
      origin_ = ConnectionOrigin::kRemote;
      connect_retry_at_.reset();
      sendOpen(incoming, out);
      return out;
    case SessionState::kOpenSent:
    case SessionState::kOpenConfirm:
      if (!pending_generation_) {
        // Possible collision: the OPEN on the new connection decides (RFC 4271 6.8).
        pending_generation_ = incoming;
        return out;
      }
      break;
    case SessionState::kIdle:
    case SessionState::kEstablished:
      break;
  }
  // Refused: Idle does not accept, Established keeps its connection (RFC 4271 6.8).
  out.push_back(DisconnectAction{incoming});
  return out;
}

SessionActions Session::closed(uint64_t generation) {
  SessionActions out;
  if (pending_generation_ && generation == *pending_generation_) {
    pending_generation_.reset();
    return out;
  }
  if (generation != generation_ || state_ == SessionState::kIdle) return out;
  if (state_ == SessionState::kConnect || state_ == SessionState::kOpenSent) {
    // RFC 4271 8.2.2: connection failure before OPEN is exchanged falls back to Active.
    clearTimers();
    out.push_back(DisconnectAction{generation_});
    state_ = SessionState::kActive;
    connect_retry_at_ = clock_.now() + config_.connect_retry;
    last_error_ = "connection closed before OPEN";
    return out;
  }
  if (state_ == SessionState::kActive) return out;
  dropConnection("connection closed by peer", out);
  return out;
}

SessionActions Session::received(uint64_t generation, const MessageDecodeResult& decoded) {
  SessionActions out;
  if (pending_generation_ && generation == *pending_generation_) {
    onPendingMessage(decoded, out);
    return out;
  }
  if (generation != generation_ || state_ == SessionState::kIdle ||
      state_ == SessionState::kConnect || state_ == SessionState::kActive) {
    return out;  // late message from a dead connection
  }
  if (const WireError* e = strongestError(decoded.errors);
      e && e->action >= ErrorAction::kAfiSafiDisable) {
    // AFI/SAFI disable is not supported yet: it escalates to a reset (RFC 7606 allows it).
    fail(Notification::fromError(*e), formatError(*e), out);
    return out;
  }
  if (!decoded.message) return out;
  onMessage(*decoded.message, out);
  return out;
}

void Session::onPendingMessage(const MessageDecodeResult& decoded, SessionActions& out) {
  const uint64_t pending = *pending_generation_;
  const Open* open = decoded.message ? std::get_if<Open>(&*decoded.message) : nullptr;
  if (open == nullptr) {
    pending_generation_.reset();
    out.push_back(DisconnectAction{pending});
    return;
  }
  // RFC 4271 6.8: the connection initiated by the higher BGP identifier survives.
  const ConnectionOrigin winner = collisionWinner(config_.local_bgp_id, open->bgp_id);
  const Notification cease{err::kCease, err::kCeaseCollisionResolution, {}};
  pending_generation_.reset();
  if (winner == origin_) {
    out.push_back(SendAction{pending, cease});
    out.push_back(DisconnectAction{pending});
    return;
  }
  out.push_back(SendAction{generation_, cease});
  out.push_back(DisconnectAction{generation_});
  generation_ = pending;
  origin_ = winner;
  clearTimers();
  sendOpen(generation_, out);
  onOpen(generation_, *open, out);
}

void Session::onMessage(const Message& message, SessionActions& out) {
  if (const auto* n = std::get_if<Notification>(&message)) {
    dropConnection(fmt::format("NOTIFICATION {}/{} from peer", n->code, n->subcode), out);
    return;
  }
  switch (state_) {
    case SessionState::kOpenSent:
      if (const auto* open = std::get_if<Open>(&message)) {
        onOpen(generation_, *open, out);
      } else {
        fail(fsmError(state_), "unexpected message in OpenSent", out);
      }
      return;
    case SessionState::kOpenConfirm:
      if (std::holds_alternative<Keepalive>(message)) {
        state_ = SessionState::kEstablished;
        consecutive_failures_ = 0;
        armHoldTimer();
        out.push_back(SessionUpAction{generation_, *peer_open_, context_, negotiated_hold_s_});
      } else {
        fail(fsmError(state_), "unexpected message in OpenConfirm", out);
      }
      return;
    case SessionState::kEstablished:
      if (std::holds_alternative<Keepalive>(message)) {
        armHoldTimer();
      } else if (std::holds_alternative<Update>(message) ||
                 std::holds_alternative<RouteRefresh>(message)) {
        armHoldTimer();
        out.push_back(DeliverAction{generation_, message});
      } else {
        fail(fsmError(state_), "OPEN in Established", out);
      }
      return;
    default:
      return;
  }
}

void Session::onOpen(uint64_t generation, const Open& open, SessionActions& out) {
  const OpenExpectations expect{config_.peer_as, config_.local_bgp_id, context_.is_ebgp};
  const WireErrors errors = validateOpen(open, expect);
  if (!errors.empty()) {
    fail(Notification::fromError(errors.front()), formatError(errors.front()), out);
    return;
  }
  peer_open_ = open;
  context_.peer_as = open.asn();
  context_.is_ebgp = open.asn() != config_.local_as;
  context_.four_octet_as = open.capabilities.four_octet_as.has_value();
  negotiated_hold_s_ = std::min(config_.hold_time_s, open.hold_time_s);
  out.push_back(SendAction{generation, Keepalive{}});
  state_ = SessionState::kOpenConfirm;
  armHoldTimer();
}

void Session::armHoldTimer() {
  if (negotiated_hold_s_ == 0) {
    hold_at_.reset();
    keepalive_at_.reset();
    return;
  }
  const auto now = clock_.now();
  hold_at_ = now + seconds(negotiated_hold_s_);
  if (!keepalive_at_) keepalive_at_ = now + seconds(negotiated_hold_s_ / 3);
}

SessionActions Session::poll() {
  SessionActions out;
  const auto now = clock_.now();
  if (due(idle_hold_at_, now)) {
    idle_hold_at_.reset();
    if (started_ && state_ == SessionState::kIdle) {
      if (config_.passive) {
        state_ = SessionState::kActive;
      } else {
        connect(out);
      }
    }
  }
  if (due(connect_retry_at_, now)) {
    connect_retry_at_.reset();
    if (state_ == SessionState::kConnect) out.push_back(DisconnectAction{generation_});
    if (state_ == SessionState::kConnect || (state_ == SessionState::kActive && !config_.passive)) {
      connect(out);
    } else if (state_ == SessionState::kActive) {
      connect_retry_at_ = now + config_.connect_retry;
    }
  }
  if (due(hold_at_, now)) {
    hold_at_.reset();
    fail({err::kHoldTimerExpired, 0, {}}, "hold timer expired", out);
  }
  if (due(keepalive_at_, now) &&
      (state_ == SessionState::kOpenConfirm || state_ == SessionState::kEstablished)) {
    out.push_back(SendAction{generation_, Keepalive{}});
    keepalive_at_ = now + seconds(std::max<uint16_t>(1, negotiated_hold_s_ / 3));
  }
  return out;
}

SessionActions Session::reset(const Notification& notification, std::string reason) {
  SessionActions out;
  if (state_ == SessionState::kIdle) return out;
  fail(notification, std::move(reason), out);
  return out;
}

std::optional<common::Clock::Steady::time_point> Session::nextDeadline() const {
  std::optional<TimePoint> next;
  for (const Deadline& d : {connect_retry_at_, hold_at_, keepalive_at_, idle_hold_at_}) {
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

void Session::fail(const Notification& notification, std::string reason, SessionActions& out) {
  if (state_ == SessionState::kOpenSent || state_ == SessionState::kOpenConfirm ||
      state_ == SessionState::kEstablished) {
    out.push_back(SendAction{generation_, notification});
  }
  dropConnection(std::move(reason), out);
}

void Session::dropConnection(std::string reason, SessionActions& out) {
  const bool was_up = state_ == SessionState::kEstablished;
  if (state_ != SessionState::kIdle && state_ != SessionState::kActive) {
    out.push_back(DisconnectAction{generation_});
  }
  if (pending_generation_) {
    out.push_back(DisconnectAction{*pending_generation_});
    pending_generation_.reset();
  }
  if (was_up) out.push_back(SessionDownAction{generation_, reason});
  last_error_ = std::move(reason);
  ++consecutive_failures_;
  enterIdle(started_);
}

void Session::enterIdle(bool auto_restart) {
  clearTimers();
  state_ = SessionState::kIdle;
  peer_open_.reset();
  context_.peer_as = config_.peer_as;
  context_.is_ebgp = config_.peer_as != config_.local_as;
  context_.four_octet_as = true;
  if (auto_restart && config_.idle_hold.count() > 0) {
    auto wait = config_.idle_hold * (1 << std::min(consecutive_failures_ - 1, 10));
    idle_hold_at_ = clock_.now() + std::min<seconds>(wait, config_.idle_hold_max);
  }
}

void Session::clearTimers() {
  connect_retry_at_.reset();
  hold_at_.reset();
  keepalive_at_.reset();
  idle_hold_at_.reset();
}

}  // namespace coral::bgp
