#!/usr/bin/env bash
# The cost of --backup (SPEC section 12) on a push of 20,100 resources (100 teams, 10,000
# players, 10,000 stats), RUNS runs each (default 3):
#   (u1) into an empty server: every resource created, the backup records 20,100 creates;
#   (u2) into the seeded server, every resource changed: 20,100 updates, each copy saved
#        (and synced) before its write.
# Each without and with --backup; BEFORE_BIN=path also times an older build without it.
# Usage: bash bench/backup.sh   (BENCH_WORK=/tmp/x to measure a real disk instead of tmpfs)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
WORK=${BENCH_WORK:-/dev/shm/resource-sync-backup-bench}
OURS=${CARGO_TARGET_DIR:-target}/release/resource-sync
SERVER=${CARGO_TARGET_DIR:-target}/release/examples/demo_server
PORT=${PORT:-$((20000 + RANDOM % 20000))}
cargo build --release --quiet --bin resource-sync --example demo_server
rm -rf "$WORK" && mkdir -p "$WORK"

serve() {
    # A fresh port each time: a server just stopped may still hold the last one.
    PORT=$((PORT + 1))
    "$SERVER" --port "$PORT" --no-log --media-type application/json "$@" > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    # The server prints its address once its data is seeded.
    until grep -q listening "$WORK/server.log" 2> /dev/null; do
        kill -0 "$SERVER_PID" || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.05
    done
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null || true; }
timed() {
    local label=$1; shift
    /usr/bin/time -f "$label %e s, %M KB" "$@" > /dev/null 2> "$WORK/err" || {
        cat "$WORK/err" >&2; exit 1
    }
    tail -1 "$WORK/err"
}

serve --teams 100 --players-per-team 100
"$OURS" -q --follow-child "http://127.0.0.1:$PORT/api" "$WORK/tree"
stop
cp -r "$WORK/tree" "$WORK/changed"
find "$WORK/changed" -name '*.yaml' -exec sed -i 's/^name: \(.*\)$/name: \1 (edited)/; s/^points: /points: 1/' {} +

for run in $(seq "$RUNS"); do
    for mode in plain backup before; do
        flags=()
        bin=$OURS
        case $mode in
            backup) flags=(--backup "$WORK/bk-u1-$run") ;;
            before) [ -n "${BEFORE_BIN:-}" ] || continue; bin=$BEFORE_BIN ;;
        esac
        serve --empty
        timed "(u1) create, $mode, run $run:" "$bin" -q "${flags[@]}" "$WORK/tree" "http://127.0.0.1:$PORT/api"
        stop
        [ "$mode" = backup ] && flags=(--backup "$WORK/bk-u2-$run")
        serve --teams 100 --players-per-team 100
        timed "(u2) update, $mode, run $run:" "$bin" -q "${flags[@]}" "$WORK/changed" "http://127.0.0.1:$PORT/api"
        stop
    done
done
echo "backup of (u2): $(find "$WORK/bk-u2-1" -type f | wc -l) files, $(du -sh "$WORK/bk-u2-1" | cut -f1)"
