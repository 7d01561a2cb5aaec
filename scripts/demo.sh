#!/usr/bin/env bash
# The first README command: set up a fresh Debian 12 machine, build, and run the main job:
# the two-datacenter lab demo (scripts/lab-demo.sh). Pass --down to remove the lab at the
# end; scripts/tour.sh is a shorter tour of coralctl that needs no root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh
exec bash scripts/lab-demo.sh "$@"
