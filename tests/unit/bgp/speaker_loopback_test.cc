// Two speakers in one process over 127.0.0.1 (port 0): a session comes up, originated
// routes arrive with the eBGP rewrites, withdrawals follow, route refresh and max-prefix
// work, and a policy-only reconfiguration keeps the session; a restarting speaker defers
// its updates until its peers' End-of-RIB (or its timer).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "bgp/speaker/speaker.h"

namespace coral::bgp {
namespace {

using namespace std::chrono_literals;

common::IpAddress ip(const char* s) { return *common::IpAddress::parse(s); }
common::Prefix pfx(const char* s) { return *common::Prefix::parse(s); }

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

struct Pair {
  // Declared before the speakers so they outlive them: members are destroyed in reverse
  // order, and B's thread may call the callback that appends to seen_by_b until B stops.
  std::mutex mu;
  std::vector<BestPathChange> seen_by_b;
  SpeakerConfig config_a, config_b;
  std::unique_ptr<Speaker> a, b;

  void start(uint64_t max_prefixes_at_b = 0) {
    config_a.router_id = ip("10.0.0.1").v4Value();
    config_a.local_as = 4200000001;  // 4-octet
    config_a.listen_address = ip("127.0.0.1");
    config_a.listen_port = 0;
    PeerConfig to_b;
    to_b.address = ip("127.0.0.1");
    to_b.peer_as = 65002;
    to_b.passive = true;
    to_b.hold_time_s = 9;
    to_b.next_hop_self_v6 = ip("fd00::1");
    config_a.peers.push_back(to_b);
    a = *Speaker::start(config_a);

    config_b.router_id = ip("10.0.0.2").v4Value();
    config_b.local_as = 65002;
    config_b.listen = false;
    PeerConfig to_a;
    to_a.address = ip("127.0.0.1");
    to_a.port = a->listenPort();
    to_a.peer_as = 4200000001;
    to_a.hold_time_s = 9;
    to_a.max_prefixes = max_prefixes_at_b;
    config_b.peers.push_back(to_a);
    b = *Speaker::start(config_b, [this](const std::vector<BestPathChange>& changes) {
      std::lock_guard lock(mu);
      seen_by_b.insert(seen_by_b.end(), changes.begin(), changes.end());
    });
  }
  bool established() {
    auto pa = a->peers();
    auto pb = b->peers();
    return pa.size() == 1 && pb.size() == 1 && pa[0].state == "Established" &&
           pb[0].state == "Established";
  }
};

TEST(SpeakerLoopback, RoutesFlowBothFamiliesWithEbgpRewrites) {
  Pair p;
  p.start();
  ASSERT_TRUE(waitFor([&] { return p.established(); }));
  PathAttributes attrs;
  attrs.communities = {(65000u << 16) | 7};
  attrs.large_communities = {{4200000001u, 1, 2}};
  p.a->originate(pfx("10.10.0.0/24"), attrs);
  p.a->originate(pfx("fd00:10::/64"), attrs);
  ASSERT_TRUE(waitFor([&] { return p.b->routes().size() == 2; }));
  auto routes = p.b->routes(pfx("10.10.0.0/24"));
  ASSERT_EQ(routes.size(), 1u);
  const PathAttributes& got = routes[0].paths[0].attrs;
  ASSERT_TRUE(got.as_path);
  EXPECT_EQ(got.as_path->toString(), "4200000001");
  EXPECT_EQ(got.next_hop, ip("127.0.0.1"));
  EXPECT_EQ(got.communities, attrs.communities);
  EXPECT_EQ(got.large_communities, attrs.large_communities);
  EXPECT_FALSE(got.local_pref);
  EXPECT_EQ(routes[0].reason, "only path");
  auto six = p.b->routes(pfx("fd00:10::/64"));
  ASSERT_EQ(six.size(), 1u);
  EXPECT_EQ(six[0].paths[0].attrs.mp_next_hop, ip("fd00::1"));
  {
    std::lock_guard lock(p.mu);
    ASSERT_EQ(p.seen_by_b.size(), 2u);
    EXPECT_FALSE(p.seen_by_b[0].withdrawn);
  }
  auto peers = p.b->peers();
  EXPECT_EQ(peers[0].prefixes_received, 2u);
  EXPECT_EQ(peers[0].prefixes_accepted, 2u);
  EXPECT_EQ(p.a->peers()[0].prefixes_advertised, 2u);

  p.a->withdraw(pfx("10.10.0.0/24"));
  ASSERT_TRUE(waitFor([&] { return p.b->routes().size() == 1; }));
  // B does not send A's routes back to A (split horizon).
  EXPECT_EQ(p.a->routes().size(), 1u);
  EXPECT_EQ(p.a->routes()[0].paths.size(), 1u);
}

TEST(SpeakerLoopback, PolicyChangeKeepsTheSession) {
  Pair p;
  p.start();
  ASSERT_TRUE(waitFor([&] { return p.established(); }));
  p.a->originate(pfx("10.10.0.0/24"));
  p.a->originate(pfx("10.20.0.0/24"));
  ASSERT_TRUE(waitFor([&] { return p.b->routes().size() == 2; }));
  const int64_t uptime_before = p.b->peers()[0].uptime_s;
  // B now rejects 10.20/16 and sets local-pref on the rest.
  SpeakerConfig cb = p.config_b;
  FilterRule reject;
  reject.action = FilterRule::Action::kReject;
  reject.within = pfx("10.20.0.0/16");
  FilterRule lp;
  lp.local_pref = 300;
  cb.peers[0].import_filter.rules = {reject, lp};
  ASSERT_TRUE(p.b->reconfigure(cb).ok());
  ASSERT_TRUE(waitFor([&] { return p.b->routes().size() == 1; }));
  auto routes = p.b->routes();
  EXPECT_EQ(routes[0].paths[0].attrs.local_pref, 300u);
  auto peers = p.b->peers();
  EXPECT_EQ(peers[0].state, "Established");
  EXPECT_GE(peers[0].uptime_s, uptime_before);
  EXPECT_EQ(peers[0].prefixes_received, 2u);
  EXPECT_EQ(peers[0].prefixes_accepted, 1u);
}

TEST(SpeakerLoopback, MaxPrefixesResetsTheSession) {
  Pair p;
  p.start(/*max_prefixes_at_b=*/2);
  ASSERT_TRUE(waitFor([&] { return p.established(); }));
  p.a->originate(pfx("10.1.0.0/24"));
  p.a->originate(pfx("10.2.0.0/24"));
  p.a->originate(pfx("10.3.0.0/24"));
  ASSERT_TRUE(waitFor([&] {
    auto peers = p.b->peers();
    return peers[0].last_error.find("maximum of 2 prefixes") != std::string::npos;
  }));
  EXPECT_TRUE(waitFor([&] { return p.b->routes().empty(); }));
}

// Graceful restart, restarting side (RFC 4724 4.1): speaker R restarted and has two
// configured peers; it sends nothing until both sent End-of-RIB (or its deferral timer
// ends the wait). The peers connect from 127.0.0.2 and 127.0.0.3.
struct Restarting {
  std::unique_ptr<Speaker> r;
  std::vector<std::unique_ptr<Speaker>> peers;

  void startR(uint16_t deferral_s) {
    SpeakerConfig c;
    c.router_id = ip("10.0.0.1").v4Value();
    c.local_as = 65001;
    c.listen_address = ip("127.0.0.1");
    c.listen_port = 0;
    c.restarting = true;
    c.selection_deferral_s = deferral_s;
    for (uint32_t i : {2u, 3u}) {
      PeerConfig pc;
      pc.address = common::IpAddress::v4((127u << 24) + i);
      pc.peer_as = 65000 + i;  // 127.0.0.2 is AS 65002, 127.0.0.3 AS 65003
      pc.passive = true;
      pc.hold_time_s = 9;
      c.peers.push_back(pc);
    }
    r = *Speaker::start(c);
    r->originate(pfx("10.10.0.0/24"));
  }
  // A peer of R from `address`, originating `prefix`.
  Speaker& startPeer(const char* address, const char* router_id, const char* prefix) {
    SpeakerConfig c;
    c.router_id = ip(router_id).v4Value();
    c.local_as = 65000 + (ip(address).v4Value() & 0xff);
    c.listen = false;
    PeerConfig to_r;
    to_r.address = ip("127.0.0.1");
    to_r.port = r->listenPort();
    to_r.peer_as = 65001;
    to_r.hold_time_s = 9;
    to_r.local_address = ip(address);
    c.peers.push_back(to_r);
    peers.push_back(*Speaker::start(c));
    peers.back()->originate(pfx(prefix));
    return *peers.back();
  }
  static bool established(Speaker& s) {
    auto p = s.peers();
    return p.size() == 1 && p[0].state == "Established";
  }
  static bool has(Speaker& s, const char* prefix) { return !s.routes(pfx(prefix)).empty(); }
};

TEST(SpeakerLoopback, RestartingSpeakerWaitsForEveryEndOfRib) {
  Restarting t;
  t.startR(/*deferral_s=*/60);
  Speaker& b = t.startPeer("127.0.0.2", "10.0.0.2", "10.20.0.0/24");
  ASSERT_TRUE(waitFor([&] { return Restarting::established(b); }));
  // R learns B's route but tells nobody anything while 127.0.0.3 has not sent End-of-RIB.
  ASSERT_TRUE(waitFor([&] { return Restarting::has(*t.r, "10.20.0.0/24"); }));
  EXPECT_FALSE(waitFor([&] { return Restarting::has(b, "10.10.0.0/24"); }, 700ms));
  Speaker& c = t.startPeer("127.0.0.3", "10.0.0.3", "10.30.0.0/24");
  ASSERT_TRUE(waitFor([&] { return Restarting::established(c); }));
  // C's End-of-RIB ends the deferral: everyone gets everything.
  EXPECT_TRUE(waitFor([&] { return Restarting::has(b, "10.10.0.0/24"); }));
  EXPECT_TRUE(waitFor([&] { return Restarting::has(c, "10.10.0.0/24"); }));
  EXPECT_TRUE(waitFor([&] { return Restarting::has(c, "10.20.0.0/24"); }));
  EXPECT_TRUE(waitFor([&] { return Restarting::has(b, "10.30.0.0/24"); }));
}

TEST(SpeakerLoopback, SelectionDeferralTimerEndsTheWait) {
  Restarting t;
  t.startR(/*deferral_s=*/1);
  Speaker& b = t.startPeer("127.0.0.2", "10.0.0.2", "10.20.0.0/24");
  ASSERT_TRUE(waitFor([&] { return Restarting::established(b); }));
  // 127.0.0.3 never comes: the timer ends the wait.
  EXPECT_TRUE(waitFor([&] { return Restarting::has(b, "10.10.0.0/24"); }, 10s));
}

}  // namespace
}  // namespace coral::bgp
