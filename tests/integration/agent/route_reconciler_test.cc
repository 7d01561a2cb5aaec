// RouteReconciler against the real kernel, in a namespace the test creates: full resync
// and incremental rounds, batches of both families, errors named by route, and routes
// of other protocols left alone.
#include "agent/routes/route_reconciler.h"

#include <gtest/gtest.h>

#include "agent/dataplane/netns.h"
#include "common/strings.h"
#include "tests/support/netns.h"

namespace coral::agent {
namespace {

using testing::TestNetns;

common::Prefix pfx(std::string_view s) { return common::Prefix::parse(s).value(); }
common::IpAddress ip(std::string_view s) { return common::IpAddress::parse(s).value(); }

DesiredRoute remote(std::string_view dst, std::string_view via) {
  return {pfx(dst), RouteKind::kRemoteBlock, "", ip(via), false};
}

class RouteReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    node_ = std::make_unique<TestNetns>("rrec");
    ASSERT_TRUE(node_->ok());
    ASSERT_EQ(node_
                  ->exec("ip link add u0 type veth peer name u0p && ip link set u0 up && "
                         "ip link set u0p up && ip addr add 10.99.0.1/24 dev u0 && "
                         "ip addr add fd00:99::1/64 dev u0 nodad")
                  .exit_code,
              0);
    fd_ = std::make_unique<NetnsFd>(NetnsFd::open(node_->path()).value());
    // The reconciler's Netlink lives as long as the test, opened inside the namespace.
    ASSERT_TRUE(runInNetns(*fd_, [&]() -> absl::Status {
                  auto nl = Netlink::open();
                  if (!nl.ok()) return nl.status();
                  netlink_ = std::move(*nl);
                  return absl::OkStatus();
                }).ok());
    reconciler_ = std::make_unique<RouteReconciler>(*netlink_);
  }

  std::string routes(const std::string& args = "") {
    return node_->exec("ip route show proto 77 " + args + "; ip -6 route show proto 77 " + args)
        .output;
  }

  std::unique_ptr<TestNetns> node_;
  std::unique_ptr<NetnsFd> fd_;
  std::unique_ptr<Netlink> netlink_;
  std::unique_ptr<RouteReconciler> reconciler_;
};

TEST_F(RouteReconcilerTest, InstallsBothFamiliesThenChangesOnlyWhatChanged) {
  DesiredRoutes desired;
  for (auto r : {remote("10.244.1.0/26", "10.99.0.2"), remote("10.244.2.0/26", "10.99.0.3"),
                 remote("fd00:244:1::/122", "fd00:99::2")}) {
    desired.emplace(r.dst, r);
  }
  for (auto block : {"10.244.0.0/26", "fd00:244::/122"}) {
    desired.emplace(pfx(block), DesiredRoute{pfx(block), RouteKind::kLocalBlock, "", {}, false});
  }
  desired.emplace(pfx("10.244.0.5/32"),
                  DesiredRoute{pfx("10.244.0.5/32"), RouteKind::kWorkload, "u0p", {}, false});
  auto first = reconciler_->reconcile(desired);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->added, 6u);
  EXPECT_EQ(first->errors, 0u);
  const std::string all = routes();
  EXPECT_NE(all.find("10.244.1.0/26 via 10.99.0.2 dev u0"), std::string::npos) << all;
  EXPECT_NE(all.find("blackhole 10.244.0.0/26"), std::string::npos) << all;
  EXPECT_NE(all.find("10.244.0.5 dev u0p scope link"), std::string::npos) << all;
  EXPECT_NE(all.find("fd00:244:1::/122 via fd00:99::2 dev u0"), std::string::npos) << all;

  // A full resync over the same set lists the kernel and finds nothing to do (IPv6
  // blackholes, which the kernel shows with `dev lo`, included).
  auto again = reconciler_->resync(desired);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->full);
  EXPECT_EQ(again->added + again->removed + again->errors, 0u);

  // Incremental: one route goes, one moves, without listing the kernel.
  desired.erase(pfx("10.244.2.0/26"));
  desired[pfx("10.244.1.0/26")] = remote("10.244.1.0/26", "10.99.0.4");
  auto step = reconciler_->reconcile(desired);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_FALSE(step->full);
  EXPECT_EQ(step->added, 1u);
  EXPECT_EQ(step->removed, 1u);
  const std::string now = routes();
  EXPECT_EQ(now.find("10.244.2.0/26"), std::string::npos) << now;
  EXPECT_NE(now.find("10.244.1.0/26 via 10.99.0.4"), std::string::npos) << now;
}

TEST_F(RouteReconcilerTest, RepairsOnResyncAndNeverTouchesOtherProtocols) {
  ASSERT_EQ(node_
                ->exec("ip route add 10.244.9.0/26 via 10.99.0.9 proto static && "
                       "ip route add 10.244.8.0/26 via 10.99.0.8 proto 77 && "
                       "ip -6 route add fd00:244:9::/122 via fd00:99::9 proto bird")
                .exit_code,
            0);
  DesiredRoutes desired;
  desired.emplace(pfx("10.244.1.0/26"), remote("10.244.1.0/26", "10.99.0.2"));
  auto first = reconciler_->reconcile(desired);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added, 1u);
  EXPECT_EQ(first->removed, 1u);  // the stray protocol-77 route
  EXPECT_NE(node_->exec("ip route show proto static").output.find("10.244.9.0/26"),
            std::string::npos);
  EXPECT_NE(node_->exec("ip -6 route show proto bird").output.find("fd00:244:9::/122"),
            std::string::npos);

  // Someone deletes our route: the incremental round does not see it, the resync does.
  ASSERT_EQ(node_->exec("ip route del 10.244.1.0/26 proto 77").exit_code, 0);
  auto step = reconciler_->reconcile(desired);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->added, 0u);
  auto full = reconciler_->resync(desired);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->added, 1u);
  EXPECT_NE(routes().find("10.244.1.0/26 via 10.99.0.2"), std::string::npos);
}

TEST_F(RouteReconcilerTest, AnErrorNamesItsRouteAndIsRetriedNextRound) {
  DesiredRoutes desired;
  desired.emplace(pfx("10.244.1.0/26"), remote("10.244.1.0/26", "10.99.0.2"));
  // No connected route to 192.0.2.1: the kernel refuses this one, the others go in.
  desired.emplace(pfx("10.244.3.0/26"), remote("10.244.3.0/26", "192.0.2.1"));
  desired.emplace(pfx("10.244.4.0/26"), remote("10.244.4.0/26", "10.99.0.4"));
  auto first = reconciler_->reconcile(desired);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added, 2u);
  EXPECT_EQ(first->errors, 1u);
  auto results = netlink_->applyRoutes(
      {{Netlink::RouteChange::Op::kReplace, Route{pfx("10.244.3.0/26"), RouteType::kUnicast, 0,
                                                  ip("192.0.2.1"), false, kCoralRouteProtocol}},
       {Netlink::RouteChange::Op::kDelete, Route{pfx("10.244.7.0/26"), RouteType::kUnicast, 0,
                                                 ip("10.99.0.7"), false, kCoralRouteProtocol}}});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_NE(std::string(errorMessage((*results)[0])).find("route 10.244.3.0/26 via 192.0.2.1"),
            std::string::npos)
      << (*results)[0];
  EXPECT_TRUE(absl::IsNotFound((*results)[1])) << (*results)[1];

  // Once the next hop is reachable, the next incremental round installs it.
  ASSERT_EQ(node_->exec("ip addr add 192.0.2.2/24 dev u0").exit_code, 0);
  auto step = reconciler_->reconcile(desired);
  ASSERT_TRUE(step.ok());
  EXPECT_FALSE(step->full);
  EXPECT_EQ(step->added, 1u);
  EXPECT_EQ(step->errors, 0u);
  EXPECT_NE(routes().find("10.244.3.0/26 via 192.0.2.1"), std::string::npos);
}

TEST_F(RouteReconcilerTest, ManyRoutesInOneBatch) {
  DesiredRoutes desired;
  for (uint32_t i = 0; i < 20000; ++i) {
    const auto dst = common::Prefix::host(common::IpAddress::v4(0x0a400000u + i));
    desired.emplace(dst, DesiredRoute{dst, RouteKind::kRemoteBlock, "", ip("10.99.0.2"), false});
  }
  auto first = reconciler_->reconcile(desired);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added, 20000u);
  EXPECT_EQ(first->errors, 0u);
  EXPECT_EQ(node_->exec("ip route show proto 77 | wc -l").output, "20000\n");
  auto listed = netlink_->routes();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 20000u);
  auto gone = reconciler_->reconcile({});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->removed, 20000u);
  EXPECT_EQ(node_->exec("ip route show proto 77 | wc -l").output, "0\n");
}

}  // namespace
}  // namespace coral::agent
