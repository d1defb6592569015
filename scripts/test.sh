#!/bin/bash
# Builds dailysyncd and runs the whole test suite (unit and integration tests with the
# real rsync, real processes and real files). Needs root (it installs packages, and some
# tests run dailysyncd as the unprivileged user "nobody").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
