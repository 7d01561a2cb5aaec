// PolicyLab: the policy_world.h cluster built in the kernel for the policy dataplane
// tests. Two node namespaces n1 and n2 joined by a veth (192.168.1.1/24 - .2/24, each
// routing the other's pods), and one network namespace per pod of x, y, z × a, b, c,
// plumbed to its node with plumbWorkload (the same veth and addressing corald makes) on
// the world's interface names and addresses. Every pod serves TCP and UDP on ports 80 and
// 81 from one poll loop in this process (its sockets are created inside the pod's
// namespace). probeMatrix() connects every ordered pair on every port and protocol at once,
// non-blocking, with a short timeout. Everything is removed on every path (TestNetns).
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
  std::string from, to, probe;
  auto operator<=>(const ProbeKey&) const = default;
};
using Matrix = std::map<ProbeKey, bool>;

inline sockaddr_in sockAddr(const common::IpAddress& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  const auto bytes = ip.bytes();
  std::memcpy(&sa.sin_addr, bytes.data(), 4);
  return sa;
}

class PolicyLab {
 public:
  PolicyLab() : world_(makeWorld()) {}
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
    for (const auto& e : world_.endpoints()) {
      auto pod = std::make_unique<TestNetns>(e.namespace_ + e.name);
      if (!pod->ok()) return "cannot create pod namespace " + e.id();
      auto node_fd = agent::NetnsFd::open(nodes_[e.node]->path());
      if (!node_fd.ok()) return node_fd.status().ToString();
      absl::Status status = agent::runInNetns(*node_fd, [&]() -> absl::Status {
        auto nl = agent::Netlink::open();
        if (!nl.ok()) return nl.status();
        agent::WorkloadSpec spec;
        spec.host_ifname = e.interface_name;
        spec.netns_path = pod->path();
        spec.addresses = e.addresses;
        return agent::plumbWorkload(**nl, spec).status();
      });
      if (!status.ok()) return e.id() + ": " + status.ToString();
      const std::string other = e.node == "n1" ? "n2" : "n1";
      const std::string via = e.node == "n1" ? "192.168.1.1" : "192.168.1.2";
      auto r = nodes_[other]->exec(
          fmt::format("ip route add {}/32 via {} dev ul0", e.addresses[0].toString(), via));
      if (r.exit_code != 0) return "route to " + e.id() + ": " + r.output;
      pod_ns_[e.id()] = std::move(pod);
    }
    return startServers();
  }

  Snapshot& world() { return world_; }
  const TestNetns& node(const std::string& name) const { return *nodes_.at(name); }
  const TestNetns& pod(const std::string& id) const { return *pod_ns_.at(id); }

  // Every ordered pair × probe. A pair that looks denied but `expect` says allowed is
  // probed again with a long timeout, so a slow first packet is not a false deny.
  Matrix probeMatrix(const std::vector<Probe>& probes, int timeout_ms,
                     const std::function<bool(const ProbeKey&)>& expect_allowed = {}) {
    std::vector<ProbeKey> keys;
    for (const auto& from : allPods()) {
      for (const auto& to : allPods()) {
        for (const auto& p : probes) keys.push_back({from.id(), to.id(), p.name()});
      }
    }
    Matrix m = probeKeys(keys, probes, timeout_ms);
    if (expect_allowed) {
      std::vector<ProbeKey> again;
      for (const auto& [k, allowed] : m) {
        if (!allowed && expect_allowed(k)) again.push_back(k);
      }
      if (!again.empty()) {
        for (const auto& [k, allowed] : probeKeys(again, probes, 1500)) m[k] = allowed;
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
    flow->fd = socketIn(*pod_ns_.at(from), SOCK_DGRAM);
    sockaddr_in sa = sockAddr(world_.findEndpoint(to)->addresses[0], port);
    if (flow->fd < 0 || ::connect(flow->fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
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
  int socketIn(const TestNetns& ns, int type) {
    auto fd = agent::NetnsFd::open(ns.path());
    if (!fd.ok()) return -1;
    int s = -1;
    (void)agent::runInNetns(*fd, [&] {
      s = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      return absl::OkStatus();
    });
    return s;
  }

  // Every probe gets a source port no earlier probe of this lab used, below the kernel's
  // ephemeral range. With kernel-chosen ports a probe can repeat the 5-tuple of a probe
  // from an earlier case whose conntrack entry is still alive (UDP keeps one for 30-120 s),
  // and conntrack's "established" then admits a flow the new policy denies: a false '+'.
  void bindFreshSourcePort(int s) {
    if (s < 0) return;
    for (int attempt = 0; attempt < 16; ++attempt) {
      const uint16_t port = next_source_port_;
      next_source_port_ = next_source_port_ >= 32000 ? 10000 : next_source_port_ + 1;
      sockaddr_in sa = sockAddr(common::IpAddress::v4(0), port);
      if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) return;
    }
  }

  std::string startServers() {
    for (const auto& e : world_.endpoints()) {
      for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
        for (uint16_t port : {80, 81}) {
          const int s = socketIn(*pod_ns_.at(e.id()), type);
          if (s < 0) return "socket in " + e.id();
          const int one = 1;
          ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
          sockaddr_in sa = sockAddr(common::IpAddress::v4(0), port);
          if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
              (type == SOCK_STREAM && ::listen(s, 512) != 0)) {
            ::close(s);
            return fmt::format("bind/listen {} port {}: {}", e.id(), port, std::strerror(errno));
          }
          server_fds_.push_back(s);
          server_tcp_.push_back(type == SOCK_STREAM);
        }
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

  Matrix probeKeys(const std::vector<ProbeKey>& keys, const std::vector<Probe>& probes,
                   int timeout_ms) {
    std::map<std::string, Probe> by_name;
    for (const auto& p : probes) by_name[p.name()] = p;
    std::vector<pollfd> fds;
    std::vector<bool> tcp;
    Matrix m;
    for (const auto& k : keys) {
      const Probe& p = by_name.at(k.probe);
      const bool is_tcp = p.protocol == kProtoTcp;
      const int s = socketIn(*pod_ns_.at(k.from), is_tcp ? SOCK_STREAM : SOCK_DGRAM);
      bindFreshSourcePort(s);
      const Endpoint* to = world_.findEndpoint(k.to);
      sockaddr_in sa = sockAddr(to->addresses[0], p.port);
      const int rc = ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
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
  uint16_t next_source_port_ = 10000;
  std::atomic<bool> stop_{false};
  std::thread server_;
};

// The grids of the probes where `got` and `want` differ ('+' allowed but expected denied,
// '-' denied but expected allowed); empty when equal.
inline std::string diffMatrix(const Matrix& got, const Matrix& want,
                              const std::vector<Probe>& probes) {
  const auto pods = allPods();
  std::string out;
  for (const auto& probe : probes) {
    bool differs = false;
    std::string grid = fmt::format("{:<8}", probe.name());
    for (const auto& to : pods) grid += fmt::format(" {:>3}", to.id());
    grid += "\n";
    for (const auto& from : pods) {
      grid += fmt::format("{:<8}", from.id());
      for (const auto& to : pods) {
        const ProbeKey k{from.id(), to.id(), probe.name()};
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

// What the trace evaluator predicts for every cell.
inline Matrix predictMatrix(const Snapshot& s, const std::vector<Probe>& probes) {
  Tracer tracer(s);
  Matrix m;
  for (const auto& from : allPods()) {
    for (const auto& to : allPods()) {
      for (const auto& p : probes) {
        m[{from.id(), to.id(), p.name()}] =
            from.id() == to.id() || traceAllowed(tracer, from.id(), to.id(), p);
      }
    }
  }
  return m;
}

inline Matrix expectationMatrix(const Expectation& expect, const std::vector<Probe>& probes) {
  Matrix m;
  for (const auto& from : allPods()) {
    for (const auto& to : allPods()) {
      for (const auto& p : probes) {
        m[{from.id(), to.id(), p.name()}] = from.id() == to.id() || expect(from, to, p);
      }
    }
  }
  return m;
}

}  // namespace coral::policy::testing
