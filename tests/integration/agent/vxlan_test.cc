// VXLAN, NAT outgoing and MTU end to end: real corald on three node namespaces and the
// real coral-cni, over an underlay whose router knows nothing of pod addresses and runs
// no BGP:
//
//      n1 (10.98.1.2) ─┐                 ┌─ n2 (10.98.2.2)
//      n3 (10.98.1.3) ─┴ br1 ── router ── r2
//                                  └── r3 ── ext (10.98.3.2, no route to pods)
//
// n1 and n3 share a subnet (a bridge in the router namespace), n2 is behind the router.
// Every namespace and process is the test's own and goes on every path.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "common/strings.h"
#include "datastore/file/file_backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "model/registry.h"
#include "model/yaml.h"
#include "tests/support/child_process.h"
#include "tests/support/corald_process.h"
#include "tests/support/netns.h"

namespace coral::testing {
namespace {

using namespace std::chrono_literals;

// Polls `f` until it is true or `limit` passes.
template <class F>
bool eventually(F&& f, std::chrono::milliseconds limit = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return f();
}

std::string strip(const std::string& s) { return s.substr(0, s.find('/')); }

// Packets counted by the rule with `comment` in an nft listing (0 when absent).
uint64_t counter(const TestNetns& ns, const std::string& table, const std::string& comment) {
  auto out = ns.exec("nft list table " + table).output;
  const size_t at = out.find("comment \"" + comment + "\"");
  if (at == std::string::npos) return 0;
  const size_t line = out.rfind('\n', at);
  const size_t pk = out.find("packets ", line == std::string::npos ? 0 : line);
  if (pk == std::string::npos || pk > at) return 0;
  return parseInt<uint64_t>(std::string_view(out).substr(pk + 8, out.find(' ', pk + 8) - pk - 8))
      .value_or(0);
}

class VxlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "agent" / "corald"));
    ASSERT_TRUE(std::filesystem::exists(buildDir() / "cni" / "coral-cni"));
    router_ = std::make_unique<TestNetns>("rt");
    ext_ = std::make_unique<TestNetns>("ex");
    for (const char* n : {"n1", "n2", "n3"}) nodes_.push_back(std::make_unique<TestNetns>(n));
    for (const char* p : {"pa", "pb", "pc"}) pods_.push_back(std::make_unique<TestNetns>(p));
    ASSERT_TRUE(router_->ok() && ext_->ok());
    ASSERT_TRUE(linkNamespaces(*nodes_[0], "u1", *router_, "r1"));
    ASSERT_TRUE(linkNamespaces(*nodes_[1], "u2", *router_, "r2"));
    ASSERT_TRUE(linkNamespaces(*nodes_[2], "u3", *router_, "r3"));
    ASSERT_TRUE(linkNamespaces(*ext_, "e1", *router_, "re"));
    auto ok = [](const ExecResult& r) { return r.exit_code == 0 ? "" : r.output; };
    ASSERT_EQ(ok(router_->exec("sysctl -qw net.ipv4.ip_forward=1 && "
                               "sysctl -qw net.ipv6.conf.all.forwarding=1 && "
                               "ip link add br1 type bridge && ip link set br1 up && "
                               "ip link set r1 master br1 && ip link set r3 master br1 && "
                               "ip addr add 10.98.1.1/24 dev br1 && "
                               "ip addr add 10.98.2.1/24 dev r2 && "
                               "ip addr add 10.98.3.1/24 dev re && "
                               "ip addr add fd00:98:1::1/64 dev br1 nodad && "
                               "ip addr add fd00:98:2::1/64 dev r2 nodad")),
              "");
    const char* addrs[] = {"10.98.1.2/24 dev u1", "10.98.2.2/24 dev u2", "10.98.1.3/24 dev u3"};
    const char* gws[] = {"10.98.1.1", "10.98.2.1", "10.98.1.1"};
    const char* addrs6[] = {"fd00:98:1::2/64 dev u1", "fd00:98:2::2/64 dev u2",
                            "fd00:98:1::3/64 dev u3"};
    const char* gws6[] = {"fd00:98:1::1", "fd00:98:2::1", "fd00:98:1::1"};
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(ok(nodes_[i]->exec(std::string("ip addr add ") + addrs[i] +
                                   " && ip route add default via " + gws[i] + " && ip addr add " +
                                   addrs6[i] + " nodad && ip -6 route add default via " + gws6[i])),
                "");
    }
    // The external server reaches the nodes' subnets, and nothing else: no way back to pods.
    ASSERT_EQ(ok(ext_->exec("ip addr add 10.98.3.2/24 dev e1 && "
                            "ip route add 10.98.0.0/16 via 10.98.3.1")),
              "");
    // Counters: UDP 4789 through the router and leaving n1.
    ASSERT_EQ(
        ok(router_->exec("nft add table inet t && "
                         "nft add chain inet t fw { type filter hook forward priority 0\\; } && "
                         "nft add rule inet t fw udp dport 4789 counter comment vxlan")),
        "");
    ASSERT_EQ(ok(nodes_[0]->exec(
                  "nft add table inet t && "
                  "nft add chain inet t out { type filter hook postrouting priority 0\\; } && "
                  "nft add rule inet t out udp dport 4789 counter comment vxlan")),
              "");
    store_url_ = "file://" + tmp_.path() + "/store";
    auto backend = datastore::openBackend(store_url_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    store_ = std::make_unique<datastore::ResourceStore>(*backend_);
  }

  void applyPool(const std::string& encapsulation, bool nat = false) {
    for (auto& doc : model::parseResources(fmt::format(R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {{name: pods}}
spec: {{cidr: 10.244.0.0/16, blockSize: 26, encapsulation: {}, natOutgoing: {}}}
)",
                                                       encapsulation, nat ? "true" : "false"))) {
      ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();
      ASSERT_TRUE(store_->apply(*doc.resource).ok());
    }
  }

  void applyPoolV6(const std::string& encapsulation) {
    for (auto& doc : model::parseResources(fmt::format(R"(
apiVersion: coral.network/v1
kind: IPPool
metadata: {{name: pods-v6}}
spec: {{cidr: "fd00:244::/48", blockSize: 122, encapsulation: {}}}
)",
                                                       encapsulation))) {
      ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();
      ASSERT_TRUE(store_->apply(*doc.resource).ok());
    }
  }

  void startNodes(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string name = "n" + std::to_string(i + 1);
      auto p = std::make_unique<CoraldProcess>(
          *nodes_[i],
          std::map<std::string, std::string>{
              {"CORAL_NODENAME", name},
              {"CORAL_DATASTORE", store_url_},
              {"CORAL_CNI_SOCKET", socket(name)},
              {"CORAL_HTTP_PORT", "9099"},
              {"CORAL_UNDERLAY_INTERFACE", "u" + std::to_string(i + 1)},
              {"CORAL_BGP", "disabled"},
              {"CORAL_LOG_LEVEL", "debug"}},
          tmp_.path() + "/" + name + ".log");
      ASSERT_TRUE(p->start());
      coralds_.push_back(std::move(p));
    }
    for (auto& d : coralds_) ASSERT_TRUE(d->waitReady()) << d->log();
  }

  // ADD of pod `i` on node `node` (1-based); returns its IPv4 address.
  std::string addPod(int i, int node) {
    const std::string name = "n" + std::to_string(node);
    const std::string conf =
        R"({"cniVersion": "1.0.0", "name": "coral", "type": "coral", "socket": ")" + socket(name) +
        R"("})";
    auto r = runCni("ADD", "cid-" + std::to_string(i), pods_[i]->path(), "shop",
                    "p" + std::to_string(i), conf);
    EXPECT_EQ(r.exit_code, 0) << r.out << coralds_[node - 1]->log();
    if (r.exit_code != 0) return "";
    last_ips_.clear();
    const auto result = model::Json::parse(r.out);
    for (const auto& ip : result["ips"]) {
      last_ips_.push_back(strip(ip["address"].get<std::string>()));
    }
    return last_ips_.at(0);
  }

  bool ping(const TestNetns& from, const std::string& to, const std::string& extra = "") {
    return from.exec("ping -c1 -W1 " + extra + " " + to).exit_code == 0;
  }

  std::string socket(const std::string& node) const { return tmp_.path() + "/" + node + ".sock"; }
  std::string logs() const {
    std::string out;
    for (const auto& d : coralds_) out += d->log();
    return out;
  }

  TempDir tmp_;
  std::string store_url_;
  datastore::BackendPtr backend_;
  std::unique_ptr<datastore::ResourceStore> store_;
  std::unique_ptr<TestNetns> router_, ext_;
  std::vector<std::unique_ptr<TestNetns>> nodes_, pods_;
  std::vector<std::unique_ptr<CoraldProcess>> coralds_;
  std::vector<std::string> last_ips_;  // every address of the last pod added
};

TEST_F(VxlanTest, PodsAcrossSubnetsConnectWithVxlanNotWithNoneAndTheSwitchNeedsNoRestart) {
  applyPool("None");
  startNodes(2);
  const std::string a = addPod(0, 1);
  const std::string b = addPod(1, 2);
  ASSERT_FALSE(a.empty() || b.empty());

  // None: the router knows nothing of pod addresses, so the packets die there.
  EXPECT_FALSE(ping(*pods_[0], b));
  auto why = router_->exec("ip route get " + b);
  EXPECT_NE(why.exit_code, 0) << "the router has a route to pods?\n" << why.output;
  EXPECT_NE(why.output.find("unreachable"), std::string::npos) << why.output;
  EXPECT_NE(nodes_[0]->exec("ip link show vxlan.coral").exit_code, 0);

  // VXLAN, switched at runtime: the same pods connect.
  applyPool("VXLAN");
  ASSERT_TRUE(eventually([&] {
    return nodes_[0]->exec("ip route show proto 77").output.find("dev vxlan.coral") !=
               std::string::npos &&
           nodes_[1]->exec("ip route show proto 77").output.find("dev vxlan.coral") !=
               std::string::npos;
  })) << nodes_[0]->exec("ip route; ip -d link").output
      << logs();
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], b); }, 10s))
      << nodes_[0]
             ->exec("ip route; ip neigh show dev vxlan.coral; bridge fdb show dev vxlan.coral")
             .output
      << logs();
  EXPECT_GT(counter(*router_, "inet t", "vxlan"), 0u) << "the router saw no VXLAN";

  // The device as Calico users expect it, and the VTEP each node published.
  auto dev = nodes_[0]->exec("ip -d link show vxlan.coral").output;
  EXPECT_NE(dev.find("vxlan id 4096"), std::string::npos) << dev;
  EXPECT_NE(dev.find("local 10.98.1.2"), std::string::npos) << dev;
  EXPECT_NE(dev.find("dstport 4789"), std::string::npos) << dev;
  EXPECT_NE(dev.find("nolearning"), std::string::npos) << dev;
  auto n2 = store_->get<model::Node>("n2").value();
  ASSERT_FALSE(n2.spec.vxlan_tunnel_address.empty());
  ASSERT_FALSE(n2.spec.vxlan_tunnel_mac.empty());
  auto route = nodes_[0]->exec("ip route show proto 77").output;
  EXPECT_NE(route.find("via " + n2.spec.vxlan_tunnel_address + " dev vxlan.coral onlink"),
            std::string::npos)
      << route;
  auto neigh = nodes_[0]->exec("ip neigh show dev vxlan.coral").output;
  EXPECT_NE(neigh.find(n2.spec.vxlan_tunnel_address + " lladdr " + n2.spec.vxlan_tunnel_mac +
                       " PERMANENT"),
            std::string::npos)
      << neigh;
  auto fdb = nodes_[0]->exec("bridge fdb show dev vxlan.coral").output;
  EXPECT_NE(fdb.find(n2.spec.vxlan_tunnel_mac + " dst 10.98.2.2"), std::string::npos) << fdb;
  EXPECT_EQ(fdb.find("00:00:00:00:00:00"), std::string::npos) << "no flooding entry\n" << fdb;
  EXPECT_EQ(ipam::Ipam(*store_).addressesOf("vxlan-tunnel-addr-n2")->size(), 1u);

  // Back to None: device, tunnel address and VTEP go.
  applyPool("None");
  ASSERT_TRUE(eventually([&] {
    return nodes_[0]->exec("ip link show vxlan.coral").exit_code != 0 &&
           store_->get<model::Node>("n2")->spec.vxlan_tunnel_address.empty();
  })) << logs();
  EXPECT_TRUE(ipam::Ipam(*store_).addressesOf("vxlan-tunnel-addr-n2")->empty());
  EXPECT_FALSE(ping(*pods_[0], b));
}

TEST_F(VxlanTest, CrossSubnetRoutesWithinTheSubnetAndEncapsulatesAcross) {
  applyPool("VXLANCrossSubnet");
  startNodes(3);
  const std::string a = addPod(0, 1);
  const std::string b = addPod(1, 2);
  const std::string c = addPod(2, 3);
  ASSERT_FALSE(a.empty() || b.empty() || c.empty());
  ASSERT_TRUE(eventually([&] {
    auto r = nodes_[0]->exec("ip route show proto 77").output;
    return r.find("via 10.98.1.3") != std::string::npos &&
           r.find("dev vxlan.coral") != std::string::npos;
  })) << nodes_[0]->exec("ip route").output
      << logs();

  // Same subnet (n1 → n3): routed, no VXLAN leaves n1.
  const uint64_t before = counter(*nodes_[0], "inet t", "vxlan");
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], c); })) << logs();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ping(*pods_[0], c));
  EXPECT_EQ(counter(*nodes_[0], "inet t", "vxlan"), before) << "VXLAN within the subnet";
  EXPECT_NE(nodes_[0]->exec("ip route get " + c).output.find("via 10.98.1.3 dev u1"),
            std::string::npos);

  // Across subnets (n1 → n2): VXLAN.
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], b); })) << logs();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ping(*pods_[0], b));
  EXPECT_GE(counter(*nodes_[0], "inet t", "vxlan"), before + 6);
  EXPECT_GT(counter(*router_, "inet t", "vxlan"), 0u);
  EXPECT_NE(nodes_[0]->exec("ip route get " + b).output.find("dev vxlan.coral"), std::string::npos);

  // Stale entries go: a foreign FDB and neighbour entry on the device, and everything of a
  // node that left the cluster (its corald stopped, its Node and blocks deleted).
  ASSERT_EQ(nodes_[0]
                ->exec("bridge fdb add 66:66:66:66:66:66 dev vxlan.coral dst 10.98.9.9 && "
                       "ip neigh add 10.244.99.1 lladdr 66:66:66:66:66:66 dev vxlan.coral "
                       "nud permanent")
                .exit_code,
            0);
  const auto n2 = store_->get<model::Node>("n2").value();
  coralds_[1]->kill(SIGKILL);
  ASSERT_TRUE(ipam::Ipam(*store_).releaseNode("n2").ok());
  ASSERT_TRUE(store_->remove(model::kindOf<model::Node>(), "", "n2").ok());
  ASSERT_TRUE(eventually([&] {
    auto state =
        nodes_[0]->exec("bridge fdb show dev vxlan.coral; ip neigh show dev vxlan.coral").output;
    return state.find("66:66:66:66:66:66") == std::string::npos &&
           state.find(n2.spec.vxlan_tunnel_mac) == std::string::npos;
  })) << nodes_[0]->exec("bridge fdb show dev vxlan.coral; ip neigh show dev vxlan.coral").output
      << logs();
}

TEST_F(VxlanTest, NatOutgoingMasqueradesToTheOutsideButNeverBetweenPods) {
  applyPool("VXLAN", /*nat=*/true);
  startNodes(2);
  const std::string a = addPod(0, 1);
  const std::string b = addPod(1, 2);
  ASSERT_FALSE(a.empty() || b.empty());
  ASSERT_EQ(ext_->exec("nft add table inet t && "
                       "nft add chain inet t inp { type filter hook input priority 0\\; } && "
                       "nft add rule inet t inp ip saddr 10.98.1.2 counter comment node && "
                       "nft add rule inet t inp ip saddr " +
                       a + " counter comment pod")
                .exit_code,
            0);
  ASSERT_EQ(pods_[1]
                ->exec("nft add table inet t && "
                       "nft add chain inet t inp { type filter hook input priority 0\\; } && "
                       "nft add rule inet t inp ip saddr " +
                       a + " counter comment pod")
                .exit_code,
            0);
  // The server has no route back to pods; it answers the node, which un-NATs.
  EXPECT_NE(ext_->exec("ip route get " + a).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], "10.98.3.2"); }))
      << nodes_[0]->exec("nft list table ip coral-nat").output << logs();
  EXPECT_GT(counter(*ext_, "inet t", "node"), 0u);
  EXPECT_EQ(counter(*ext_, "inet t", "pod"), 0u);
  // TCP too: the server sees the node's address as the peer.
  const std::string seen = tmp_.path() + "/seen";
  auto server = shell("ip netns exec " + ext_->name() +
                      " sh -c 'timeout 10 nc -lvn 10.98.3.2 8080 > /dev/null 2>" + seen +
                      "' > /dev/null 2>&1 & echo $!");
  ASSERT_TRUE(eventually([&] { return ext_->exec("ss -ltn | grep -q :8080").exit_code == 0; }, 5s));
  EXPECT_EQ(pods_[0]->exec("echo hi | timeout 5 nc -N 10.98.3.2 8080").exit_code, 0);
  shell("while kill -0 " + std::string(trim(server.output)) + " 2>/dev/null; do sleep 0.1; done");
  EXPECT_NE(shell("cat " + seen).output.find("10.98.1.2"), std::string::npos)
      << shell("cat " + seen).output;

  // Pod to pod across nodes is not NATed: n2's pod sees a's own address.
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], b); })) << logs();
  EXPECT_GT(counter(*pods_[1], "inet t", "pod"), 0u);
  auto nat = nodes_[0]->exec("nft list table ip coral-nat").output;
  EXPECT_NE(nat.find("masquerade"), std::string::npos) << nat;

  // natOutgoing off: the table goes, and the outside cannot answer any more.
  applyPool("VXLAN", /*nat=*/false);
  ASSERT_TRUE(eventually([&] {
    return nodes_[0]->exec("nft list table ip coral-nat").exit_code != 0;
  })) << logs();
  EXPECT_FALSE(ping(*pods_[0], "10.98.3.2"));
}

TEST_F(VxlanTest, PodMtuLeavesRoomForVxlanAndFullSizePacketsCross) {
  applyPool("VXLAN");
  startNodes(2);
  const std::string a = addPod(0, 1);
  const std::string b = addPod(1, 2);
  ASSERT_FALSE(a.empty() || b.empty());
  EXPECT_NE(pods_[0]->exec("ip link show eth0").output.find("mtu 1450"), std::string::npos)
      << pods_[0]->exec("ip link show eth0").output;
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], b); })) << logs();
  EXPECT_NE(nodes_[0]->exec("ip link show vxlan.coral").output.find("mtu 1450"), std::string::npos);
  // The largest unfragmented ping: 1450 - 20 (IP) - 8 (ICMP); one byte more does not fit.
  EXPECT_TRUE(ping(*pods_[0], b, "-M do -s 1422"));
  EXPECT_FALSE(ping(*pods_[0], b, "-M do -s 1423"));
  // A full-size TCP transfer.
  const std::string pidfile = tmp_.path() + "/iperf.pid";
  struct KillByPidfile {  // the iperf3 server goes on every path
    std::string path;
    ~KillByPidfile() { shell("[ -s " + path + " ] && kill $(cat " + path + ")"); }
  } server{pidfile};
  ASSERT_EQ(pods_[1]->exec("iperf3 -s -1 -D -p 5201 -I " + pidfile).exit_code, 0);
  ASSERT_TRUE(
      eventually([&] { return pods_[1]->exec("ss -ltn | grep -q :5201").exit_code == 0; }, 5s));
  auto run = pods_[0]->exec("iperf3 -c " + b + " -p 5201 -n 20M -J");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto json = model::Json::parse(run.output);
  // iperf3 -n stops after the block that reaches the count, so it may send a little more;
  // byte-exactness is checked with nc below.
  EXPECT_GE(json["end"]["sum_sent"]["bytes"].get<uint64_t>(), 20u * 1024 * 1024);
  std::cout << "iperf3 pod to pod across VXLAN: "
            << json["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9 << " Gbit/s, "
            << json["end"]["sum_sent"]["retransmits"].get<uint64_t>() << " retransmits\n";
  // And every byte arrives: 20 MiB through nc, counted on the other side.
  const std::string count = tmp_.path() + "/count";
  auto sink =
      shell("ip netns exec " + pods_[1]->name() + " sh -c 'timeout 20 nc -ln 5202 | wc -c > " +
            count + "' > /dev/null 2>&1 & echo $!");
  ASSERT_TRUE(
      eventually([&] { return pods_[1]->exec("ss -ltn | grep -q :5202").exit_code == 0; }, 5s));
  EXPECT_EQ(
      pods_[0]->exec("head -c 20971520 /dev/urandom | timeout 15 nc -N " + b + " 5202").exit_code,
      0);
  shell("while kill -0 " + std::string(trim(sink.output)) + " 2>/dev/null; do sleep 0.1; done");
  EXPECT_EQ(trim(shell("cat " + count).output), "20971520");
}

TEST_F(VxlanTest, Ipv6PodsConnectThroughVxlanOverAnIpv6Underlay) {
  applyPool("VXLAN");
  applyPoolV6("VXLAN");
  startNodes(2);
  ASSERT_FALSE(addPod(0, 1).empty());
  ASSERT_EQ(last_ips_.size(), 2u);
  ASSERT_FALSE(addPod(1, 2).empty());
  ASSERT_EQ(last_ips_.size(), 2u);
  const std::string b6 = last_ips_[1];
  ASSERT_TRUE(eventually([&] { return ping(*pods_[0], b6, "-6"); }))
      << nodes_[0]
             ->exec(
                 "ip -6 route; ip -6 neigh show dev vxlan-v6.coral; "
                 "bridge fdb show dev vxlan-v6.coral")
             .output
      << logs();
  auto dev = nodes_[0]->exec("ip -d link show vxlan-v6.coral").output;
  EXPECT_NE(dev.find("local fd00:98:1::2"), std::string::npos) << dev;
  EXPECT_NE(dev.find("mtu 1430"), std::string::npos) << dev;
  auto n2 = store_->get<model::Node>("n2").value();
  ASSERT_FALSE(n2.spec.vxlan_tunnel_address_v6.empty());
  auto route = nodes_[0]->exec("ip -6 route show proto 77").output;
  EXPECT_NE(route.find("via " + n2.spec.vxlan_tunnel_address_v6 + " dev vxlan-v6.coral"),
            std::string::npos)
      << route;
  auto fdb = nodes_[0]->exec("bridge fdb show dev vxlan-v6.coral").output;
  EXPECT_NE(fdb.find(n2.spec.vxlan_tunnel_mac_v6 + " dst fd00:98:2::2"), std::string::npos) << fdb;
  // VXLAN over IPv6 costs 70 bytes: every pod gets the smaller MTU (both families share
  // eth0), and the largest IPv6 ping with no fragmentation crosses: 1430 - 40 - 8.
  EXPECT_NE(pods_[0]->exec("ip link show eth0").output.find("mtu 1430"), std::string::npos);
  EXPECT_TRUE(ping(*pods_[0], b6, "-6 -M do -s 1382"));
  EXPECT_FALSE(ping(*pods_[0], b6, "-6 -M do -s 1383"));
}

}  // namespace
}  // namespace coral::testing
