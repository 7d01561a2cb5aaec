// The RFC 4271 section 8 session state machine as pure logic: the host feeds events
// (start/stop, TCP up/down, decoded messages, the clock) and carries out the actions it
// returns (connect, disconnect, send, session up/down, deliver). No sockets, no threads:
// timers are deadlines read from an injected common::Clock and fired by poll().
//
// Every TCP connection the FSM asks for or accepts gets a new generation number; events
// and actions name their generation, and events of a dead generation are dropped, so a
// late message from a closed connection can never touch the new session.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bgp/wire/capabilities.h"
#include "bgp/wire/context.h"
#include "bgp/wire/message.h"
#include "common/clock.h"

namespace coral::bgp {

enum class SessionState : uint8_t {
  kIdle,
  kConnect,
  kActive,
  kOpenSent,
  kOpenConfirm,
  kEstablished
};
std::string_view sessionStateName(SessionState state);

struct SessionConfig {
  uint32_t local_as = 0;
  uint32_t peer_as = 0;  // 0 accepts any AS (dynamic neighbours)
  uint32_t local_bgp_id = 0;
  uint16_t hold_time_s = 90;  // proposed; negotiated down to the peer's
  std::chrono::seconds connect_retry{120};
  // After an error the session restarts by itself after this long, doubling per
  // consecutive failure up to idle_hold_max; 0 disables automatic restart.
  std::chrono::seconds idle_hold{5};
  std::chrono::seconds idle_hold_max{120};
  bool passive = false;       // never connect, only accept
  Capabilities capabilities;  // advertised; the 4-octet AS capability is added
  friend bool operator==(const SessionConfig&, const SessionConfig&) = default;
};

// Actions, each for one connection generation.
struct ConnectAction {
  uint64_t generation;
};
struct DisconnectAction {
  uint64_t generation;
};
struct SendAction {
  uint64_t generation;
  Message message;
};
struct SessionUpAction {
  uint64_t generation;
  Open peer_open;
  SessionContext context;  // decode UPDATEs of this session with it
  uint16_t hold_time_s;    // negotiated
};
struct SessionDownAction {
  uint64_t generation;
  std::string reason;
};
struct DeliverAction {  // an UPDATE or ROUTE-REFRESH for the RIB
  uint64_t generation;
  Message message;
};
using SessionAction = std::variant<ConnectAction, DisconnectAction, SendAction, SessionUpAction,
                                   SessionDownAction, DeliverAction>;
using SessionActions = std::vector<SessionAction>;

// RFC 4271 6.8: which connection survives a collision. The one initiated by the speaker
// with the higher BGP identifier wins.
enum class ConnectionOrigin : uint8_t { kLocal, kRemote };
ConnectionOrigin collisionWinner(uint32_t local_bgp_id, uint32_t remote_bgp_id);

class Session {
 public:
  Session(SessionConfig config, const common::Clock& clock);

  // ManualStart / ManualStop. Stop sends Cease/Administrative Shutdown with an optional
  // RFC 9003 communication and disables automatic restart.
  SessionActions start();
  SessionActions stop(std::string_view shutdown_message = {});

  // The outgoing connection of `generation` is up / failed / closed by the peer.
  SessionActions connected(uint64_t generation);
  SessionActions closed(uint64_t generation);
  // An incoming connection was accepted; the returned actions name its new generation
  // (a DisconnectAction for it when it is refused).
  SessionActions accepted();
  // A message decoded on `generation` (decode with context()).
  SessionActions received(uint64_t generation, const MessageDecodeResult& decoded);
  // Fires every timer due at clock.now().
  SessionActions poll();
  // The host found a reason to reset the session (e.g. a max-prefix limit): sends the
  // NOTIFICATION, disconnects and, like any error, restarts after the idle hold time.
  SessionActions reset(const Notification& notification, std::string reason);

  SessionState state() const { return state_; }
  uint64_t generation() const { return generation_; }
  // The newest generation handed out: after accepted(), the incoming connection's.
  uint64_t lastGeneration() const { return last_generation_; }
  const SessionContext& context() const { return context_; }
  std::optional<common::Clock::Steady::time_point> nextDeadline() const;
  const std::string& lastError() const { return last_error_; }

 private:
  using TimePoint = common::Clock::Steady::time_point;
  using Deadline = std::optional<TimePoint>;

  void connect(SessionActions& out);
  void sendOpen(uint64_t generation, SessionActions& out);
  void onOpen(uint64_t generation, const Open& open, SessionActions& out);
  void onMessage(const Message& message, SessionActions& out);
  void onPendingMessage(const MessageDecodeResult& decoded, SessionActions& out);
  // Sends the NOTIFICATION (when connected), disconnects, goes Idle, arms the restart.
  void fail(const Notification& notification, std::string reason, SessionActions& out);
  void dropConnection(std::string reason, SessionActions& out);
  void enterIdle(bool auto_restart);
  void armHoldTimer();
  void clearTimers();

  SessionConfig config_;
  const common::Clock& clock_;
  SessionState state_ = SessionState::kIdle;
  uint64_t generation_ = 0;       // of the current connection
  uint64_t last_generation_ = 0;  // the highest ever handed out
  ConnectionOrigin origin_ = ConnectionOrigin::kLocal;
  std::optional<uint64_t> pending_generation_;  // an incoming connection in collision
  SessionContext context_;
  std::optional<Open> peer_open_;
  uint16_t negotiated_hold_s_ = 0;
  bool started_ = false;
  int consecutive_failures_ = 0;
  std::string last_error_;
  Deadline connect_retry_at_;
  Deadline hold_at_;
  Deadline keepalive_at_;
  Deadline idle_hold_at_;
};

}  // namespace coral::bgp
