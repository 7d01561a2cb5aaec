// policy_compile_bench: IncrementalCompiler::update for one pod added and removed, against
// compile() + computeMembers() of the whole node, at 10k endpoints × 1k Kubernetes
// policies with 110 endpoints on this node (the policy_bench world). No root, no kernel.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "model/yaml.h"
#include "policy/compiler.h"
#include "policy/convert.h"
#include "policy/incremental.h"

using namespace coral;

namespace {

constexpr int kEndpoints = 10000, kPolicies = 1000, kLocal = 110;

policy::Endpoint endpoint(int i) {
  policy::Endpoint e;
  e.namespace_ = fmt::format("ns{}", i % 10);
  e.name = fmt::format("pod{}", i);
  e.node = i < kLocal ? "n1" : "n2";
  e.interface_name = fmt::format("cor{:011x}", i);
  e.labels = {{"app", fmt::format("app{}", i % 100)}};
  e.addresses = {common::IpAddress::v4(0x0a000000u + static_cast<uint32_t>(i) + 1)};
  e.ports = {{"http", policy::kProtoTcp, 80}};
  return e;
}

const policy::Snapshot& world() {
  static const policy::Snapshot s = [] {
    policy::Snapshot s;
    for (int n = 0; n < 10; ++n) s.addNamespace({fmt::format("ns{}", n), {}});
    for (int i = 0; i < kEndpoints; ++i) s.addEndpoint(endpoint(i));
    s.setNodeAddresses("n1", {common::IpAddress::v4(0xc0a80101)});
    std::string yaml;
    for (int k = 0; k < kPolicies; ++k) {
      yaml += fmt::format(
          "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{}, "
          "namespace: ns{}}}\nspec:\n  podSelector: {{matchLabels: {{app: app{}}}}}\n  ingress:\n"
          "  - from: [{{podSelector: {{matchLabels: {{app: app{}}}}}}}]\n    ports: [{{port: "
          "{}}}]\n"
          "---\n",
          k, k % 10, k % 100, (k + 11) % 100, 8000 + k);
    }
    for (auto& doc : model::parseResources(yaml)) (void)policy::applyResource(s, *doc.resource);
    return s;
  }();
  return s;
}

// One pod on `node` added, then removed: two updates per iteration.
void podAddRemove(benchmark::State& state, const char* node) {
  policy::Snapshot s = world();
  policy::IncrementalCompiler inc("n1");
  inc.update(s);
  policy::Endpoint extra = endpoint(kEndpoints);
  extra.node = node;
  extra.labels = {{"app", "app11"}};  // a source of policy p0 (ns0)
  extra.namespace_ = "ns0";
  for (auto _ : state) {
    s.addEndpoint(extra);
    benchmark::DoNotOptimize(inc.update(s));
    s.removeEndpoint(extra.id());
    benchmark::DoNotOptimize(inc.update(s));
  }
}
BENCHMARK_CAPTURE(podAddRemove, this_node, "n1")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(podAddRemove, other_node, "n2")->Unit(benchmark::kMicrosecond);

void wholeNode(benchmark::State& state) {
  const policy::Snapshot& s = world();
  for (auto _ : state) {
    policy::Program p = policy::compile(s, "n1");
    benchmark::DoNotOptimize(policy::computeMembers(p, s));
  }
}
BENCHMARK(wholeNode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
