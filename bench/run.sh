#!/bin/bash
# Benchmark: dailysyncd against its peers on a simulated NAS. One command, as root:
#   bench/run.sh            (about 45 minutes on 2 cores)
# Results: bench/results/latest.md (table), bench/results/latest.png (chart),
#          bench/results/latest.tsv (raw numbers).
# DSBENCH_FULL / DSBENCH_DAILY: space-separated contenders per scenario (default: all);
# DSBENCH_TAG: name of the result files (default: latest).
#
# The NAS: a private network namespace with sshd on its loopback; the production tree
# and the backup are both mounted with sshfs from it, so every file operation is a real
# network round trip through ssh. Loopback answers in microseconds, a NAS on a LAN in a
# fraction of a millisecond, so the ssh traffic passes through bench/latency_proxy, which
# delays each direction by half of DSBENCH_RTT_US (default 500 us round trip). Both
# mounts are remounted and the page cache dropped before every timed run, so no client
# cache survives from one run to the next.
# Besides wall time, each run records the CPU of the machine (busy %), of the contender
# with its children ("copier CPU"), and of the simulated NAS: the sshfs clients with their
# ssh, sshd with its sftp sessions, the latency proxy ("NAS CPU"). On a real NAS most of
# the last lies on other machines; here it shares the same cores.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${DSBENCH_DIR:-/var/tmp/dailysyncd-bench}
results=$repo/bench/results
tag=${DSBENCH_TAG:-latest}   # output names: bench/results/$tag.{md,tsv,png}
rtt_us=${DSBENCH_RTT_US:-500}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# --- tools ----------------------------------------------------------------------------
"$repo/scripts/install-deps.sh"
need=()
for p in openssh-server sshfs fuse3 fpart rclone gnuplot-nox iproute2 jq time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$repo/build" -j"$(nproc)" --target dailysyncd bench_tree latency_proxy >/dev/null
dailysyncd=$repo/build/dailysyncd

# --- the simulated NAS (scripts/simulated-nas.sh) -------------------------------------
nas=$work/nas          # what the NAS serves (the real files)
mnt=$work/mnt          # the client's view through sshfs
nas_script=$repo/scripts/simulated-nas.sh
cleanup() { "$nas_script" down "$work" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
"$nas_script" up "$work" "$rtt_us" prod prod_backup
fresh_mounts() { "$nas_script" remount "$work" prod prod_backup; }
unmount_nas() { "$nas_script" unmount "$work"; }

# --- the tree -------------------------------------------------------------------------
if [ ! -f "$work/tree.v1" ]; then
    log "generating the production tree"
    rm -rf "$nas/prod" "$nas/prod.v1"
    "$repo/build/bench_tree" generate "$nas/prod.v1" >&2
    touch "$work/tree.v1"
fi
files=$(find "$nas/prod.v1" -type f | wc -l)
size=$(du -sh "$nas/prod.v1" | cut -f1)
big_project=$(for p in "$nas/prod.v1"/*/; do echo "$(find "$p" -type f | wc -l) $(basename "$p")"; done | sort -rn | head -1)

# Names, types, sizes and file mtimes (whole seconds; folder times are not compared:
# rclone does not keep them), symlink targets.
# (The versions a versioned run keeps at the backup's top are not part of the copy.)
listing() { (cd "$1" && find . -path ./.dailysync-versions -prune -o \( -type d -printf '%P|d\n' \) -o -printf '%P|%y|%s|%T@|%l\n' | sed 's/\.[0-9]*|/|/' | sort); }
verify() { diff -q <(listing "$nas/prod") <(listing "$nas/prod_backup") >/dev/null; }

# --- contenders: NAME -> command line run with the mounts as source and destination --
src=$mnt/prod
dst=$mnt/prod_backup
write_config() {
    cat >"$work/dailysyncd.json" <<EOF
{"source": "$src", "destination": "$dst", "state_dir": "$work/state", "delete": true, "concurrency": "auto",
 "retries": 0, "stall_timeout_seconds": 600}
EOF
    # The same with versions kept: what a run overwrites or deletes is renamed into them.
    # The same with each unit's rsync comparing (the classic planner's units), as before
    # the daemon compared both trees itself (the default).
    cat >"$work/dailysyncd-rsync-compares.json" <<EOF
{"source": "$src", "destination": "$dst", "state_dir": "$work/state", "delete": true, "concurrency": "auto",
 "retries": 0, "stall_timeout_seconds": 600, "daily_compare": "rsync"}
EOF
    cat >"$work/dailysyncd-versions.json" <<EOF
{"source": "$src", "destination": "$dst", "state_dir": "$work/state", "delete": true, "concurrency": "auto",
 "retries": 0, "stall_timeout_seconds": 600, "versions": {"keep_daily": 14, "keep_weekly": 8, "keep_monthly": 12}}
EOF
}
contender() {
    case "$1" in
    dailysyncd | dailysyncd-versions | dailysyncd-rsync-compares) "$dailysyncd" --once --config "$work/$1.json" >"$work/last-dailysyncd.out" ;;
    metadata-limit)
        # The floor of a daily run: both trees listed with 16 threads each, nothing
        # compared or copied (the copy is left as it is: it is reported, not judged).
        "$(dirname "$dailysyncd")/list_trees" 16 "$src" "$dst" ;;
    rsync) rsync -a --delete "$src/" "$dst/" ;;
    per-project-pool-8)
        # The classic script: one rsync per project, 8 at a time (top-level files first).
        rsync -a --delete --dirs --no-recursive "$src/" "$dst/"
        find "$src" -mindepth 1 -maxdepth 1 -type d -printf '%f\0' |
            xargs -0 -P 8 -I{} rsync -a --delete "$src/{}/" "$dst/{}/" ;;
    fpsync-8 | fpsync-16)
        rm -rf "$work/fpsync-tmp"
        fpsync -n "${1#fpsync-}" -E -o "-lptgoD --numeric-ids" -t "$work/fpsync-tmp" "$src/" "$dst/" >/dev/null ;;
    rclone-8 | rclone-16)
        rclone sync "$src" "$dst" --transfers "${1#rclone-}" --checkers "$((2 * ${1#rclone-}))" -q ;;
    esac
}
contenders=(dailysyncd rsync per-project-pool-8 fpsync-8 fpsync-16 rclone-8 rclone-16)
# Subsets, for measuring one change quickly (the default runs everything). Versions change
# nothing on a first copy (nothing to keep), so dailysyncd-versions is a daily contender.
read -r -a full_contenders <<<"${DSBENCH_FULL:-${contenders[*]}}"
read -r -a daily_contenders <<<"${DSBENCH_DAILY:-${contenders[*]} dailysyncd-versions dailysyncd-rsync-compares metadata-limit}"

tsv=$work/results.tsv
echo -e "scenario\tcontender\tseconds\tstatus\tcpu_busy_percent\textra\tcopier_cpu_seconds\tnas_cpu_seconds" >"$tsv"
# CPU of the simulated NAS itself: the sshfs clients and their ssh, sshd with its sftp
# sessions, the latency proxy. Per process, so a process that ends between two snapshots
# (the previous mount's sshfs exiting after its unmount) is not counted.
nas_processes() {
    local process pid
    for process in sshfs ssh sshd latency_proxy; do
        for pid in $(pgrep -x "$process" || true); do
            echo "$pid $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0) $process"
        done
    done
}
nas_cpu_between() {   # snapshot-before snapshot-after -> "total sshfs+ssh sshd proxy" in seconds
    awk -v hz="$(getconf CLK_TCK)" 'NR == FNR {at[$1] = $2; next}
        ($1 in at) {d = ($2 - at[$1]) / hz; total += d; if ($3 == "sshd") nas += d; else if ($3 == "latency_proxy") proxy += d; else client += d}
        END {printf "%.1f %.1f %.1f %.1f", total, client, nas, proxy}' "$1" "$2"
}
run() {   # scenario contender
    local scenario=$1 name=$2 t0 t1 status extra=""
    fresh_mounts
    log "$scenario: $name"
    local cpu0 cpu1
    cpu0=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    nas_processes >"$work/nas-cpu.before"
    t0=$(date +%s.%N)
    if /usr/bin/time -f '%U %S' -o "$work/copier-cpu" \
        timeout 3600 bash -c "$(declare -f contender); src='$src' dst='$dst' work='$work' dailysyncd='$dailysyncd' contender '$name'" \
        >"$work/$scenario-$name.log" 2>&1; then status=ok; else status="exit $?"; fi
    t1=$(date +%s.%N)
    nas_processes >"$work/nas-cpu.after"
    local copier_cpu nas_cpu
    copier_cpu=$(awk 'END {printf "%.1f", $1 + $2}' "$work/copier-cpu")
    nas_cpu=$(nas_cpu_between "$work/nas-cpu.before" "$work/nas-cpu.after")
    cpu1=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    local busy
    busy=$(echo "$cpu0 $cpu1" | awk '{printf "%.0f", 100 * ($3 - $1) / ($4 - $2)}')
    unmount_nas
    if [[ $name == dailysyncd* ]] && [ "$status" = "exit 1" ]; then status=ok; fi   # warnings only
    if [ "$name" = metadata-limit ]; then status="ok (lists only)"; elif ! verify; then status="WRONG copy"; fi
    if [[ $name == dailysyncd* ]]; then
        local report
        report=$(grep '^report: ' "$work/last-dailysyncd.out" | cut -d' ' -f2)
        cp "$work/last-dailysyncd.out" "$work/$scenario-$name.out"   # kept: the next contender's state replaces the report
        cp "$report" "$work/$scenario-$name.report.json" 2>/dev/null || true
        extra=$(jq -r '"cpu self \(.cpu.self_seconds*100|round/100) s, children \(.cpu.children_seconds*100|round/100) s, \(.units|length) units, concurrency " + ([(if (.concurrency_changes|length)>0 then .concurrency_changes[0].from else .concurrency end)] + [.concurrency_changes[]?.to] | map(tostring) | join("->"))' "$report" 2>/dev/null || echo "")
    fi
    local seconds
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
    log "$scenario: $name: $seconds s, CPU $busy % busy, copier CPU $copier_cpu s, NAS CPU (all sshfs+ssh sshd proxy) $nas_cpu s, $status $extra"
    echo -e "$scenario\t$name\t$seconds\t$status\t$busy\t$extra\t$copier_cpu\t$nas_cpu" >>"$tsv"
}

# Full: empty destination.
write_config
for name in "${full_contenders[@]}"; do
    rm -rf "$nas/prod" && cp -a "$nas/prod.v1" "$nas/prod"
    rm -rf "$nas/prod_backup" && mkdir -p "$nas/prod_backup"
    [ "$name" = dailysyncd ] && rm -rf "$work/state"
    run full "$name"
    [ "$name" = dailysyncd ] && rm -rf "$work/state.after-full" && cp -a "$work/state" "$work/state.after-full"
done

# Daily: yesterday's backup equals prod.v1; today 1 % modified, 0.5 % new, 0.2 % deleted.
rm -rf "$nas/prod" && cp -a "$nas/prod.v1" "$nas/prod"
"$repo/build/bench_tree" mutate "$nas/prod" >&2
for name in "${daily_contenders[@]}"; do
    rm -rf "$nas/prod_backup" && cp -a "$nas/prod.v1" "$nas/prod_backup"
    # dailysyncd plans from what its previous (full) run learnt, as it would every night.
    [[ $name == dailysyncd* ]] && rm -rf "$work/state" && cp -a "$work/state.after-full" "$work/state"
    run daily "$name"
done

# --- report ---------------------------------------------------------------------------
mkdir -p "$results"
cp "$tsv" "$results/$tag.tsv"
{
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); rsync $(rsync --version | head -1 | awk '{print $3}'), sshfs $(sshfs --version 2>&1 | head -1 | awk '{print $3}'), fpart $(fpart -V 2>&1 | head -1 | awk '{print $2}'), rclone $(rclone version 2>/dev/null | head -1 | awk '{print $2}')"
    echo "Tree: $files files, $size; largest project: ${big_project#* } with ${big_project%% *} files"
    echo "NAS: sshfs from sshd in a network namespace, $rtt_us us round trip added by bench/latency_proxy"
    echo
    for scenario in full daily; do
        base=$(awk -F'\t' -v s=$scenario '$1==s && $2=="dailysyncd" {print $3}' "$tsv")
        echo "**$scenario**"
        echo
        echo "| contender | wall time (s) | ratio to dailysyncd | copy | CPU busy | copier CPU (s) | NAS CPU (s): all = sshfs+ssh / sshd / proxy | notes |"
        echo "|---|---:|---:|---|---:|---:|---|---|"
        awk -F'\t' -v s=$scenario -v b="$base" '$1==s {split($8, n, " "); printf "| %s | %.1f | %.2f | %s | %s %% | %s | %s = %s / %s / %s | %s |\n", $2, $3, $3/b, $4, $5, $7, n[1], n[2], n[3], n[4], $6}' "$tsv"
        echo
    done
} >"$results/$tag.md"
gnuplot <<EOF
set terminal png size 900,480
set output "$results/$tag.png"
set title "Wall time on a simulated NAS (sshfs in a network namespace), lower is better"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "seconds"
set xtics rotate by -25
set key top left
set datafile separator "\t"
plot "< awk -F'\t' '\$1==\"full\" {print \$2\"\t\"\$3}' $tsv" using 2:xtic(1) title "full (empty destination)", \
     "< awk -F'\t' '\$1==\"daily\" {print \$2\"\t\"\$3}' $tsv" using 2 title "daily (1 % changed)"
EOF
cat "$results/$tag.md"
log "results in $results"
