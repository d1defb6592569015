#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time
# from its corpus in tests/fuzz/corpus/NAME (seeds checked in; new finds go to a scratch
# copy). Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] (default 30). A crash fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
out=$(mktemp -d /tmp/dailysync-fuzz.XXXXXX)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Idaemon)
for target in rsync_output config; do
    echo "fuzz: building $target"
    clang++ "${flags[@]}" -o "$out/$target" "tests/fuzz/${target}_fuzz.cpp" daemon/core/*.cpp
    mkdir -p "$out/corpus-$target"
    cp tests/fuzz/corpus/$target/* "$out/corpus-$target/"
    echo "fuzz: running $target for $seconds s"
    (cd "$out" && "./$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "corpus-$target" 2>"$target.log") || { tail -40 "$out/$target.log"; echo "fuzz: $target FAILED"; exit 1; }
    grep -E "^stat::number_of_executed_units|^Done" "$out/$target.log" | sed "s/^/fuzz: $target: /"
done
echo "fuzz: no crashes"
