#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a bounded time
# over its committed seed corpus. New inputs go to a scratch directory, not the corpus.
# Usage: scripts/fuzz.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${FUZZ_SECONDS:-30}}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (Debian package clang)" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCORAL_FUZZ=ON -DCORAL_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target bgp_message_fuzz selector_fuzz cni_request_fuzz
scratch=$(mktemp -d /tmp/coral-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
run() {
  local name=$1 binary=$2 corpus=$3; shift 3
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  "$binary" -max_total_time="$seconds" -print_final_stats=1 "$@" "$scratch/$name" "$corpus" \
    2>"$scratch/$name.log" || { tail -50 "$scratch/$name.log"; echo "fuzz: $name FAILED" >&2; exit 1; }
  grep -E "stat::number_of_executed_units" "$scratch/$name.log" | sed "s/^/fuzz: $name /"
}
run bgp_message build-fuzz/tests/fuzz/bgp/bgp_message_fuzz tests/fuzz/bgp/corpus
run selector build-fuzz/tests/fuzz/policy/selector_fuzz tests/fuzz/policy/selector_corpus \
  -dict=tests/fuzz/policy/selector.dict -max_len=4200
run cni_request build-fuzz/tests/fuzz/cni/cni_request_fuzz tests/fuzz/cni/request_corpus
