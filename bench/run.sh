#!/usr/bin/env bash
# Benchmark resource-sync against microcosm-resourcesync 2.0.0 (the reference) on three
# workloads, alternating the tools, RUNS runs each; writes bench/RESULTS.md.
#   (a) pull 20,000 resources (pages of 500) from a HAL server into a directory
#   (b) push a 20,000-resource directory of 3 related types into an empty server
#   (c) push 2,000 resources to a server that adds 5 ms to every request
# Usage: bash bench/run.sh            (RUNS=5 bash bench/run.sh for more runs)
# Before/after a change: REF_BIN=path/to/older/resource-sync RESULTS=/tmp/ab.md bash bench/run.sh
# puts an older build of this tool in the reference's place (same flags as ours).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
# tmpfs by default: the VM's disk varies 5x from run to run for small-file creation,
# which would measure the disk, not the tools. Set BENCH_WORK to measure a real disk.
WORK=${BENCH_WORK:-/dev/shm/resource-sync-bench}
VENV=bench/.venv
OURS=target/release/resource-sync
REF=${REF_BIN:-$VENV/bin/resource-sync}
RESULTS=${RESULTS:-bench/RESULTS.md}
SERVER=target/release/examples/demo_server
TIMINGS=$WORK/timings.tsv

setup() {
    if [ ! -x "$REF" ] && [ -z "${REF_BIN:-}" ]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q microcosm-resourcesync==2.0.0
    fi
    command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
    [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
    cargo build --release --bin resource-sync --example demo_server
    rm -rf "$WORK" && mkdir -p "$WORK"
    printf 'workload\ttool\trun\tseconds\tmax_rss_kb\n' > "$TIMINGS"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME ARGS...: a demo_server on a free port; sets PORT and SERVER_PID.
start_server() {
    local name=$1; shift
    PORT=$(free_port)
    "$SERVER" --port "$PORT" --no-log --media-type application/json "$@" > "$WORK/server-$name.log" 2>&1 &
    SERVER_PID=$!
    # The server prints its address once its data is seeded.
    for _ in $(seq 300); do
        grep -q listening "$WORK/server-$name.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server $name did not start" >&2; exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# measure WORKLOAD TOOL RUN COMMAND...: wall time and peak RSS of the command.
measure() {
    local workload=$1 tool=$2 run=$3; shift 3
    /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$@" > "$WORK/$workload-$tool-$run.out" 2>&1 || {
        echo "$workload $tool run $run failed:" >&2; tail -5 "$WORK/$workload-$tool-$run.out" >&2; exit 1
    }
    read -r seconds rss < "$WORK/time.txt"
    printf '%s\t%s\t%s\t%s\t%s\n' "$workload" "$tool" "$run" "$seconds" "$rss" >> "$TIMINGS"
    echo "  $workload $tool run $run: ${seconds} s, ${rss} KB"
}

tool_command() {
    case $1 in ours) echo "$OURS" ;; reference) echo "$REF" ;; esac
}

workload_a() {
    echo "(a) pull 20,000 resources, pages of 500, into a directory"
    start_server a --teams 400 --players-per-team 50
    for run in $(seq "$RUNS"); do
        for tool in reference ours; do
            measure a "$tool" "$run" "$(tool_command $tool)" -l 500 \
                "http://127.0.0.1:$PORT/api/player" "$WORK/a-$tool-$run"
        done
    done
    diff -r "$WORK/a-reference-1" "$WORK/a-ours-1" > /dev/null && echo "  outputs identical"
    # The server's own page rate, for the physical limit: a load generator at 1 connection
    # (a pull follows `next` links one page after another) and at 8.
    for connections in 1 8; do
        wrk -t1 -c"$connections" -d5s -H 'X-Request-Limit: 500' \
            "http://127.0.0.1:$PORT/api/player?offset=10000" > "$WORK/wrk-a-c$connections.txt"
    done
    stop_server
}

make_push_dataset() {
    start_server seed --teams 100 --players-per-team 100
    "$OURS" -q --follow-child "http://127.0.0.1:$PORT/api" "$WORK/dataset-b"
    stop_server
    start_server seed --teams 20 --players-per-team 50
    "$OURS" -q --follow-child "http://127.0.0.1:$PORT/api" "$WORK/dataset-c"
    stop_server
}

workload_b() {
    echo "(b) push 20,100 resources (100 teams, 10,000 players, 10,000 stats) into an empty server"
    for run in $(seq "$RUNS"); do
        for tool in reference ours; do
            start_server "b-$tool-$run" --empty
            measure b "$tool" "$run" "$(tool_command $tool)" "$WORK/dataset-b" "http://127.0.0.1:$PORT/api"
            stop_server
        done
    done
}

workload_c() {
    echo "(c) push 2,020 resources to a server adding 5 ms per request (ours: --concurrency 16)"
    for run in $(seq "$RUNS"); do
        for tool in reference ours; do
            start_server "c-$tool-$run" --empty --latency-ms 5
            if [ "$tool" = ours ] || [ -n "${REF_BIN:-}" ]; then
                measure c "$tool" "$run" "$(tool_command "$tool")" --concurrency 16 "$WORK/dataset-c" "http://127.0.0.1:$PORT/api"
            else
                measure c reference "$run" "$REF" "$WORK/dataset-c" "http://127.0.0.1:$PORT/api"
            fi
            stop_server
        done
    done
}

# (d) and (e): a profile (`--api`) against the demo server's plain-JSON mode: 200 teams with
# 100 players each, players nested under their team, one stat each (40,200 members), pages
# of 500; then the pulled tree cloned into an empty instance (POST, server ids, keys).
workload_profiles() {
    echo "(d) pull 40,200 members through a profile (players nested under 200 teams), pages of 500"
    start_server d --plain --teams 200 --players-per-team 100
    for run in $(seq "$RUNS"); do
        measure d ours "$run" "$OURS" --api examples/api/league.yaml -l 500 \
            "http://127.0.0.1:$PORT/api" "$WORK/d-$run"
    done
    stop_server
    echo "(e) clone those 40,200 members into an empty plain-JSON server (POST, parents first)"
    for run in $(seq "$RUNS"); do
        start_server "e-$run" --plain --empty
        measure e ours "$run" "$OURS" --api examples/api/league.yaml --concurrency 16 \
            "$WORK/d-1" "http://127.0.0.1:$PORT/api"
        stop_server
    done
}

setup
make_push_dataset
workload_a
workload_b
workload_c
[ -n "${REF_BIN:-}" ] || workload_profiles
python3 bench/report.py "$WORK" > "$RESULTS"
cat "$RESULTS"
