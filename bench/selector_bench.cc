// Selector evaluation and parsing throughput. The agent evaluates every selector against
// every endpoint's labels, so matches() must be cheap: items/s below is evaluations/s.
#include <benchmark/benchmark.h>

#include "common/labels.h"
#include "policy/selector/selector.h"

namespace {

using coral::common::Labels;
using coral::policy::Selector;

// A pod's label map of typical size (10 labels).
const Labels kPodLabels = {
    {"app", "web"},
    {"app.kubernetes.io/component", "frontend"},
    {"app.kubernetes.io/managed-by", "helm"},
    {"app.kubernetes.io/name", "shop"},
    {"app.kubernetes.io/version", "1.24.3"},
    {"env", "prod"},
    {"pod-template-hash", "7d9c8f6b5"},
    {"team", "payments"},
    {"tier", "frontend"},
    {"topology.kubernetes.io/zone", "eu-west-1a"},
};

void evaluate(benchmark::State& state, const char* text) {
  const Selector selector = Selector::parse(text).value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(selector.matches(kPodLabels));
  }
  state.SetItemsProcessed(state.iterations());
}

// The typical 3-term selector: all three terms are read (it matches).
void BM_Matches3TermsTrue(benchmark::State& state) {
  evaluate(state, "app == 'web' && tier in {'frontend', 'backend'} && !has(legacy)");
}
BENCHMARK(BM_Matches3TermsTrue);

// Fails on the first term after sorting (short circuit).
void BM_Matches3TermsFalse(benchmark::State& state) {
  evaluate(state, "app == 'db' && tier in {'frontend', 'backend'} && !has(legacy)");
}
BENCHMARK(BM_Matches3TermsFalse);

void BM_MatchesStringOps(benchmark::State& state) {
  evaluate(state,
           "app.kubernetes.io/version starts with '1.' && topology.kubernetes.io/zone ends with "
           "'1a' && team contains 'pay'");
}
BENCHMARK(BM_MatchesStringOps);

void BM_MatchesAll(benchmark::State& state) { evaluate(state, "all()"); }
BENCHMARK(BM_MatchesAll);

void BM_Parse3Terms(benchmark::State& state) {
  for (auto _ : state) {
    auto selector =
        Selector::parse("app == 'web' && tier in {'frontend', 'backend'} && !has(legacy)");
    benchmark::DoNotOptimize(selector);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Parse3Terms);

}  // namespace

BENCHMARK_MAIN();
