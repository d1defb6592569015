#!/bin/bash
# Scale benchmark: the daily run over generated local trees of 100,000, 300,000 and
# 1,000,000 files, dailysyncd (the daemon compares both trees, rsync copies what differs)
# against rclone sync on the same trees: wall time, CPU, and the daemon's peak memory.
#   bench/scale.sh            (as root; about 25 minutes on 2 cores, 20 GB of disk)
# DSBENCH_SCALE_SIZES: the sizes (default "100000 300000 1000000");
# DSBENCH_DIR: where the trees go (default /var/tmp/dailysyncd-bench, then scale/N).
# Results: bench/results/scale.md (table), bench/results/scale.tsv (raw numbers).
#
# For each size: a tree of small files (bench_tree files: 100 per folder, old times) is
# copied with cp -a as yesterday's backup; one dailysyncd run over the two learns the
# statistics a daily run plans from (as every night); then the tree changes as
# bench_tree mutate changes it (1 % rewritten, 0.5 % new, 0.2 % deleted), and each
# contender updates yesterday's backup, the page cache dropped before it. Every copy is
# checked (names, types, sizes, whole-second mtimes). The daemon's peak resident memory
# is the report's memory.daemon_peak_rss_bytes (its rsync children are other processes).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${DSBENCH_DIR:-/var/tmp/dailysyncd-bench}/scale
results=$repo/bench/results
read -r -a sizes <<<"${DSBENCH_SCALE_SIZES:-100000 300000 1000000}"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

"$repo/scripts/install-deps.sh"
need=()
for p in rclone jq time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)" --target dailysyncd bench_tree >/dev/null
dailysyncd=$repo/build/dailysyncd

listing() { (cd "$1" && find . -path ./.dailysync-versions -prune -o \( -type d -printf '%P|d\n' \) -o -printf '%P|%y|%s|%T@\n' | sed 's/\.[0-9]*$//' | sort); }
drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }

tsv=$work/scale.tsv
mkdir -p "$work"
echo -e "files\tcontender\tseconds\tcpu_seconds\tpeak_rss_mb\tstatus\tnotes" >"$tsv"

timed() {   # files contender command... -> a row of the table
    local n=$1 name=$2 status=ok
    shift 2
    drop_caches
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$work/time.txt" "$@" >"$work/$name-$n.out" 2>&1 || status="exit $?"
    t1=$(date +%s.%N)
    if [[ $name == dailysyncd && $status == "exit 1" ]]; then status=ok; fi   # warnings only
    if ! diff -q <(listing "$w/prod") <(listing "$w/backup") >/dev/null; then status="WRONG copy"; fi
    local seconds cpu rss notes=""
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    cpu=$(awk '{printf "%.1f", $1 + $2}' "$work/time.txt")
    rss=$(awk '{printf "%.0f", $3 / 1024}' "$work/time.txt")   # the largest process of the tree
    if [ "$name" = dailysyncd ]; then
        local report
        report=$(grep '^report: ' "$work/$name-$n.out" | cut -d' ' -f2)
        rss=$(jq '.memory.daemon_peak_rss_bytes / 1048576 | round' "$report")
        notes=$(jq -r '"compare \(.compare.seconds*10|round/10) s (\(.compare.threads) threads, \(.compare.cpu_seconds*10|round/10) s CPU, \(.compare.entries_compared) entries), copy \(.compare.copy_seconds*10|round/10) s in \(.units|length) units; \(.totals.files_transferred) files sent, \(.totals.deletions) deleted"' "$report")
    fi
    log "$n files: $name: $seconds s, CPU $cpu s, peak RSS $rss MB, $status $notes"
    echo -e "$n\t$name\t$seconds\t$cpu\t$rss\t$status\t$notes" >>"$tsv"
}

for n in "${sizes[@]}"; do
    w=$work/$n
    rm -rf "$w" && mkdir -p "$w"
    log "$n files: generating the tree and yesterday's backup"
    "$repo/build/bench_tree" files "$w/prod" "$n" >&2
    cp -a "$w/prod" "$w/base"
    cp -a "$w/base" "$w/backup"
    cat >"$w/config.json" <<JSON
{"source": "$w/prod", "destination": "$w/backup", "state_dir": "$w/state", "delete": true, "concurrency": "auto",
 "retries": 0, "stall_timeout_seconds": 600}
JSON
    log "$n files: the run that learns the statistics"
    "$dailysyncd" --once --config "$w/config.json" >"$w/learn.out" 2>&1
    "$repo/build/bench_tree" mutate "$w/prod" >&2
    timed "$n" dailysyncd "$dailysyncd" --once --config "$w/config.json"
    for transfers in 8 16; do
        rm -rf "$w/backup" && cp -a "$w/base" "$w/backup"
        timed "$n" "rclone-$transfers" rclone sync "$w/prod" "$w/backup" --transfers "$transfers" --checkers "$((2 * transfers))" -q
    done
    rm -rf "$w/base"   # the disk for the next size
done

mkdir -p "$results"
cp "$tsv" "$results/scale.tsv"
{
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); rsync $(rsync --version | head -1 | awk '{print $3}'), rclone $(rclone version 2>/dev/null | head -1 | awk '{print $2}'); local disk ($(findmnt -no FSTYPE -T "$work")), page cache dropped before each run"
    echo "Daily run: 1 % of the files rewritten, 0.5 % new, 0.2 % deleted"
    echo
    echo "| files | contender | wall time (s) | ratio to best rclone | s per 100k files | CPU (s) | peak RSS (MB) | copy | notes |"
    echo "|---:|---|---:|---:|---:|---:|---:|---|---|"
    awk -F'\t' 'NR == FNR { if (FNR > 1 && $2 ~ /^rclone/ && (!($1 in best) || $3 < best[$1])) best[$1] = $3; next }
        FNR > 1 { printf "| %d | %s | %.1f | %.2f | %.2f | %s | %s | %s | %s |\n", $1, $2, $3, $3 / best[$1], $3 * 100000 / $1, $4, $5, $6, $7 }' "$tsv" "$tsv"
} >"$results/scale.md"
cat "$results/scale.md"
log "results in $results"
