#!/bin/bash
# What keeping versions costs per run, by mechanism, at 21,116 files (the benchmark's
# tree) and at 1,000,000 files (bench_tree million), on this machine's local disk:
#   bench/versions-cost.sh        (as root; about 10 minutes, the trees are cached)
# For each size: a daily run (1 % of the files rewritten) of dailysyncd without and with
# "versions" (rsync --backup-dir: one rename per replaced file), what --link-dest-style
# hard-link trees cost (cp -al of the backup: one link per file, every run), and a btrfs
# snapshot of the backup (one per run, on a btrfs loop device). Results:
# bench/results/versions-cost.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${DSBENCH_DIR:-/var/tmp/dailysyncd-bench}/versions-cost
out=$repo/bench/results/versions-cost.md
"$repo/scripts/install-deps.sh"
for p in btrfs-progs time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)" --target dailysyncd bench_tree >/dev/null
mkdir -p "$work"
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
# Wall seconds of a command (its exit status aside: a run with warnings still counts).
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}'; }
# Rewrites 1 % of the files (every 100th, new content and mtime).
mutate() { find "$1" -type f | awk 'NR % 100 == 0' | while IFS= read -r f; do printf 'changed %s\n' "$RANDOM" >>"$f"; done; }

loop=$work/btrfs.img
mnt=$work/btrfs
cleanup() { umount "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

rows=()
for size in 21116 1000000; do
    tree=$work/tree-$size
    if [ ! -f "$tree.done" ]; then
        log "generating $size files"
        rm -rf "$tree"
        if [ $size = 1000000 ]; then "$repo/build/bench_tree" million "$tree" >&2; else "$repo/build/bench_tree" generate "$tree" >&2; fi
        touch "$tree.done"
    fi
    # Yesterday's backup (a first copy, no versions), then today's 1 % rewritten.
    log "$size files: the first copy"
    rm -rf "$work/src" "$work/dst" "$work/state" "$work/dst.base" "$work/state.base"
    cp -a "$tree" "$work/src" && mkdir -p "$work/dst"
    config() {
        echo "{\"source\": \"$work/src\", \"destination\": \"$work/dst\", \"state_dir\": \"$work/state\", \"delete\": true, \"max_delete\": \"unlimited\"$1}" >"$work/config.json"
    }
    config ""
    "$repo/build/dailysyncd" --once --config "$work/config.json" >/dev/null 2>&1 || true
    cp -a "$work/dst" "$work/dst.base" && cp -a "$work/state" "$work/state.base"
    mutate "$work/src"
    for mode in plain versions; do
        log "$size files: daily run, $mode"
        rm -rf "$work/dst" "$work/state" && cp -a "$work/dst.base" "$work/dst" && cp -a "$work/state.base" "$work/state"
        if [ $mode = versions ]; then config ', "versions": {"keep_daily": 14}'; else config ""; fi
        sync; echo 3 >/proc/sys/vm/drop_caches
        t=$(seconds "$repo/build/dailysyncd" --once --config "$work/config.json")
        kept=$( (find "$work/dst/.dailysync-versions" -type f ! -name version.json ! -name created 2>/dev/null || true) | wc -l)
        rows+=("| $size | daily run, $mode | $t | $kept files kept |")
    done
    log "$size files: hard-link tree (what --link-dest makes every run)"
    sync; echo 3 >/proc/sys/vm/drop_caches
    rm -rf "$work/linked"
    t=$(seconds cp -al "$work/dst" "$work/linked")
    rows+=("| $size | hard-link tree of the backup (cp -al) | $t | $(find "$work/linked" | wc -l) links and folders |")
    rm -rf "$work/linked"
    log "$size files: btrfs snapshot"
    cleanup
    rm -f "$loop" && truncate -s 40G "$loop" && mkfs.btrfs -q "$loop" && mkdir -p "$mnt" && mount -o loop "$loop" "$mnt"
    btrfs subvolume create "$mnt/backup" >/dev/null
    cp -a "$work/dst/." "$mnt/backup/"
    sync
    t=$(seconds btrfs subvolume snapshot -r "$mnt/backup" "$mnt/snap1")
    rows+=("| $size | btrfs read-only snapshot of the backup | $t | needs the backup on btrfs, snapshotted where it is mounted |")
    cleanup
    rm -f "$loop"
done
{
    echo "Machine: $(nproc) cores, $(uname -r), local disk ($(df -T "$work" | awk 'NR==2 {print $2}')); rsync $(rsync --version | head -1 | awk '{print $3}')"
    echo
    echo "| files | what | seconds | notes |"
    echo "|---:|---|---:|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$out"
