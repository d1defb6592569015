#!/bin/bash
# Builds dailysyncd, generates a sample production tree under ./demo-data and backs it up
# once with config/demo.json, showing live progress and the final report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
demo=$PWD/demo-data
rm -rf "$demo"
scripts/make-sample-tree.sh "$demo/prod"
mkdir -p "$demo/prod_backup"
sed "s|@DEMO_DIR@|$demo|g" config/demo.json >"$demo/dailysyncd.json"
echo
echo "== dailysyncd --check-config --config $demo/dailysyncd.json"
build/dailysyncd --check-config --config "$demo/dailysyncd.json"
echo
echo "== dailysyncd --once --config $demo/dailysyncd.json"
set +e
build/dailysyncd --once --config "$demo/dailysyncd.json"
status=$?
set -e
echo
echo "== exit status $status; the copy is in $demo/prod_backup; run it again to see a daily (incremental) run"
if diff -r "$demo/prod" "$demo/prod_backup" >/dev/null; then echo "== diff -r: the backup equals the source"; fi
exit $status
