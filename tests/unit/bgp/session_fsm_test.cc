// The RFC 4271 FSM driven by a fake clock: transitions, timers, errors, generations and
// collision detection.
#include <gtest/gtest.h>

#include "bgp/session/fsm.h"
#include "common/clock.h"

namespace coral::bgp {
namespace {

using std::chrono::seconds;

constexpr uint32_t kLocalId = 0x0a000001;
constexpr uint32_t kPeerIdHigher = 0x0a000002;
constexpr uint32_t kPeerIdLower = 0x01000000;

SessionConfig config(bool passive = false) {
  SessionConfig c;
  c.local_as = 65000;
  c.peer_as = 65001;
  c.local_bgp_id = kLocalId;
  c.hold_time_s = 90;
  c.passive = passive;
  return c;
}

MessageDecodeResult msg(Message m) { return {std::move(m), {}}; }
MessageDecodeResult peerOpen(uint16_t hold = 30, uint32_t id = kPeerIdHigher, uint32_t as = 65001) {
  return msg(Open::make(as, hold, id, {}));
}

template <typename T>
std::vector<T> all(const SessionActions& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

// The messages sent, as (generation, message).
std::vector<SendAction> sent(const SessionActions& a) { return all<SendAction>(a); }

const Notification* sentNotification(const SessionActions& a) {
  for (const auto& action : a) {
    if (const auto* s = std::get_if<SendAction>(&action)) {
      if (const auto* n = std::get_if<Notification>(&s->message)) return n;
    }
  }
  return nullptr;
}

class SessionFsm : public ::testing::Test {
 protected:
  // Drives a session to Established through an outgoing connection; returns its generation.
  uint64_t establish(Session& s, uint16_t peer_hold = 30) {
    auto a = s.start();
    const uint64_t gen = all<ConnectAction>(a).at(0).generation;
    a = s.connected(gen);
    EXPECT_TRUE(std::holds_alternative<Open>(sent(a).at(0).message));
    EXPECT_EQ(s.state(), SessionState::kOpenSent);
    a = s.received(gen, peerOpen(peer_hold));
    EXPECT_TRUE(std::holds_alternative<Keepalive>(sent(a).at(0).message));
    EXPECT_EQ(s.state(), SessionState::kOpenConfirm);
    a = s.received(gen, msg(Keepalive{}));
    EXPECT_EQ(all<SessionUpAction>(a).size(), 1u);
    EXPECT_EQ(s.state(), SessionState::kEstablished);
    return gen;
  }

  common::FakeClock clock_;
};

TEST_F(SessionFsm, ActiveOpenReachesEstablished) {
  Session s(config(), clock_);
  auto a = s.start();
  ASSERT_EQ(all<ConnectAction>(a).size(), 1u);
  EXPECT_EQ(s.state(), SessionState::kConnect);
  const uint64_t gen = s.generation();
  a = s.connected(gen);
  const Open open = std::get<Open>(sent(a).at(0).message);
  EXPECT_EQ(open.asn(), 65000u);
  EXPECT_EQ(open.hold_time_s, 90);
  a = s.received(gen, peerOpen(30));
  a = s.received(gen, msg(Keepalive{}));
  const auto up = all<SessionUpAction>(a).at(0);
  EXPECT_EQ(up.generation, gen);
  EXPECT_EQ(up.hold_time_s, 30);  // the smaller of both
  EXPECT_TRUE(up.context.four_octet_as);
  EXPECT_TRUE(up.context.is_ebgp);
  EXPECT_EQ(up.context.peer_as, 65001u);
}

TEST_F(SessionFsm, KeepaliveTimerSendsKeepalives) {
  Session s(config(), clock_);
  const uint64_t gen = establish(s);
  clock_.advance(seconds(9));
  EXPECT_TRUE(s.poll().empty());
  clock_.advance(seconds(1));
  auto a = s.poll();
  ASSERT_EQ(sent(a).size(), 1u);
  EXPECT_EQ(sent(a)[0].generation, gen);
  EXPECT_TRUE(std::holds_alternative<Keepalive>(sent(a)[0].message));
}

TEST_F(SessionFsm, HoldTimerExpiryTearsDownAndRestarts) {
  Session s(config(), clock_);
  const uint64_t gen = establish(s);
  clock_.advance(seconds(20));
  s.poll();
  s.received(gen, msg(Keepalive{}));  // hold restarts at t=20
  clock_.advance(seconds(29));
  EXPECT_EQ(s.state(), SessionState::kEstablished);
  s.poll();
  clock_.advance(seconds(1));
  auto a = s.poll();
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->code, err::kHoldTimerExpired);
  EXPECT_EQ(all<DisconnectAction>(a).at(0).generation, gen);
  EXPECT_EQ(all<SessionDownAction>(a).size(), 1u);
  EXPECT_EQ(s.state(), SessionState::kIdle);
  EXPECT_EQ(s.lastError(), "hold timer expired");
  // Automatic restart after the idle hold time, with a new generation.
  clock_.advance(seconds(5));
  a = s.poll();
  ASSERT_EQ(all<ConnectAction>(a).size(), 1u);
  EXPECT_GT(all<ConnectAction>(a)[0].generation, gen);
}

TEST_F(SessionFsm, IdleHoldBacksOff) {
  Session s(config(), clock_);
  s.start();
  s.connected(s.generation());
  s.received(s.generation(), peerOpen(30, kPeerIdHigher, 65099));  // bad AS: failure 1
  EXPECT_EQ(s.nextDeadline(), clock_.now() + seconds(5));
  clock_.advance(seconds(5));
  s.poll();
  s.connected(s.generation());
  s.received(s.generation(), peerOpen(30, kPeerIdHigher, 65099));  // failure 2
  EXPECT_EQ(s.nextDeadline(), clock_.now() + seconds(10));
}

TEST_F(SessionFsm, ConnectRetryTimer) {
  Session s(config(), clock_);
  s.start();
  const uint64_t first = s.generation();
  clock_.advance(seconds(120));
  auto a = s.poll();
  EXPECT_EQ(all<DisconnectAction>(a).at(0).generation, first);
  EXPECT_EQ(all<ConnectAction>(a).at(0).generation, first + 1);
  // A late success of the abandoned attempt is closed, not used.
  a = s.connected(first);
  EXPECT_EQ(all<DisconnectAction>(a).at(0).generation, first);
  EXPECT_EQ(s.state(), SessionState::kConnect);
}

TEST_F(SessionFsm, ConnectionFailureFallsBackToActive) {
  Session s(config(), clock_);
  s.start();
  s.closed(s.generation());
  EXPECT_EQ(s.state(), SessionState::kActive);
  clock_.advance(seconds(120));
  auto a = s.poll();
  EXPECT_EQ(all<ConnectAction>(a).size(), 1u);
  EXPECT_EQ(s.state(), SessionState::kConnect);
}

TEST_F(SessionFsm, BadOpenIsRefusedWithNotification) {
  Session s(config(), clock_);
  s.start();
  s.connected(s.generation());
  auto a = s.received(s.generation(), peerOpen(30, kPeerIdHigher, 65002));
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->code, err::kOpenMessage);
  EXPECT_EQ(n->subcode, err::kBadPeerAs);
  EXPECT_EQ(s.state(), SessionState::kIdle);
  a = s.received(1, peerOpen(1));  // hold time 1 on a new try would be 2/6
  EXPECT_TRUE(a.empty());          // but generation 1 is dead: dropped
}

TEST_F(SessionFsm, UnexpectedMessageIsAnFsmError) {
  Session s(config(), clock_);
  s.start();
  s.connected(s.generation());
  auto a = s.received(s.generation(), msg(Update{}));
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->code, err::kFsm);
  EXPECT_EQ(n->subcode, err::kFsmUnexpectedInOpenSent);
}

TEST_F(SessionFsm, EstablishedDeliversUpdatesAndResetsOnMalformed) {
  Session s(config(), clock_);
  const uint64_t gen = establish(s);
  Update u;
  u.withdrawn_v4 = {*common::Prefix::parse("10.0.0.0/8")};
  auto a = s.received(gen, msg(u));
  ASSERT_EQ(all<DeliverAction>(a).size(), 1u);
  EXPECT_EQ(std::get<Update>(all<DeliverAction>(a)[0].message), u);

  MessageDecodeResult bad;
  bad.errors.push_back({ErrorAction::kSessionReset,
                        err::kUpdateMessage,
                        err::kUnrecognizedWellKnown,
                        {0x40, 0x63, 0x00},
                        "unknown well-known"});
  a = s.received(gen, bad);
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->subcode, err::kUnrecognizedWellKnown);
  EXPECT_EQ(n->data, (std::vector<uint8_t>{0x40, 0x63, 0x00}));
  EXPECT_EQ(all<SessionDownAction>(a).size(), 1u);
}

TEST_F(SessionFsm, TreatAsWithdrawKeepsTheSession) {
  Session s(config(), clock_);
  const uint64_t gen = establish(s);
  MessageDecodeResult taw{Update{}, {{ErrorAction::kTreatAsWithdraw, 3, 6, {}, "bad ORIGIN"}}};
  auto a = s.received(gen, taw);
  EXPECT_EQ(all<DeliverAction>(a).size(), 1u);
  EXPECT_EQ(s.state(), SessionState::kEstablished);
}

TEST_F(SessionFsm, PeerNotificationAndCloseGoIdle) {
  Session s(config(), clock_);
  uint64_t gen = establish(s);
  auto a = s.received(gen, msg(Notification{err::kCease, err::kCeaseAdminReset, {}}));
  EXPECT_EQ(all<SessionDownAction>(a).size(), 1u);
  EXPECT_TRUE(sent(a).empty());  // no NOTIFICATION in answer to one
  EXPECT_EQ(s.state(), SessionState::kIdle);
  clock_.advance(seconds(5));
  s.poll();
  gen = s.generation();
  s.connected(gen);
  s.received(gen, peerOpen());
  s.received(gen, msg(Keepalive{}));
  a = s.closed(gen);
  EXPECT_EQ(all<SessionDownAction>(a).size(), 1u);
}

TEST_F(SessionFsm, StopSendsShutdownCommunicationAndStaysIdle) {
  Session s(config(), clock_);
  establish(s);
  auto a = s.stop("maintenance");
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->shutdownCommunication(), "maintenance");
  EXPECT_EQ(all<SessionDownAction>(a).size(), 1u);
  clock_.advance(seconds(600));
  EXPECT_TRUE(s.poll().empty());
  EXPECT_EQ(s.state(), SessionState::kIdle);
  EXPECT_EQ(s.nextDeadline(), std::nullopt);
}

TEST_F(SessionFsm, PassivePeerWaitsForTheConnection) {
  Session s(config(/*passive=*/true), clock_);
  EXPECT_TRUE(s.start().empty());
  EXPECT_EQ(s.state(), SessionState::kActive);
  clock_.advance(seconds(600));
  EXPECT_TRUE(all<ConnectAction>(s.poll()).empty());
  auto a = s.accepted();
  ASSERT_EQ(sent(a).size(), 1u);
  EXPECT_EQ(sent(a)[0].generation, s.generation());
  EXPECT_EQ(s.state(), SessionState::kOpenSent);
}

TEST_F(SessionFsm, IdleAndEstablishedRefuseIncoming) {
  Session s(config(), clock_);
  auto a = s.accepted();
  EXPECT_EQ(all<DisconnectAction>(a).size(), 1u);
  const uint64_t gen = establish(s);
  a = s.accepted();
  ASSERT_EQ(all<DisconnectAction>(a).size(), 1u);
  EXPECT_NE(all<DisconnectAction>(a)[0].generation, gen);
  EXPECT_EQ(s.generation(), gen);
  EXPECT_EQ(s.state(), SessionState::kEstablished);
}

TEST_F(SessionFsm, HoldTimeZeroMeansNoKeepalives) {
  Session s(config(), clock_);
  establish(s, /*peer_hold=*/0);
  clock_.advance(seconds(3600));
  EXPECT_TRUE(s.poll().empty());
  EXPECT_EQ(s.state(), SessionState::kEstablished);
}

TEST_F(SessionFsm, CollisionWinnerByBgpIdentifier) {
  EXPECT_EQ(collisionWinner(2, 1), ConnectionOrigin::kLocal);
  EXPECT_EQ(collisionWinner(1, 2), ConnectionOrigin::kRemote);
}

TEST_F(SessionFsm, CollisionPeerWithHigherIdKeepsItsConnection) {
  Session s(config(), clock_);
  s.start();
  const uint64_t ours = s.generation();
  s.connected(ours);
  auto a = s.accepted();  // the peer connected to us too
  EXPECT_TRUE(a.empty());
  const uint64_t theirs = ours + 1;
  a = s.received(theirs, peerOpen(30, kPeerIdHigher));
  // Ours is closed with Cease/Collision Resolution; theirs gets OPEN and KEEPALIVE.
  const Notification* n = sentNotification(a);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->subcode, err::kCeaseCollisionResolution);
  EXPECT_EQ(sent(a)[0].generation, ours);
  EXPECT_EQ(all<DisconnectAction>(a).at(0).generation, ours);
  EXPECT_EQ(s.generation(), theirs);
  EXPECT_EQ(s.state(), SessionState::kOpenConfirm);
  a = s.received(ours, peerOpen());  // late OPEN on the closed one: dropped
  EXPECT_TRUE(a.empty());
  a = s.received(theirs, msg(Keepalive{}));
  EXPECT_EQ(all<SessionUpAction>(a).at(0).generation, theirs);
}

TEST_F(SessionFsm, CollisionLocalWithHigherIdKeepsOurs) {
  Session s(config(), clock_);
  s.start();
  const uint64_t ours = s.generation();
  s.connected(ours);
  s.accepted();
  auto a = s.received(ours + 1, peerOpen(30, kPeerIdLower));
  EXPECT_EQ(sent(a).at(0).generation, ours + 1);
  EXPECT_EQ(sentNotification(a)->subcode, err::kCeaseCollisionResolution);
  EXPECT_EQ(s.generation(), ours);
  EXPECT_EQ(s.state(), SessionState::kOpenSent);
}

TEST_F(SessionFsm, StateNames) {
  EXPECT_EQ(sessionStateName(SessionState::kOpenConfirm), "OpenConfirm");
}

}  // namespace
}  // namespace coral::bgp
