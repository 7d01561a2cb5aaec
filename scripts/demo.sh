#!/usr/bin/env bash
# The first README command: set up a fresh Debian 12 machine, build, and run the main job.
# Until the lab lands, the main job is a tour of what exists: resources in the embedded
# datastore through coralctl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh
exec bash scripts/tour.sh
