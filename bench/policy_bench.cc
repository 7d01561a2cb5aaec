// policy_bench: the policy dataplane at scale, in a network namespace of its own (root).
//   policy_bench [ENDPOINTS=10000] [POLICIES=1000] [LOCAL=ENDPOINTS]
//   LOCAL of the endpoints run on this node, the others elsewhere (set members only)
//   (CORAL_BENCH_SKIP_IPTABLES=1 skips iptables-restore, which takes minutes at 10k × 1k
//   all local, and the iptables connect-latency row)
// Full sync of ENDPOINTS local endpoints × POLICIES policies through PolicyDataplane, vs
// `nft -f` of the same rendered table (the lower bound) and `iptables-restore` of the
// Calico-style (set-less) ruleset; then one pod added under that load (set elements +
// its own chains). Then TCP connect latency from a client pod to a server pod of this node
// (veths plumbed as corald does, the SYN walking dispatch → endpoint chains → policy
// chains): with no ruleset, through PolicyDataplane's table, with conntrack alone (to
// split the cost), and through the iptables fallback. Prints times and ratios. Not a test.
#include <fmt/format.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "agent/dataplane/netlink.h"
#include "agent/dataplane/netns.h"
#include "agent/dataplane/workload.h"
#include "agent/policy/iptables_dataplane.h"
#include "agent/policy/policy_dataplane.h"
#include "model/yaml.h"
#include "policy/compiler.h"
#include "policy/convert.h"
#include "policy/iptables.h"
#include "policy/nftables.h"

using namespace coral;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Netns {
  std::string name;
  explicit Netns(const std::string& suffix = "")
      : name("coral-bench-" + std::to_string(::getpid()) + suffix) {
    (void)std::system(("ip netns add " + name).c_str());
  }
  ~Netns() { (void)std::system(("ip netns del " + name).c_str()); }
  std::string path() const { return "/var/run/netns/" + name; }
  double timed(const std::string& cmd) const {
    const double t = now_ms();
    const int rc = std::system(("ip netns exec " + name + " " + cmd).c_str());
    if (rc != 0) fmt::print(stderr, "command failed: {}\n", cmd);
    return now_ms() - t;
  }
};

int g_local = 0;  // endpoints [0, g_local) run on n1 (this node), the rest on n2

policy::Endpoint endpoint(int i) {
  policy::Endpoint e;
  e.namespace_ = fmt::format("ns{}", i % 10);
  e.name = fmt::format("pod{}", i);
  e.node = i < g_local ? "n1" : "n2";
  e.interface_name = fmt::format("cor{:011x}", i);
  e.labels = {{"app", fmt::format("app{}", i % 100)}};
  e.addresses = {common::IpAddress::v4(0x0a000000u + static_cast<uint32_t>(i) + 1)};
  e.ports = {{"http", policy::kProtoTcp, 80}};
  return e;
}

// --- TCP connect latency -------------------------------------------------------------------

// A pod namespace plumbed to the node namespace the way corald does it (veth, /32, default
// route via the host end).
bool plumb(const Netns& node, const Netns& pod, const std::string& host_ifname,
           const common::IpAddress& address) {
  auto node_fd = agent::NetnsFd::open(node.path());
  if (!node_fd.ok()) return false;
  absl::Status status = agent::runInNetns(*node_fd, [&]() -> absl::Status {
    auto nl = agent::Netlink::open();
    if (!nl.ok()) return nl.status();
    agent::WorkloadSpec spec;
    spec.host_ifname = host_ifname;
    spec.netns_path = pod.path();
    spec.addresses = {address};
    return agent::plumbWorkload(**nl, spec).status();
  });
  if (!status.ok()) fmt::print(stderr, "plumbing {}: {}\n", pod.name, status.ToString());
  return status.ok();
}

sockaddr_in sockAddr(const common::IpAddress& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  std::memcpy(&sa.sin_addr, ip.bytes().data(), 4);
  return sa;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// connect() latencies (µs), sorted, with their percentiles.
struct Latencies {
  std::vector<double> us;
  std::string error;  // empty when every connect succeeded
  double pct(double p) const {
    if (us.empty()) return 0;
    return us[std::min(us.size() - 1, static_cast<size_t>(p / 100.0 * us.size()))];
  }
};

// A client in one pod namespace connecting again and again to a listener in another.
// Every connect binds a source port no earlier connect used, so each SYN is a new
// conntrack entry and walks the ruleset (only the first packet of a connection does; later
// ones are accepted as established, which is the real cost too).
class ConnectProbe {
 public:
  ConnectProbe(const Netns& client, const Netns& server, common::IpAddress server_ip, uint16_t port)
      : client_(client), server_ip_(server_ip), port_(port) {
    auto fd = agent::NetnsFd::open(server.path());
    if (!fd.ok()) return;
    (void)agent::runInNetns(*fd, [&] {
      listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in sa = sockAddr(common::IpAddress::v4(0), port_);
      if (::bind(listener_.fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
          ::listen(listener_.fd, 64) != 0) {
        listener_ = Fd();
      }
      return absl::OkStatus();
    });
  }
  bool ok() const { return listener_.fd >= 0; }

  // `warmup` connects not recorded, then `n` recorded: connect() until established (the
  // SYN-ACK arrived), then accept and close both ends (the client with RST, so no
  // TIME_WAIT piles up). The client thread is called `thread_name`, and the forwarding
  // and rule evaluation of its packets run in its softirq context, so `perf record -g`
  // of the bench then `perf report --comm NAME` profiles one configuration.
  Latencies run(int warmup, int n, const char* thread_name) {
    Latencies out;
    auto ns = agent::NetnsFd::open(client_.path());
    if (!ns.ok()) return {{}, ns.status().ToString()};
    std::thread t([&] {
      ::pthread_setname_np(::pthread_self(), thread_name);
      if (::setns(ns->fd(), CLONE_NEWNET) != 0) {
        out.error = fmt::format("setns: {}", std::strerror(errno));
        return;
      }
      const sockaddr_in to = sockAddr(server_ip_, port_);
      for (int i = 0; i < warmup + n; ++i) {
        Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const linger rst{1, 0};
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
        const timeval timeout{2, 0};  // a dropped SYN fails the run instead of hanging
        ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        const uint16_t source_port = g_next_source_port++;
        const sockaddr_in from = sockAddr(common::IpAddress::v4(0), source_port);
        if (::bind(c.fd, reinterpret_cast<const sockaddr*>(&from), sizeof(from)) != 0) {
          out.error = fmt::format("bind source port {}: {}", source_port, std::strerror(errno));
          return;
        }
        const double t0 = now_ms();
        const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
        const double t1 = now_ms();
        if (rc != 0) {
          out.error =
              fmt::format("connect #{} from port {}: {}", i, source_port, std::strerror(errno));
          return;
        }
        Fd a(::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (i >= warmup) out.us.push_back((t1 - t0) * 1000);
      }
    });
    t.join();
    std::sort(out.us.begin(), out.us.end());
    return out;
  }

 private:
  const Netns& client_;
  common::IpAddress server_ip_;
  uint16_t port_;
  Fd listener_;
  // Shared by every probe and run: no two connects of the bench share a 5-tuple.
  static inline uint16_t g_next_source_port = 10000;
};

}  // namespace

int main(int argc, char** argv) {
  const int endpoints = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int policies = argc > 2 ? std::atoi(argv[2]) : 1000;
  g_local = argc > 3 ? std::atoi(argv[3]) : endpoints;
  policy::Snapshot s;
  for (int n = 0; n < 10; ++n) s.addNamespace({fmt::format("ns{}", n), {}});
  for (int i = 0; i < endpoints; ++i) s.addEndpoint(endpoint(i));
  s.setNodeAddresses("n1", {common::IpAddress::v4(0xc0a80101)});
  std::string yaml;
  for (int k = 0; k < policies; ++k) {
    yaml += fmt::format(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{}, "
        "namespace: ns{}}}\nspec:\n  podSelector: {{matchLabels: {{app: app{}}}}}\n  ingress:\n"
        "  - from: [{{podSelector: {{matchLabels: {{app: app{}}}}}}}]\n    ports: [{{port: {}}}]\n"
        "---\n",
        k, k % 10, k % 100, (k + 1) % 100, 8000 + k);
  }
  for (auto& doc : model::parseResources(yaml)) {
    if (!doc.resource.ok() || !policy::applyResource(s, *doc.resource).ok()) {
      fmt::print(stderr, "bad policy document {}\n", doc.index);
      return 1;
    }
  }
  Netns ns;
  // Connect latency: the server is endpoint 0 (ns0/pod0, app0, on this node), selected by
  // the ten policies p0, p100, .. p900; the client is a pod of app1 in ns0, which each of
  // them admits on its own port. Port 8900 is p900's, the last of the ten in evaluation
  // order, so the SYN walks every policy chain of the server; port 8000 is p0's, the
  // first (one policy chain), to tell the cost of a policy chain from the fixed cost.
  constexpr int kConnects = 5000, kWarmup = 500;
  constexpr uint16_t kServerPort = 8900, kFirstPolicyPort = 8000;
  policy::Endpoint client;
  client.namespace_ = "ns0";
  client.name = "client";
  client.node = "n1";
  client.interface_name = "corbenchclient";
  client.labels = {{"app", "app1"}};
  client.addresses = {common::IpAddress::v4(0x0ac80001)};  // 10.200.0.1
  const policy::Endpoint server = endpoint(0);
  const bool measure_connect = g_local > 0 && policies > 900;
  Netns client_ns("-client"), server_ns("-server");
  std::unique_ptr<ConnectProbe> probe, probe_first;
  Latencies bare;
  if (measure_connect) {
    if (!plumb(ns, client_ns, client.interface_name, client.addresses[0]) ||
        !plumb(ns, server_ns, server.interface_name, server.addresses[0])) {
      return 1;
    }
    // The node's own address (n1's in the snapshot): the source of its ARP requests.
    ns.timed(
        "sh -c 'ip link set lo up && ip addr add 192.168.1.1/32 dev lo && sysctl -qw "
        "net.ipv4.ip_forward=1'");
    probe = std::make_unique<ConnectProbe>(client_ns, server_ns, server.addresses[0], kServerPort);
    probe_first =
        std::make_unique<ConnectProbe>(client_ns, server_ns, server.addresses[0], kFirstPolicyPort);
    if (!probe->ok() || !probe_first->ok()) {
      fmt::print(stderr, "cannot listen in {}\n", server_ns.name);
      return 1;
    }
    bare = probe->run(kWarmup, kConnects, "connect-bare");  // no table loaded yet
  }
  auto dp = agent::makePolicyDataplane("nftables", "n1", ns.path());
  if (!dp.ok()) return 1;
  const double t0 = now_ms();
  if (auto st = (*dp)->apply(s); !st.ok()) {
    fmt::print(stderr, "apply: {}\n", st.ToString());
    return 1;
  }
  const double full = now_ms() - t0;
  const auto stats = (*dp)->lastApply();
  // The same table through nft -f (after removing ours).
  const policy::Program program = policy::compile(s, "n1");
  const policy::MemberMap members = policy::computeMembers(program, s);
  const std::string file = fmt::format("/tmp/coral-bench-{}.nft", ::getpid());
  std::ofstream(file) << policy::renderNftables(program, members);
  ns.timed("nft delete table inet coral");
  const double nft_f = ns.timed("nft -f " + file);
  const std::string ipt = fmt::format("/tmp/coral-bench-{}.ipt", ::getpid());
  std::ofstream(ipt) << policy::renderIptablesRestore(program, members, common::Family::kV4);
  const bool skip_iptables = std::getenv("CORAL_BENCH_SKIP_IPTABLES") != nullptr;
  const double restore = skip_iptables ? 0 : ns.timed("iptables-restore --noflush " + ipt);
  // Loaded only to time it: gone before anything else is measured (iptables runs on the
  // nf_tables backend here, and its conntrack match alone would slow every later connect).
  if (!skip_iptables) ns.timed("nft delete table ip filter");
  std::remove(file.c_str());
  std::remove(ipt.c_str());
  // Incremental: one more pod (re-sync the dataplane to the kernel first).
  (void)(*dp)->resync();
  policy::Endpoint added = endpoint(endpoints);
  added.node = "n1";
  s.addEndpoint(added);
  const double t1 = now_ms();
  (void)(*dp)->apply(s);
  const double incr = now_ms() - t1;
  const auto incr_stats = (*dp)->lastApply();
  // The staged pod gets its own chains (corald does this 500 ms later, batched, off the
  // CNI path): one ruleset re-validation.
  const double t_cons = now_ms();
  (void)(*dp)->consolidate();
  const double consolidate_ms = now_ms() - t_cons;
  // A pod on another node: set elements only (no chain, no jump).
  policy::Endpoint remote = endpoint(endpoints + 1);
  remote.node = "n2";
  remote.namespace_ = "ns0";
  remote.labels = {{"app", "app1"}};  // a source that policy p0 (ns0) allows
  remote.interface_name.clear();
  s.addEndpoint(remote);
  const double t2 = now_ms();
  (void)(*dp)->apply(s);
  const double remote_ms = now_ms() - t2;
  const auto remote_stats = (*dp)->lastApply();
  fmt::print(
      "endpoints {} ({} on this node) policies {} (ruleset {:.1f} MB nft, {} policy chains)\n",
      endpoints, g_local, policies, stats.commands_bytes / 1e6, program.policy_chains.size());
  fmt::print("PolicyDataplane full sync  {:8.1f} ms (compile {:.1f}, kernel {:.1f})\n", full,
             stats.compile_ms, stats.write_ms);
  fmt::print("nft -f same table          {:8.1f} ms   ratio {:.2f}x\n", nft_f, full / nft_f);
  if (!skip_iptables) {
    fmt::print("iptables-restore (Calico)  {:8.1f} ms   ratio {:.2f}x\n", restore, full / restore);
  }
  fmt::print("incremental add of one pod {:8.3f} ms (compile {:.3f}, kernel {:.3f}, {}{})\n", incr,
             incr_stats.compile_ms, incr_stats.write_ms,
             incr_stats.netlink ? "one netlink batch"
                                : fmt::format("{} bytes of nft text", incr_stats.commands_bytes),
             incr_stats.staged > 0 ? ", staged" : "");
  if (incr_stats.staged > 0) {
    fmt::print("  its own chains later       {:8.3f} ms (consolidate, off the CNI path)\n",
               consolidate_ms);
  }
  fmt::print("a pod on another node       {:8.3f} ms (compile {:.3f}, kernel {:.3f}, {})\n",
             remote_ms, remote_stats.compile_ms, remote_stats.write_ms,
             remote_stats.netlink ? "one netlink batch" : "nft text");
  if (!measure_connect) {
    fmt::print("(connect latency needs LOCAL >= 1 and POLICIES > 900)\n");
    return 0;
  }
  // The client joins (an incremental apply): a pod added on this node is first staged
  // (policy/staging.h), its packets judged by the shared staged chains. Measured so, then
  // consolidated into its own chains, the steady state.
  s.addEndpoint(client);
  if (auto st = (*dp)->apply(s); !st.ok()) {
    fmt::print(stderr, "apply with the client: {}\n", st.ToString());
    return 1;
  }
  Latencies coral_staged;
  const bool client_staged = (*dp)->staged() > 0;
  if (client_staged) coral_staged = probe->run(kWarmup, kConnects, "connect-staged");
  if (auto st = (*dp)->consolidate(); !st.ok()) {
    fmt::print(stderr, "consolidate: {}\n", st.ToString());
    return 1;
  }
  const Latencies coral = probe->run(kWarmup, kConnects, "connect-coral");
  const Latencies coral_first = probe_first->run(kWarmup, kConnects, "connect-coral1");
  // A layout experiment, not what PolicyDataplane writes: established and related packets
  // accepted once at the top of the forward chain, before the dispatch maps, so only a
  // connection's first packet reaches the endpoint chains.
  ns.timed(
      "nft insert rule inet coral forward ct state established,related accept comment "
      "bench-early-established");
  const Latencies coral_early = probe->run(kWarmup, kConnects, "connect-early");
  ns.timed("nft delete table inet coral");
  const Latencies bare_again = probe->run(kWarmup, kConnects, "connect-bare2");
  // What conntrack alone costs: one forward rule accepting established flows, so every
  // connection gets a conntrack entry as it does under our table.
  const std::string ct_only = fmt::format("/tmp/coral-bench-{}-ct.nft", ::getpid());
  std::ofstream(ct_only) << "table inet coralbenchct {\n  chain forward {\n    type filter hook "
                            "forward priority 0; policy accept;\n    ct state "
                            "established,related accept\n  }\n}\n";
  ns.timed("nft -f " + ct_only);
  std::remove(ct_only.c_str());
  const Latencies conntrack = probe->run(kWarmup, kConnects, "connect-ct");
  ns.timed("nft delete table inet coralbenchct");
  Latencies iptables;
  double iptables_ms = 0;
  if (!skip_iptables) {
    auto ipt_dp = agent::makePolicyDataplane("iptables", "n1", ns.path());
    if (!ipt_dp.ok()) return 1;
    const double t3 = now_ms();
    if (auto st = (*ipt_dp)->apply(s); !st.ok()) {
      fmt::print(stderr, "iptables apply: {}\n", st.ToString());
      return 1;
    }
    iptables_ms = now_ms() - t3;
    iptables = probe->run(kWarmup, kConnects, "connect-ipt");
  }
  fmt::print(
      "TCP connect latency, {} connects ns0/client -> ns0/pod0 port {} (SYN through 10 "
      "policy chains)\n",
      kConnects, kServerPort);
  // Ratios against the faster of the two no-ruleset runs, so noise from other processes
  // in one of them cannot make the ruleset look cheaper.
  const bool baseline = bare.error.empty() && bare_again.error.empty();
  const double base50 = std::min(bare.pct(50), bare_again.pct(50));
  const double base99 = std::min(bare.pct(99), bare_again.pct(99));
  fmt::print("                            p50 us   p90 us   p99 us   ratio p50 / p99\n");
  auto row = [&](const char* what, const Latencies& l, bool ratio) {
    if (!l.error.empty()) {
      fmt::print("{:<26}  failed: {}\n", what, l.error);
      return;
    }
    fmt::print("{:<26} {:8.1f} {:8.1f} {:8.1f}", what, l.pct(50), l.pct(90), l.pct(99));
    if (ratio && baseline) {
      fmt::print("   {:.2f}x / {:.2f}x", l.pct(50) / base50, l.pct(99) / base99);
    }
    fmt::print("\n");
  };
  row("no ruleset", bare, false);
  row("no ruleset (again, last)", bare_again, false);
  row("PolicyDataplane nftables", coral, true);
  row(fmt::format("  same, port {} (1 chain)", kFirstPolicyPort).c_str(), coral_first, true);
  row("  + early ct accept (exp.)", coral_early, true);
  if (client_staged) row("  client still staged", coral_staged, true);
  row("conntrack only (1 rule)", conntrack, true);
  if (!skip_iptables) {
    row(fmt::format("iptables ({:.0f} ms to load)", iptables_ms).c_str(), iptables, true);
  }
  return coral.error.empty() && bare.error.empty() ? 0 : 1;
}
