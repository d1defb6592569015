#!/bin/bash
# Second benchmark: memory of scanning and planning a 1,000,000-file tree.
#   bench/plan-memory.sh      (as root; about 3 minutes, the tree is cached)
# Runs `dailysyncd --once --dry-run` on a local tree of 1,000,000 empty files in 2,000
# folders with no statistics, so it scans the whole tree, plans it and checks it with
# rsync (changing nothing), and reports dailysyncd's peak resident memory (its rsync
# children are separate processes and not counted).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${DSBENCH_DIR:-/var/tmp/dailysyncd-bench}/million
"$repo/scripts/install-deps.sh"
command -v /usr/bin/time >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)" --target dailysyncd bench_tree >/dev/null
if [ ! -f "$work/tree.done" ]; then
    rm -rf "$work/prod"
    "$repo/build/bench_tree" million "$work/prod"
    touch "$work/tree.done"
fi
rm -rf "$work/backup" "$work/state" && mkdir -p "$work/backup"
cat >"$work/config.json" <<JSON
{"source": "$work/prod", "destination": "$work/backup", "state_dir": "$work/state", "concurrency": 8}
JSON
/usr/bin/time -v "$repo/build/dailysyncd" --once --dry-run --config "$work/config.json" >"$work/out.txt" 2>"$work/time.txt"
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
files=$(grep -E '^TOTAL' "$work/out.txt" | awk '{print $3}')
units=$(grep -c '' <(jq '.units[]' -c "$(grep '^report: ' "$work/out.txt" | cut -d' ' -f2)"))
printf 'plan-memory: %s entries, %s units, peak RSS %.1f MB, wall %s\n' "$files" "$units" "$(echo "$rss_kb" | awk '{print $1/1024}')" "$wall" |
    tee "$repo/bench/results/plan-memory.txt"
