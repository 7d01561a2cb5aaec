#!/usr/bin/env bash
# Builds the tests with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/,
# -DCORAL_SANITIZE=ON) and runs the unit tests under them. Not part of CI: on a 2-core
# machine the build alone takes most of an hour (ccache makes reruns quick).
# Usage: scripts/asan.sh [extra ctest arguments, e.g. -R datastore]
#   ASAN_TARGETS="model_yaml_test coralctl ..."  builds only those (then pass -R to match)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${ASAN_JOBS:-$(nproc)}
cmake -S . -B build-asan -G Ninja -DCORAL_SANITIZE=ON -DCORAL_BUILD_TESTS=ON \
  -DCORAL_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086  # ASAN_TARGETS is a list of target names
cmake --build build-asan -j "$jobs" ${ASAN_TARGETS:+--target $ASAN_TARGETS}
# A finding stops the test (halt_on_error) and names the source line (symbolize).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd build-asan
ctest -L unit --output-on-failure --timeout 1800 "$@"
