// PolicyLab: the policy_world.h cluster built in the kernel for the policy dataplane
// tests. Two node namespaces n1 and n2 joined by a veth (192.168.1.1/24 - .2/24, each
// routing the other's pods), and one network namespace per pod of x, y, z × a, b, c,
// plumbed to its node with plumbWorkload (the same veth and addressing corald makes) on
// the world's interface names and addresses. Every pod serves TCP and UDP on ports 80 and
// 81 from one poll loop in this process (its sockets are created inside the pod's
// namespace). probeMatrix() connects every ordered pair on every port and protocol at once,
// non-blocking, with a short timeout. Everything is removed on every path (TestNetns).
//
// LabOptions::ipv6 also gives every pod an IPv6 address (withIpv6(), below), the nodes
// fd00:192:168:1::1/::2 on the link, and servers on IPv6 ports 80 and 81;
// probeMatrix(.., Family::kV6) then probes the same matrix over IPv6.
//
// LabOptions::pin_ipv6_neighbours gives each node a permanent neighbour entry for its
// pods' IPv6 addresses, so the node never sends them a neighbour solicitation. Without
// it, a pod whose ingress is isolated gets no IPv6 traffic once the node's entry for it is
// missing or stale: the solicitation comes from the host end's link-local address
// (gatewayV6()), which is not in node6, and the pod's ingress chain drops it (ICMPv6 is
// policed like any protocol). See DISABLED_Ipv6NeighbourDiscoveryUnderIsolation in
// truth_table_test.cc.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "agent/dataplane/netlink.h"
#include "agent/dataplane/netns.h"
#include "agent/dataplane/workload.h"
#include "tests/support/netns.h"
#include "tests/unit/policy/policy_world.h"

namespace coral::policy::testing {

using coral::testing::TestNetns;

struct ProbeKey {
  std::string from, to, probe;  // probe: "tcp/80" over IPv4, "tcp/80 ipv6" over IPv6
  auto operator<=>(const ProbeKey&) const = default;
};
using Matrix = std::map<ProbeKey, bool>;

inline std::string probeKeyName(const Probe& p, common::Family family) {
  return family == common::Family::kV4 ? p.name() : p.name() + " ipv6";
}

// The endpoint's address of a family (the world has at most one of each).
inline const common::IpAddress* addressOf(const Endpoint& e, common::Family family) {
  for (const auto& a : e.addresses) {
    if (a.family() == family) return &a;
  }
  return nullptr;
}

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};
inline SockAddr sockAddr(const common::IpAddress& ip, uint16_t port) {
  SockAddr out;
  const auto bytes = ip.bytes();
  if (ip.isV4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&out.storage);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    std::memcpy(&sa->sin_addr, bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    std::memcpy(&sa->sin6_addr, bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

// The world with IPv6 too: pod N of namespace M (10.M.0.N) gets fd00:10:M::N, nodes
// n1/n2 fd00:192:168:1::1/::2.
inline Snapshot withIpv6(Snapshot s) {
  std::vector<Endpoint> endpoints = s.endpoints();
  for (auto& e : endpoints) {
    const auto v4 = e.addresses.at(0).bytes();
    e.addresses.push_back(*common::IpAddress::parse(fmt::format("fd00:10:{}::{}", v4[1], v4[3])));
    s.addEndpoint(std::move(e));
  }
  s.setNodeAddresses("n1", {*common::IpAddress::parse("192.168.1.1"),
                            *common::IpAddress::parse("fd00:192:168:1::1")});
  s.setNodeAddresses("n2", {*common::IpAddress::parse("192.168.1.2"),
                            *common::IpAddress::parse("fd00:192:168:1::2")});
  return s;
}

struct LabOptions {
  bool ipv6 = false;
  bool pin_ipv6_neighbours = false;
};

class PolicyLab {
 public:
  explicit PolicyLab(LabOptions options = {})
      : world_(options.ipv6 ? withIpv6(makeWorld()) : makeWorld()), options_(options) {}
  ~PolicyLab() {
    stop_ = true;
    if (server_.joinable()) server_.join();
    for (int fd : server_fds_) ::close(fd);
  }

  // Builds everything; a message naming what failed, empty on success.
  std::string build() {
    nodes_["n1"] = std::make_unique<TestNetns>("n1");
    nodes_["n2"] = std::make_unique<TestNetns>("n2");
    for (auto& [name, ns] : nodes_) {
      if (!ns->ok()) return "cannot create node namespace " + name;
    }
    if (!coral::testing::linkNamespaces(*nodes_["n1"], "ul0", *nodes_["n2"], "ul0")) {
      return "cannot link n1 and n2";
    }
    for (const auto& [name, addr] : {std::pair{"n1", "192.168.1.1"}, {"n2", "192.168.1.2"}}) {
      auto r = nodes_[name]->exec(
          fmt::format("ip addr add {}/24 dev ul0 && sysctl -qw net.ipv4.ip_forward=1", addr));
      if (r.exit_code != 0) return "node " + std::string(name) + ": " + r.output;
    }
    for (const auto& [name, addr] :
         {std::pair{"n1", "fd00:192:168:1::1"}, {"n2", "fd00:192:168:1::2"}}) {
      if (!options_.ipv6) break;
      auto r = nodes_[name]->exec(fmt::format(
          "ip addr add {}/64 dev ul0 nodad && sysctl -qw net.ipv6.conf.all.forwarding=1", addr));
      if (r.exit_code != 0) return "node " + std::string(name) + ": " + r.output;
    }
    for (const auto& e : world_.endpoints()) {
      auto pod = std::make_unique<TestNetns>(e.namespace_ + e.name);
      if (!pod->ok()) return "cannot create pod namespace " + e.id();
      auto node_fd = agent::NetnsFd::open(nodes_[e.node]->path());
      if (!node_fd.ok()) return node_fd.status().ToString();
      agent::MacAddress pod_mac{};
      absl::Status status = agent::runInNetns(*node_fd, [&]() -> absl::Status {
        auto nl = agent::Netlink::open();
        if (!nl.ok()) return nl.status();
        agent::WorkloadSpec spec;
        spec.host_ifname = e.interface_name;
        spec.netns_path = pod->path();
        spec.addresses = e.addresses;
        auto links = agent::plumbWorkload(**nl, spec);
        if (!links.ok()) return links.status();
        pod_mac = links->pod_mac;
        return absl::OkStatus();
      });
      if (!status.ok()) return e.id() + ": " + status.ToString();
      const common::IpAddress* v6 = addressOf(e, common::Family::kV6);
      if (options_.pin_ipv6_neighbours && v6 != nullptr) {
        auto r = nodes_[e.node]->exec(
            fmt::format("ip -6 neigh replace {} lladdr {} dev {} nud permanent", v6->toString(),
                        agent::formatMac(pod_mac), e.interface_name));
        if (r.exit_code != 0) return "neighbour of " + e.id() + ": " + r.output;
      }
      const std::string other = e.node == "n1" ? "n2" : "n1";
      for (const auto& address : e.addresses) {
        const std::string via = address.isV4()
                                    ? (e.node == "n1" ? "192.168.1.1" : "192.168.1.2")
                                    : (e.node == "n1" ? "fd00:192:168:1::1" : "fd00:192:168:1::2");
        auto r = nodes_[other]->exec(fmt::format("ip route add {}/{} via {} dev ul0",
                                                 address.toString(), address.bitLength(), via));
        if (r.exit_code != 0) return "route to " + e.id() + ": " + r.output;
      }
      pod_ns_[e.id()] = std::move(pod);
    }
    if (options_.ipv6) {
      if (std::string waited = waitForIpv6Links(); !waited.empty()) return waited;
    }
    return startServers();
  }

  Snapshot& world() { return world_; }
  const TestNetns& node(const std::string& name) const { return *nodes_.at(name); }
  const TestNetns& pod(const std::string& id) const { return *pod_ns_.at(id); }

  // Every ordered pair × probe over one address family. A pair that looks denied but
  // `expect` says allowed is probed again with a long timeout, so a slow first packet is
  // not a false deny.
  Matrix probeMatrix(const std::vector<Probe>& probes, int timeout_ms,
                     const std::function<bool(const ProbeKey&)>& expect_allowed = {},
                     common::Family family = common::Family::kV4) {
    std::vector<ProbeKey> keys;
    for (const auto& from : allPods()) {
      for (const auto& to : allPods()) {
        for (const auto& p : probes) keys.push_back({from.id(), to.id(), probeKeyName(p, family)});
      }
    }
    Matrix m = probeKeys(keys, probes, timeout_ms, family);
    if (expect_allowed) {
      std::vector<ProbeKey> again;
      for (const auto& [k, allowed] : m) {
        if (!allowed && expect_allowed(k)) again.push_back(k);
      }
      if (!again.empty()) {
        for (const auto& [k, allowed] : probeKeys(again, probes, 1500, family)) m[k] = allowed;
      }
    }
    return m;
  }

  struct UdpFlow {
    int fd = -1;
    ~UdpFlow() {
      if (fd >= 0) ::close(fd);
    }
  };
  // A connected UDP socket in `from`'s namespace towards `to`'s server.
  absl::StatusOr<std::unique_ptr<UdpFlow>> openUdpFlow(const std::string& from,
                                                       const std::string& to, uint16_t port) {
    auto flow = std::make_unique<UdpFlow>();
    flow->fd = socketIn(*pod_ns_.at(from), SOCK_DGRAM, AF_INET);
    SockAddr sa = sockAddr(world_.findEndpoint(to)->addresses[0], port);
    if (flow->fd < 0 || ::connect(flow->fd, sa.get(), sa.length) != 0) {
      return absl::InternalError("udp socket/connect failed");
    }
    return flow;
  }
  // One datagram out, true when the echo comes back in time.
  bool exchange(const UdpFlow& flow, int timeout_ms) {
    if (::send(flow.fd, "!", 1, 0) != 1) return false;
    pollfd p{flow.fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    char buf[8];
    return ::recv(flow.fd, buf, sizeof(buf), 0) > 0;
  }

 private:
  // A socket made inside a namespace (sockets stay in the namespace they were made in).
  int socketIn(const TestNetns& ns, int type, int domain) {
    auto fd = agent::NetnsFd::open(ns.path());
    if (!fd.ok()) return -1;
    int s = -1;
    (void)agent::runInNetns(*fd, [&] {
      s = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      return absl::OkStatus();
    });
    return s;
  }

  // Every probe gets a source port no earlier probe of this lab used, below the kernel's
  // ephemeral range. With kernel-chosen ports a probe can repeat the 5-tuple of a probe
  // from an earlier case whose conntrack entry is still alive (UDP keeps one for 30-120 s),
  // and conntrack's "established" then admits a flow the new policy denies: a false '+'.
  // The link between the nodes is usable over IPv6 once duplicate address detection of
  // its link-local addresses is over (~1-2 s after it comes up): until then the first
  // neighbour solicitation between the nodes waits, and a cross-node probe of the first
  // IPv6 case times out.
  std::string waitForIpv6Links() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto& [name, ns] : nodes_) {
      while (true) {
        auto r = ns->exec("ip -6 addr show dev ul0 tentative");
        if (r.exit_code != 0) return "node " + name + ": " + r.output;
        if (r.output.find("inet6") == std::string::npos) break;
        if (std::chrono::steady_clock::now() > deadline) {
          return "node " + name + ": ul0 still has tentative IPv6 addresses: " + r.output;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return "";
  }

  // IPv4 and IPv6 probes share the counter.
  void bindFreshSourcePort(int s, common::Family family) {
    if (s < 0) return;
    for (int attempt = 0; attempt < 16; ++attempt) {
      const uint16_t port = next_source_port_;
      next_source_port_ = next_source_port_ >= 32000 ? 10000 : next_source_port_ + 1;
      SockAddr sa = sockAddr(common::IpAddress::zero(family), port);
      if (::bind(s, sa.get(), sa.length) == 0) return;
    }
  }

  std::string startServers() {
    std::vector<common::Family> families = {common::Family::kV4};
    if (options_.ipv6) families.push_back(common::Family::kV6);
    for (const auto& e : world_.endpoints()) {
      for (const auto& [type, port, family] : serverSockets(families)) {
        const bool v6 = family == common::Family::kV6;
        const int s = socketIn(*pod_ns_.at(e.id()), type, v6 ? AF_INET6 : AF_INET);
        if (s < 0) return "socket in " + e.id();
        const int one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (v6) ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        SockAddr sa = sockAddr(common::IpAddress::zero(family), port);
        if (::bind(s, sa.get(), sa.length) != 0 || (type == SOCK_STREAM && ::listen(s, 512) != 0)) {
          ::close(s);
          return fmt::format("bind/listen {} {} port {}: {}", e.id(), common::familyName(family),
                             port, std::strerror(errno));
        }
        server_fds_.push_back(s);
        server_tcp_.push_back(type == SOCK_STREAM);
      }
    }
    server_ = std::thread([this] { serve(); });
    return "";
  }

  void serve() {
    std::vector<pollfd> fds;
    for (int fd : server_fds_) fds.push_back({fd, POLLIN, 0});
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        if (server_tcp_[i]) {
          int c;
          while ((c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0) ::close(c);
        } else {
          char buf[64];
          sockaddr_storage peer{};
          socklen_t len = sizeof(peer);
          ssize_t n;
          while ((n = ::recvfrom(fds[i].fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer),
                                 &len)) > 0) {
            ::sendto(fds[i].fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer),
                     len);
            len = sizeof(peer);
          }
        }
      }
    }
  }

  struct ServerSocket {
    int type;
    uint16_t port;
    common::Family family;
  };
  static std::vector<ServerSocket> serverSockets(const std::vector<common::Family>& families) {
    std::vector<ServerSocket> out;
    for (auto family : families) {
      for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
        for (uint16_t port : {80, 81}) out.push_back({type, port, family});
      }
    }
    return out;
  }

  Matrix probeKeys(const std::vector<ProbeKey>& keys, const std::vector<Probe>& probes,
                   int timeout_ms, common::Family family) {
    std::map<std::string, Probe> by_name;
    for (const auto& p : probes) by_name[probeKeyName(p, family)] = p;
    std::vector<pollfd> fds;
    std::vector<bool> tcp;
    Matrix m;
    for (const auto& k : keys) {
      const Probe& p = by_name.at(k.probe);
      const bool is_tcp = p.protocol == kProtoTcp;
      const int s = socketIn(*pod_ns_.at(k.from), is_tcp ? SOCK_STREAM : SOCK_DGRAM,
                             family == common::Family::kV4 ? AF_INET : AF_INET6);
      bindFreshSourcePort(s, family);
      const common::IpAddress* to = addressOf(*world_.findEndpoint(k.to), family);
      SockAddr sa = sockAddr(*to, p.port);
      const int rc = ::connect(s, sa.get(), sa.length);
      if (!is_tcp && rc == 0) (void)::send(s, "?", 1, 0);
      fds.push_back({s, static_cast<short>(is_tcp ? POLLOUT : POLLIN), 0});
      tcp.push_back(is_tcp);
      m[k] = false;
    }
    std::vector<bool> done(keys.size(), false);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t remaining = keys.size();
    while (remaining > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      if (::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (done[i] || fds[i].revents == 0) continue;
        if (tcp[i]) {
          int err = 0;
          socklen_t len = sizeof(err);
          ::getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
          m[keys[i]] = err == 0;
        } else {
          char buf[8];
          m[keys[i]] = ::recv(fds[i].fd, buf, sizeof(buf), 0) > 0;
        }
        done[i] = true;
        fds[i].events = 0;
        fds[i].fd = -fds[i].fd - 1;  // poll ignores negative fds; restored for close below
        --remaining;
      }
    }
    for (const auto& f : fds) ::close(f.fd < 0 ? -f.fd - 1 : f.fd);
    return m;
  }

  Snapshot world_;
  std::map<std::string, std::unique_ptr<TestNetns>> nodes_;
  std::map<std::string, std::unique_ptr<TestNetns>> pod_ns_;
  std::vector<int> server_fds_;
  std::vector<bool> server_tcp_;
  LabOptions options_;
  uint16_t next_source_port_ = 10000;
  std::atomic<bool> stop_{false};
  std::thread server_;
};

// The grids of the probes where `got` and `want` differ ('+' allowed but expected denied,
// '-' denied but expected allowed), each titled with its family and probe ("IPv6
// tcp/80"); empty when equal.
inline std::string diffMatrix(const Matrix& got, const Matrix& want,
                              const std::vector<Probe>& probes,
                              common::Family family = common::Family::kV4) {
  const auto pods = allPods();
  std::string out;
  for (const auto& probe : probes) {
    bool differs = false;
    std::string grid = fmt::format("{} {}:\n{:<8}", common::familyName(family), probe.name(), "");
    for (const auto& to : pods) grid += fmt::format(" {:>3}", to.id());
    grid += "\n";
    for (const auto& from : pods) {
      grid += fmt::format("{:<8}", from.id());
      for (const auto& to : pods) {
        const ProbeKey k{from.id(), to.id(), probeKeyName(probe, family)};
        const bool g = got.at(k), w = want.at(k);
        char cell = g ? '.' : 'X';
        if (g != w) {
          cell = g ? '+' : '-';
          differs = true;
        }
        grid += fmt::format(" {:>3}", cell);
      }
      grid += "\n";
    }
    if (differs) out += grid;
  }
  return out;
}

// What the trace evaluator predicts for every cell. Over IPv4 the ends are traced by pod
// id (its first address, the IPv4 one); over IPv6 by their IPv6 addresses.
inline Matrix predictMatrix(const Snapshot& s, const std::vector<Probe>& probes,
                            common::Family family = common::Family::kV4) {
  Tracer tracer(s);
  auto end = [&](const PodRef& pod) {
    if (family == common::Family::kV4) return pod.id();
    const common::IpAddress* a = addressOf(*s.findEndpoint(pod.id()), family);
    return a ? a->toString() : pod.id();
  };
  Matrix m;
  for (const auto& from : allPods()) {
    for (const auto& to : allPods()) {
      for (const auto& p : probes) {
        m[{from.id(), to.id(), probeKeyName(p, family)}] =
            from.id() == to.id() || traceAllowed(tracer, end(from), end(to), p);
      }
    }
  }
  return m;
}

inline Matrix expectationMatrix(const Expectation& expect, const std::vector<Probe>& probes,
                                common::Family family = common::Family::kV4) {
  Matrix m;
  for (const auto& from : allPods()) {
    for (const auto& to : allPods()) {
      for (const auto& p : probes) {
        m[{from.id(), to.id(), probeKeyName(p, family)}] =
            from.id() == to.id() || expect(from, to, p);
      }
    }
  }
  return m;
}

}  // namespace coral::policy::testing
