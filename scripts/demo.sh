#!/bin/bash
# Builds dailysyncd and backs up a sample production tree under ./demo-data with
# config/demo.json, showing live progress and the final report.
#
#   scripts/demo.sh           first time: generates the tree and makes the full copy;
#                             every later time: a day of work on the tree (a few files
#                             changed, added and removed), then the daily (incremental) run
#   scripts/demo.sh --fresh   starts over: removes demo-data (tree, backup, state) first
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    "") fresh=0 ;;
    --fresh) fresh=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
scripts/build.sh
demo=$PWD/demo-data
[ "$fresh" = 1 ] && rm -rf "$demo"
if [ -d "$demo/prod" ] && [ -f "$demo/dailysyncd.json" ]; then
    kind="daily (incremental) run"
    echo
    echo "== a day of work in $demo/prod: 3 files changed, 2 added, 1 removed"
    day=$(date +%Y%m%dT%H%M%S)
    # removed: the oldest of the notes an earlier demo day added, else one of the sample's own
    victim=$(cd "$demo/prod" && ls -d beta/notes_*.txt 2>/dev/null | head -1 || true)
    [ -n "$victim" ] && [ -e "$demo/prod/$victim" ] || victim=gamma/assets/set_1/shot_4.meta
    [ -e "$demo/prod/$victim" ] || victim=$(cd "$demo/prod" && find gamma -type f -name '*.meta' | head -1)
    for f in alpha/audio/shot_1.meta beta/assets/set_1/shot_2.meta gamma/assets/set_1/shot_3.meta; do
        [ -f "$demo/prod/$f" ] && head -c 2000 /dev/urandom >"$demo/prod/$f"
    done
    mkdir -p "$demo/prod/alpha/edit/day_$day"
    head -c 3000000 /dev/urandom >"$demo/prod/alpha/edit/day_$day/cut.mov"
    printf 'notes of %s\n' "$day" >"$demo/prod/beta/notes_$day.txt"
    if [ -n "$victim" ]; then rm -f "$demo/prod/$victim"; fi
else
    kind="first (full) run"
    rm -rf "$demo"
    scripts/make-sample-tree.sh "$demo/prod"
    mkdir -p "$demo/prod_backup"
    sed "s|@DEMO_DIR@|$demo|g" config/demo.json >"$demo/dailysyncd.json"
    echo
    echo "== dailysyncd --check-config --config $demo/dailysyncd.json"
    build/dailysyncd --check-config --config "$demo/dailysyncd.json"
fi
echo
echo "== $kind: dailysyncd --once --config $demo/dailysyncd.json"
set +e
build/dailysyncd --once --config "$demo/dailysyncd.json"
status=$?
set -e
echo
echo "== exit status $status; the copy is in $demo/prod_backup"
if diff -r "$demo/prod" "$demo/prod_backup" >/dev/null; then echo "== diff -r: the backup equals the source"; fi
echo "== run scripts/demo.sh again for a daily run after a day of work; scripts/demo.sh --fresh starts over"
exit $status
