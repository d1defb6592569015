#!/bin/bash
# Builds dailysyncd and runs the whole test suite: unit and integration tests with the
# real rsync, real processes and real files, the systemd-nspawn end-to-end test; then the
# same unit and integration tests built with AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/); then each libFuzzer target for a bounded time. Needs root (it installs
# packages, and some tests run dailysyncd as the unprivileged user "nobody").
# DAILYSYNC_FUZZ_SECONDS (default 30) sets the time per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600

echo "== the suite again under ASan + UBSan"
# Debug (-O0): compiles in about half the time, and the tests spend theirs in rsync.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDAILYSYNC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target unit_tests io_tests compare_tests integration_tests dailysyncd dailysyncctl
# halt_on_error: any report fails its test (the daemon exits non-zero, the test sees it).
# Not again: the end-to-end test, the induced-bottleneck tests (they judge the machine's
# load, which the sanitizers change) and the hung-NAS tests (minutes of deadlines on a
# simulated NAS; their daemon code is the one the integration tests run). Neither of the
# last two is built here. Nor the run-wide bwlimit tests: a minute of rsync sleeping to
# its rate limits, of which the daemon's part (the shares) is the unit-tested scheduler.
DAILYSYNC_COMPARE_CASES=25 ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 900 -E '^e2e|^InducedBottleneck\.|^bottleneck_tests_NOT_BUILT|^HungNas\.|^hung_nas_tests_NOT_BUILT|^Bwlimit\.'


echo "== fuzzing"
tests/fuzz/run.sh "${DAILYSYNC_FUZZ_SECONDS:-30}"
