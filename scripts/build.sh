#!/usr/bin/env bash
# Configures and builds Coral into build/ (Ninja + ccache when present).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ -f build/CMakeCache.txt ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" build/CMakeCache.txt && [ ${#generator[@]} -gt 0 ]; then
  rm -rf build  # generator changed
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
# 2 cores and heavy TUs (gRPC): two jobs keep memory and time in check.
cmake --build build -j "${CORAL_JOBS:-$(nproc)}"
