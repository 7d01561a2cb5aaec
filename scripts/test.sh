#!/usr/bin/env bash
# The second README command: set up a fresh Debian 12 machine, build, run every test.
# Unit tests need no root; integration and e2e tests need root (they fail loudly without).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh
# The fuzzers (clang, libFuzzer) run for a bounded time before the tests, so ctest's
# summary stays the last thing printed.
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
cd build
ctest --output-on-failure --timeout 900 "$@"
