// Workload plumbing in real network namespaces: a "node" namespace and "pod" namespaces
// created by the test; the agent's dataplane code runs inside the node namespace.
#include "agent/dataplane/workload.h"

#include <gtest/gtest.h>

#include "agent/dataplane/netns.h"
#include "common/strings.h"
#include "tests/support/netns.h"

namespace coral::agent {
namespace {

using testing::TestNetns;

common::IpAddress ip(std::string_view s) { return common::IpAddress::parse(s).value(); }

class WorkloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    node_ = std::make_unique<TestNetns>("node");
    pod1_ = std::make_unique<TestNetns>("pod1");
    pod2_ = std::make_unique<TestNetns>("pod2");
    ASSERT_TRUE(node_->ok() && pod1_->ok() && pod2_->ok());
    // The node's own addresses, on a veth (this kernel has no dummy module).
    ASSERT_EQ(
        node_
            ->exec("ip link add dummy0 type veth peer name dummy0p && ip link set dummy0 up && "
                   "ip link set dummy0p up && "
                   "ip addr add 10.0.0.1/24 dev dummy0 && "
                   "ip addr add fd00:1::1/64 dev dummy0 nodad && "
                   "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
            .exit_code,
        0);
    node_fd_ = std::make_unique<NetnsFd>(NetnsFd::open(node_->path()).value());
  }

  // Runs fn with a Netlink opened inside the node namespace.
  absl::Status inNode(const std::function<absl::Status(Netlink&)>& fn) {
    return runInNetns(*node_fd_, [&]() -> absl::Status {
      auto nl = Netlink::open();
      if (!nl.ok()) return nl.status();
      return fn(**nl);
    });
  }

  WorkloadSpec spec(const TestNetns& pod, std::string id, std::vector<common::IpAddress> ips) {
    WorkloadSpec s;
    s.host_ifname = hostInterfaceName(id);
    s.netns_path = pod.path();
    s.addresses = std::move(ips);
    s.mtu = 1450;
    return s;
  }

  std::unique_ptr<TestNetns> node_, pod1_, pod2_;
  std::unique_ptr<NetnsFd> node_fd_;
};

TEST(HostInterfaceNameTest, IsStableShortAndPrefixed) {
  const std::string name = hostInterfaceName("default.web-1.eth0");
  EXPECT_EQ(name.size(), 14u);
  EXPECT_EQ(name.substr(0, 3), "cor");
  EXPECT_EQ(name, hostInterfaceName("default.web-1.eth0"));
  EXPECT_NE(name, hostInterfaceName("default.web-2.eth0"));
  EXPECT_EQ(gatewayV6().toString(), "fe80::ecee:eeff:feee:eeee");
}

TEST_F(WorkloadTest, PodsReachTheNodeAndEachOtherBothFamilies) {
  auto s1 = spec(*pod1_, "ns.a.eth0", {ip("10.244.0.5"), ip("fd00:244::5")});
  auto s2 = spec(*pod2_, "ns.b.eth0", {ip("10.244.0.6"), ip("fd00:244::6")});
  ASSERT_TRUE(inNode([&](Netlink& nl) { return plumbWorkload(nl, s1).status(); }).ok());
  ASSERT_TRUE(inNode([&](Netlink& nl) { return plumbWorkload(nl, s2).status(); }).ok());

  auto addr = pod1_->exec("ip -o addr show dev eth0");
  EXPECT_NE(addr.output.find("10.244.0.5/32"), std::string::npos) << addr.output;
  EXPECT_NE(addr.output.find("fd00:244::5/128"), std::string::npos) << addr.output;
  EXPECT_NE(pod1_->exec("ip link show eth0").output.find("mtu 1450"), std::string::npos);
  auto routes = node_->exec("ip route show proto 77");
  EXPECT_NE(routes.output.find("10.244.0.5 dev " + s1.host_ifname + " scope link"),
            std::string::npos)
      << routes.output;

  EXPECT_EQ(pod1_->exec("ping -c3 -i0.2 -W2 10.0.0.1").exit_code, 0) << "pod -> node v4";
  EXPECT_EQ(pod1_->exec("ping -c3 -i0.2 -W2 10.244.0.6").exit_code, 0) << "pod -> pod v4";
  EXPECT_EQ(pod1_->exec("ping -6 -c1 -W2 fd00:1::1").exit_code, 0) << "pod -> node v6";
  EXPECT_EQ(pod2_->exec("ping -6 -c1 -W2 fd00:244::5").exit_code, 0) << "pod -> pod v6";
  EXPECT_EQ(node_->exec("ping -c3 -i0.2 -W2 10.244.0.6").exit_code, 0) << "node -> pod";

  EXPECT_TRUE(inNode([&](Netlink& nl) { return checkWorkload(nl, s1); }).ok());

  // CHECK names what is missing.
  pod1_->exec("ip addr del 10.244.0.5/32 dev eth0");
  auto broken = inNode([&](Netlink& nl) { return checkWorkload(nl, s1); });
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(errorMessage(broken).find("address 10.244.0.5/32 is missing"), std::string::npos)
      << broken;

  // DEL removes every trace, and again succeeds.
  ASSERT_TRUE(inNode([&](Netlink& nl) { return unplumbWorkload(nl, s1.host_ifname); }).ok());
  EXPECT_TRUE(inNode([&](Netlink& nl) { return unplumbWorkload(nl, s1.host_ifname); }).ok());
  EXPECT_EQ(node_->exec("ip route show proto 77").output.find("10.244.0.5"), std::string::npos);
  EXPECT_NE(pod1_->exec("ip link show eth0").exit_code, 0);
}

TEST_F(WorkloadTest, FailureLeavesNothingBehind) {
  auto bad = spec(*pod1_, "ns.bad.eth0", {ip("10.244.0.9")});
  bad.netns_path = "/var/run/netns/does-not-exist";
  auto status = inNode([&](Netlink& nl) { return plumbWorkload(nl, bad).status(); });
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  // A failure after the veth exists: an interface name the pod side cannot take.
  auto clash = spec(*pod1_, "ns.clash.eth0", {ip("10.244.0.10")});
  clash.pod_ifname = "this-name-is-far-too-long";
  status = inNode([&](Netlink& nl) { return plumbWorkload(nl, clash).status(); });
  EXPECT_FALSE(status.ok());
  auto links = node_->exec("ip -o link show");
  EXPECT_EQ(links.output.find(bad.host_ifname), std::string::npos) << links.output;
  EXPECT_EQ(links.output.find(clash.host_ifname), std::string::npos) << links.output;
  EXPECT_EQ(node_->exec("ip route show proto 77").output, "");
}

TEST_F(WorkloadTest, ReplacesAStaleHostEnd) {
  auto s = spec(*pod1_, "ns.a.eth0", {ip("10.244.0.5")});
  ASSERT_TRUE(
      node_->exec("ip link add " + s.host_ifname + " type veth peer name stalep").exit_code == 0);
  ASSERT_TRUE(inNode([&](Netlink& nl) { return plumbWorkload(nl, s).status(); }).ok());
  EXPECT_EQ(pod1_->exec("ping -c3 -i0.2 -W2 10.0.0.1").exit_code, 0);
}

}  // namespace
}  // namespace coral::agent
