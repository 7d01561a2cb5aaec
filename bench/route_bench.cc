// route_bench: installing many /32 routes through corald's route programmer
// (RouteReconciler: a raw netlink dump of protocol 77 and pipelined requests) vs
// `ip -batch` of the same `route add` lines, each in a network namespace of its own
// (root); then over the installed set a no-op full resync (lists the kernel), a no-op
// incremental reconcile, and an incremental one that adds one route and removes another.
//   route_bench [ROUTES=100000]
// Every route is a kRemoteBlock /32 via 10.200.0.2, a neighbour on a veth in the same
// namespace. Namespaces are deleted on every path, SIGINT/SIGTERM included. Not a test.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "agent/dataplane/netlink.h"
#include "agent/dataplane/netns.h"
#include "agent/routes/route_reconciler.h"
#include "common/strings.h"

using namespace coral;

namespace {

// Names of the namespaces we created, for the signal handler (fixed storage: it must
// not allocate).
char g_ns_names[2][64];
int g_ns_count = 0;

void deleteNamespacesFromSignal(int sig) {
  for (int i = 0; i < g_ns_count; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execlp("ip", "ip", "netns", "del", g_ns_names[i], static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid > 0) ::waitpid(pid, nullptr, 0);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  if (rc != 0) fmt::print(stderr, "command failed ({}): {}\n", rc, cmd);
  return rc;
}

// A namespace with lo up and a veth pair (rb0 10.200.0.1/24, its peer 10.200.0.2/24),
// so 10.200.0.2 is an on-link gateway. Deleted by its destructor.
class BenchNetns {
 public:
  explicit BenchNetns(const std::string& tag) : name_(fmt::format("rb{}-{}", ::getpid(), tag)) {
    std::snprintf(g_ns_names[g_ns_count], sizeof(g_ns_names[0]), "%s", name_.c_str());
    ++g_ns_count;
    ok_ = run("ip netns add " + name_) == 0 && run("ip -n " + name_ + " link set lo up") == 0 &&
          run("ip -n " + name_ + " link add rb0 type veth peer name rb1") == 0 &&
          run("ip -n " + name_ + " addr add 10.200.0.1/24 dev rb0") == 0 &&
          run("ip -n " + name_ + " addr add 10.200.0.2/24 dev rb1") == 0 &&
          run("ip -n " + name_ + " link set rb0 up") == 0 &&
          run("ip -n " + name_ + " link set rb1 up") == 0;
  }
  ~BenchNetns() { (void)std::system(("ip netns del " + name_ + " 2>/dev/null").c_str()); }
  BenchNetns(const BenchNetns&) = delete;
  BenchNetns& operator=(const BenchNetns&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }
  size_t countRoutes() const {
    const std::string cmd = "ip -n " + name_ + " route show proto 77 | wc -l";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return 0;
    size_t n = 0;
    if (std::fscanf(p, "%zu", &n) != 1) n = 0;
    ::pclose(p);
    return n;
  }

 private:
  std::string name_;
  bool ok_ = false;
};

common::IpAddress routeAddress(int i) {
  return common::IpAddress::v4(0x0a400000u + static_cast<uint32_t>(i));  // 10.64.0.0 + i
}

}  // namespace

int main(int argc, char** argv) {
  const int routes = argc > 1 ? std::atoi(argv[1]) : 100000;
  if (::geteuid() != 0) {
    fmt::print(stderr, "route_bench needs root (network namespaces, routes)\n");
    return 2;
  }
  if (routes <= 0 || routes > 4000000) {
    fmt::print(stderr, "route_bench: ROUTES must be in 1..4000000, got {}\n", argv[1]);
    return 2;
  }
  ::signal(SIGINT, deleteNamespacesFromSignal);
  ::signal(SIGTERM, deleteNamespacesFromSignal);
  ::signal(SIGHUP, deleteNamespacesFromSignal);

  BenchNetns coral_ns("coral");
  BenchNetns ip_ns("ip");
  if (!coral_ns.ok() || !ip_ns.ok()) {
    fmt::print(stderr, "route_bench: cannot set up the namespaces\n");
    return 1;
  }
  const auto gateway = common::IpAddress::parse("10.200.0.2").value();

  // The desired set, built before timing (corald computes it from the datastore).
  agent::DesiredRoutes desired;
  for (int i = 0; i < routes; ++i) {
    const auto dst = common::Prefix::host(routeAddress(i));
    desired.emplace(dst,
                    agent::DesiredRoute{dst, agent::RouteKind::kRemoteBlock, "", gateway, false});
  }

  // 1. corald's route programmer: one Netlink socket inside the namespace.
  double install_ms = 0, noop_ms = 0, noop_incremental_ms = 0, single_ms = 0;
  agent::ReconcileStats install_stats, noop_stats, noop_incremental_stats, single_stats;
  auto ns = agent::NetnsFd::open(coral_ns.path());
  if (!ns.ok()) {
    fmt::print(stderr, "route_bench: {}\n", ns.status().ToString());
    return 1;
  }
  auto status = agent::runInNetns(*ns, [&]() -> absl::Status {
    auto netlink = agent::Netlink::open();
    if (!netlink.ok()) return netlink.status();
    agent::RouteReconciler reconciler(**netlink);
    auto timed = [&](auto&& f, double& ms, agent::ReconcileStats& stats) -> absl::Status {
      const double t = nowMs();
      auto result = f();
      ms = nowMs() - t;
      if (!result.ok()) return result.status();
      stats = *result;
      return absl::OkStatus();
    };
    auto s = timed([&] { return reconciler.reconcile(desired); }, install_ms, install_stats);
    if (s.ok()) s = timed([&] { return reconciler.resync(desired); }, noop_ms, noop_stats);
    if (s.ok()) {
      s = timed([&] { return reconciler.reconcile(desired); }, noop_incremental_ms,
                noop_incremental_stats);
    }
    if (!s.ok()) return s;
    // One pod comes, another goes: one route added, one removed, then put back.
    agent::DesiredRoutes changed = desired;
    const auto extra = common::Prefix::host(routeAddress(routes));
    changed.emplace(extra,
                    agent::DesiredRoute{extra, agent::RouteKind::kRemoteBlock, "", gateway, false});
    changed.erase(common::Prefix::host(routeAddress(0)));
    s = timed([&] { return reconciler.reconcile(changed); }, single_ms, single_stats);
    if (!s.ok()) return s;
    return reconciler.reconcile(desired).status();
  });
  const size_t coral_installed = coral_ns.countRoutes();

  // 2. `ip -batch` of the same routes, in the other namespace.
  const std::string batch = fmt::format("/tmp/route_bench-{}.batch", ::getpid());
  {
    std::ofstream out(batch);
    for (int i = 0; i < routes; ++i) {
      out << "route add " << routeAddress(i).toString() << "/32 via 10.200.0.2 proto 77\n";
    }
  }
  const double t = nowMs();
  const int rc = run("ip -n " + ip_ns.name() + " -batch " + batch);
  const double ip_ms = nowMs() - t;
  std::remove(batch.c_str());
  const size_t ip_installed = ip_ns.countRoutes();

  fmt::print("route_bench: {} /32 routes via an on-link gateway, protocol 77\n\n", routes);
  fmt::print("| what | time | routes/s | vs ip -batch |\n|---|---|---|---|\n");
  fmt::print("| reconcile, empty → {} (added {}, errors {}) | {:.0f} ms | {:.0f} | {:.2f}× |\n",
             routes, install_stats.added, install_stats.errors, install_ms,
             routes / (install_ms / 1000), install_ms / ip_ms);
  fmt::print("| `ip -batch` route add × {} (exit {}) | {:.0f} ms | {:.0f} | 1.00× |\n", routes, rc,
             ip_ms, routes / (ip_ms / 1000));
  fmt::print("| full resync, no-op over {} (added {}, removed {}) | {:.0f} ms | — | {:.2f}× |\n",
             routes, noop_stats.added, noop_stats.removed, noop_ms, noop_ms / ip_ms);
  fmt::print("| incremental, no-op over {} (added {}, removed {}) | {:.1f} ms | — | {:.3f}× |\n",
             routes, noop_incremental_stats.added, noop_incremental_stats.removed,
             noop_incremental_ms, noop_incremental_ms / ip_ms);
  fmt::print(
      "| incremental, one route added and one removed over {} (added {}, removed {}) | {:.1f} ms "
      "| — | {:.3f}× |\n",
      routes, single_stats.added, single_stats.removed, single_ms, single_ms / ip_ms);
  fmt::print("\nkernel check: {} proto-77 routes after reconcile, {} after ip -batch\n",
             coral_installed, ip_installed);
  const bool ok = install_stats.errors == 0 && rc == 0 &&
                  coral_installed == static_cast<size_t>(routes) &&
                  ip_installed == static_cast<size_t>(routes) && noop_stats.added == 0 &&
                  noop_stats.removed == 0 && noop_incremental_stats.added == 0 &&
                  noop_incremental_stats.removed == 0 && single_stats.added == 1 &&
                  single_stats.removed == 1 && !single_stats.full;
  return ok ? 0 : 1;
}
