#!/bin/bash
# Threads vs processes: the same tree copied by
#   serial        one thread in one process, one file after the other (the original script)
#   threads-8     an in-process pool of 8 threads (bench/thread_copy.cpp)
#   rsync         one rsync -a
#   dailysyncd-8  dailysyncd --once: 8 rsync children under one event-loop thread
# on the local disk and on the simulated NAS (scripts/simulated-nas.sh, 500 us round trip),
# cold caches every time (NAS remounted, page cache dropped). One command, as root:
#   bench/models.sh          (about 5 minutes on 2 cores)
# Results: bench/results/models.md. Wall time, CPU time of the copier and its children
# (/usr/bin/time), and the whole machine's CPU busy share (sshfs and sshd included).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${DSBENCH_DIR:-/var/tmp/dailysyncd-bench}/models
results=$repo/bench/results
rtt_us=${DSBENCH_RTT_US:-500}
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)" --target dailysyncd bench_tree latency_proxy thread_copy >/dev/null
nas_script=$repo/scripts/simulated-nas.sh
export LATENCY_PROXY=$repo/build/latency_proxy

# The tree: two projects of the benchmark tree (about 4,500 files, 400 MB; big and tiny files).
mkdir -p "$work"
if [ ! -d "$work/tree" ]; then
    log "generating the tree"
    "$repo/build/bench_tree" generate "$work/generated" >&2
    mkdir -p "$work/tree"
    cp -a "$work/generated/documentary" "$work/generated/archive_2023" "$work/tree/"
    rm -rf "$work/generated"
fi
files=$(find "$work/tree" -type f | wc -l)
size=$(du -sh "$work/tree" | cut -f1)

cleanup() { "$nas_script" down "$work" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
mkdir -p "$work/nas/src" "$work/nas/dst" "$work/local/dst"
rm -rf "$work/nas/src" && cp -a "$work/tree" "$work/nas/src"
rm -rf "$work/local/src" && cp -a "$work/tree" "$work/local/src"
"$nas_script" up "$work" "$rtt_us" src dst

copy() {   # model source destination
    case "$1" in
    serial) "$repo/build/thread_copy" 1 "$2" "$3" ;;
    threads-8) "$repo/build/thread_copy" 8 "$2" "$3" ;;
    rsync) rsync -a "$2/" "$3/" ;;
    dailysyncd-8)
        printf '{"source": "%s", "destination": "%s", "state_dir": "%s", "concurrency": 8, "retries": 0}\n' \
            "$2" "$3" "$work/state" >"$work/dailysyncd.json"
        "$repo/build/dailysyncd" --once --config "$work/dailysyncd.json" ;;
    esac
}
cpu_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

out=$results/models.md
{
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(rsync --version | head -1 | cut -d' ' -f1-4)"
    echo "Tree: $files files, $size (two projects of bench_tree); NAS: sshfs, $rtt_us us round trip"
    echo
    echo "| where | model | wall (s) | vs serial | CPU user+sys (s) | machine CPU busy |"
    echo "|---|---|---:|---:|---:|---:|"
} >"$out"
for where in local nas; do
    serial_wall=
    for model in serial threads-8 rsync dailysyncd-8; do
        if [ "$where" = nas ]; then
            rm -rf "$work/nas/dst" && mkdir -p "$work/nas/dst"
            "$nas_script" remount "$work" src dst
            src=$work/mnt/src dst=$work/mnt/dst
        else
            rm -rf "$work/local/dst" && mkdir -p "$work/local/dst"
            sync && echo 3 >/proc/sys/vm/drop_caches
            src=$work/local/src dst=$work/local/dst
        fi
        rm -rf "$work/state"
        log "$where: $model"
        c0=$(cpu_ticks)
        /usr/bin/time -f '%e %U %S' -o "$work/time" bash -c "$(declare -f copy); repo='$repo' work='$work' copy $model '$src' '$dst'" \
            >"$work/$where-$model.log" 2>&1 || { log "$model failed: see $work/$where-$model.log"; exit 1; }
        c1=$(cpu_ticks)
        read -r wall user sys <"$work/time"
        busy=$(echo "$c0 $c1" | awk '{printf "%.0f", 100 * ($3 - $1) / ($4 - $2)}')
        [ -n "$serial_wall" ] || serial_wall=$wall
        # Same files, sizes and mtimes on both sides.
        check_dir=$([ "$where" = nas ] && echo "$work/nas" || echo "$work/local")
        if ! diff -q <(cd "$check_dir/src" && find . -type f -printf '%P %s %T@\n' | sed 's/\.[0-9]*$//' | sort) \
                     <(cd "$check_dir/dst" && find . -type f -printf '%P %s %T@\n' | sed 's/\.[0-9]*$//' | sort) >/dev/null; then
            log "$model on $where: the copy differs from the source"
            exit 1
        fi
        echo "| $where | $model | $wall | $(echo "$serial_wall $wall" | awk '{printf "%.2f", $1 / $2}')x | $(echo "$user $sys" | awk '{printf "%.1f", $1 + $2}') | $busy % |" >>"$out"
    done
done
cat "$out"
