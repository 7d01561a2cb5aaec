// policy_bench: the policy dataplane at scale, in a network namespace of its own (root).
//   policy_bench [ENDPOINTS=10000] [POLICIES=1000] [LOCAL=ENDPOINTS]
//   LOCAL of the endpoints run on this node, the others elsewhere (set members only)
//   (CORAL_BENCH_SKIP_IPTABLES=1 skips iptables-restore, which takes minutes at 10k × 1k)
// Full sync of ENDPOINTS local endpoints × POLICIES policies through PolicyDataplane, vs
// `nft -f` of the same rendered table (the lower bound) and `iptables-restore` of the
// Calico-style (set-less) ruleset; then one pod added under that load (set elements +
// its own chains). Prints times and ratios. Not a test.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

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
  std::string name = "coral-bench-" + std::to_string(::getpid());
  Netns() { (void)std::system(("ip netns add " + name).c_str()); }
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
  fmt::print("endpoints {} ({} on this node) policies {} (ruleset {:.1f} MB nft, {} policy chains)\n", endpoints,
             g_local, policies, stats.commands_bytes / 1e6, program.policy_chains.size());
  fmt::print("PolicyDataplane full sync  {:8.1f} ms (compile {:.1f}, kernel {:.1f})\n", full,
             stats.compile_ms, stats.write_ms);
  fmt::print("nft -f same table          {:8.1f} ms   ratio {:.2f}x\n", nft_f, full / nft_f);
  if (!skip_iptables) {
    fmt::print("iptables-restore (Calico)  {:8.1f} ms   ratio {:.2f}x\n", restore, full / restore);
  }
  fmt::print("incremental add of one pod {:8.3f} ms (compile {:.3f}, kernel {:.3f}, {})\n", incr,
             incr_stats.compile_ms, incr_stats.write_ms,
             incr_stats.netlink ? "one netlink batch"
                                : fmt::format("{} bytes of nft text", incr_stats.commands_bytes));
  fmt::print("a pod on another node       {:8.3f} ms (compile {:.3f}, kernel {:.3f}, {})\n",
             remote_ms, remote_stats.compile_ms, remote_stats.write_ms,
             remote_stats.netlink ? "one netlink batch" : "nft text");
  return 0;
}
