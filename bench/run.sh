#!/usr/bin/env bash
# Benchmark resource-sync against microcosm-resourcesync 2.0.0 (the reference) on five
# workloads, alternating the tools, RUNS runs each; writes bench/RESULTS.md.
#   (a) pull 20,000 resources (pages of 500) from a HAL server into a directory
#   (b) push a 20,000-resource directory of 3 related types into an empty server
#   (c) push 2,000 resources to a server that adds 5 ms to every request
#   (f) copy the directory of (b) into a fresh directory
#   (g) pull 20,000 resources (pages of 100) from a server that adds 20 ms to every request
# plus (d), (e), (h) (profiles, ours only) and the kernel floor: creating 20,000 files bare.
#   (h) pull 20,000 players through a profile from a Django REST framework-style API
#       (`?page=N`, `count`, `next`, pages of 100) that adds 20 ms to every request
# Usage: bash bench/run.sh            (RUNS=5 bash bench/run.sh for more runs)
# Some workloads only: WORKLOADS="g h" bash bench/run.sh (any of a b f c g d h; d runs (d)
# and (e)): their figures are printed, bench/RESULTS.md is left as it is.
# Before/after a change: REF_BIN=path/to/older/resource-sync RESULTS=/tmp/ab.md bash bench/run.sh
# puts an older build of this tool in the reference's place (same flags as ours).
#
# bash bench/run.sh --scale: ours only, at SCALE_SIZES resources (default 20,000, 100,000,
# 400,000 and 1,000,000), SCALE_RUNS runs each (default 3, medians: one run at 1M varies
# by 15%): (i) pull N players into a directory, (ii) push a directory of about N teams,
# players and stats into an empty server, (iii) copy that directory, and the floor of
# creating N files; writes
# bench/SCALE.md (SCALE_RESULTS to change). Needs about 5 KiB of tmpfs a file, twice the
# largest N at once (a file takes a 4 KiB page on tmpfs), and about 12 GiB of memory at 1M
# (the pull's server holds 2M resources in 6.5 GiB while its 1M files fill tmpfs).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=normal
case ${1:-} in
    --scale) MODE=scale ;;
    "") ;;
    *) echo "usage: bash bench/run.sh [--scale]" >&2; exit 2 ;;
esac
RUNS=${RUNS:-3}
SCALE_SIZES=${SCALE_SIZES:-20000 100000 400000 1000000}
SCALE_RUNS=${SCALE_RUNS:-3}
# strace slows a run several times over; its counts per resource do not depend on N.
STRACE_MAX=${STRACE_MAX:-100000}
# diff -r of two 1M-file trees takes longer than the copy; above this, counts and sizes.
DIFF_MAX=${DIFF_MAX:-200000}
# tmpfs by default: the VM's disk varies 5x from run to run for small-file creation,
# which would measure the disk, not the tools. Set BENCH_WORK to measure a real disk.
WORK=${BENCH_WORK:-/dev/shm/resource-sync-bench}
VENV=bench/.venv
ALL_WORKLOADS="a b f c g d h"
WORKLOADS=${WORKLOADS:-$ALL_WORKLOADS}
# Where cargo builds (a shared CARGO_TARGET_DIR is honoured); report.py reads OURS too.
TARGET=${CARGO_TARGET_DIR:-target}
export OURS=$TARGET/release/resource-sync
REF=${REF_BIN:-$VENV/bin/resource-sync}
RESULTS=${RESULTS:-bench/RESULTS.md}
SCALE_RESULTS=${SCALE_RESULTS:-bench/SCALE.md}
SERVER=$TARGET/release/examples/demo_server
TIMINGS=$WORK/timings.tsv
# Seconds a server may take to seed its data (2M resources take several seconds).
SERVER_WAIT_S=${SERVER_WAIT_S:-600}

# wanted W: whether workload W is among WORKLOADS.
wanted() {
    case " $WORKLOADS " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

setup() {
    local needs_reference=no
    for workload in a b f c g; do
        if wanted "$workload"; then needs_reference=yes; fi
    done
    if [ "$MODE" = normal ] && [ "$needs_reference" = yes ] && [ ! -x "$REF" ] && [ -z "${REF_BIN:-}" ]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q microcosm-resourcesync==2.0.0
    fi
    command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
    command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
    [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
    cargo build --release --bin resource-sync --example demo_server
    rm -rf "$WORK" && mkdir -p "$WORK"
    printf 'workload\ttool\trun\tseconds\tmax_rss_kb\tuser_s\tsys_s\n' > "$TIMINGS"
    printf 'workload\tresources\n' > "$WORK/resources.tsv"
    printf 'files\trun\tseconds\n' > "$WORK/floor.tsv"
    printf 'workload\tidentical\tdetail\n' > "$WORK/compare.tsv"
    printf 'server\tstartup_s\tpeak_rss_kb\tfirst_page_s\tlast_page_s\n' > "$WORK/servers.tsv"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME ARGS...: a demo_server on a free port; sets PORT, SERVER_PID and
# SERVER_STARTUP (seconds until it listened, seeding included).
start_server() {
    local name=$1; shift
    local started
    PORT=$(free_port)
    started=$(date +%s.%N)
    "$SERVER" --port "$PORT" --no-log --media-type application/json "$@" > "$WORK/server-$name.log" 2>&1 &
    SERVER_PID=$!
    # The server prints its address once its data is seeded.
    for _ in $(seq $((SERVER_WAIT_S * 20))); do
        if grep -q listening "$WORK/server-$name.log" 2>/dev/null; then
            SERVER_STARTUP=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$started" "$(date +%s.%N)")
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "server $name did not start:" >&2; tail -5 "$WORK/server-$name.log" >&2; exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# measure WORKLOAD TOOL RUN COMMAND...: wall time, peak RSS, user and system time.
measure() {
    local workload=$1 tool=$2 run=$3; shift 3
    local seconds rss user sys
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time.txt" "$@" > "$WORK/$workload-$tool-$run.out" 2>&1 || {
        echo "$workload $tool run $run failed:" >&2; tail -5 "$WORK/$workload-$tool-$run.out" >&2; exit 1
    }
    read -r seconds rss user sys < <(tail -1 "$WORK/time.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$tool" "$run" "$seconds" "$rss" "$user" "$sys" >> "$TIMINGS"
    echo "  $workload $tool run $run: ${seconds} s, ${rss} KB"
}

# compare_outputs WORKLOAD EXPECTED ACTUAL: whether two trees hold the same files, byte for
# byte (diff -r), or above DIFF_MAX files the same names and sizes; recorded for the report.
compare_outputs() {
    local workload=$1 expected=$2 actual=$3 files identical detail
    files=$(find "$expected" -type f | wc -l)
    if [ "$files" -le "$DIFF_MAX" ]; then
        if diff -r "$expected" "$actual" > "$WORK/diff-$workload.txt" 2>&1; then
            identical=yes; detail="diff -r of $files files"
        else
            identical=no; detail="diff -r: $(grep -c '^diff\|^Only in\|^Binary' "$WORK/diff-$workload.txt") files differ, first: $(head -1 "$WORK/diff-$workload.txt")"
        fi
    elif cmp -s <(cd "$expected" && find . -type f -printf '%P %s\n' | sort) \
                <(cd "$actual" && find . -type f -printf '%P %s\n' | sort); then
        identical=yes; detail="same $files names and sizes (no diff -r above $DIFF_MAX files)"
    else
        identical=no; detail="names or sizes differ ($files files in $expected, $(find "$actual" -type f | wc -l) in $actual)"
    fi
    printf '%s\t%s\t%s\n' "$workload" "$identical" "$detail" >> "$WORK/compare.tsv"
    echo "  outputs identical: $identical ($detail)"
}

# server_record NAME: the running server's startup time, peak RSS so far and the time it
# takes to answer the first and the last 500-resource page of its players (the demo
# server's store skips to an offset one member at a time, so the last page costs more).
server_record() {
    local name=$1 count=${2:-0} first=nan last=nan peak
    peak=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    if [ "$count" -gt 0 ]; then
        first=$(page_seconds 0)
        last=$(page_seconds $((count > 500 ? count - 500 : 0)))
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$SERVER_STARTUP" "$peak" "$first" "$last" >> "$WORK/servers.tsv"
}

# page_seconds OFFSET: best of three GETs of a 500-player page at OFFSET.
page_seconds() {
    for _ in 1 2 3; do
        curl -s -o /dev/null -w '%{time_total}\n' -H 'X-Request-Limit: 500' \
            "http://127.0.0.1:$PORT/api/player?offset=$1"
    done | sort -g | head -1
}

# floor FILES RUNS: the kernel's share of a pull into a directory, the bare creation of
# FILES small files in one directory (bench/create_files.py), RUNS times.
floor() {
    local files=$1 runs=$2 seconds
    for run in $(seq "$runs"); do
        rm -rf "$WORK/floor"
        seconds=$(python3 bench/create_files.py "$files" "$WORK/floor")
        printf '%s\t%s\t%s\n' "$files" "$run" "$seconds" >> "$WORK/floor.tsv"
        echo "  floor: $files files created in $seconds s"
        rm -rf "$WORK/floor"
    done
}

# syscalls NAME COMMAND...: the command's system calls, counted by strace -c (not timed).
syscalls() {
    local name=$1; shift
    command -v strace > /dev/null || return 0
    strace -c -f -o "$WORK/strace-$name.txt" "$@" > /dev/null 2>&1 || {
        echo "strace of $name failed (ptrace not allowed?); no system call counts" >&2
        rm -f "$WORK/strace-$name.txt"
    }
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
    compare_outputs a "$WORK/a-reference-1" "$WORK/a-ours-1"
    syscalls a "$OURS" -l 500 "http://127.0.0.1:$PORT/api/player" "$WORK/a-strace"
    rm -rf "$WORK/a-strace"
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

workload_f() {
    echo "(f) copy the 20,100 resources of (b) from a directory into a fresh directory"
    for run in $(seq "$RUNS"); do
        for tool in reference ours; do
            measure f "$tool" "$run" "$(tool_command $tool)" "$WORK/dataset-b" "$WORK/f-$tool-$run"
        done
    done
    compare_outputs f "$WORK/f-reference-1" "$WORK/f-ours-1"
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
    # What one request really takes against that server (its 5 ms sleep, the wake-up, the
    # connection and handling): the physical limit's latency.
    start_server c-latency --teams 1 --players-per-team 1 --latency-ms 5
    for _ in $(seq 21); do
        curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/team/1"
    done > "$WORK/latency-c.txt"
    stop_server
}

# (g): a pull over a real network's latency: every request answered after 20 ms, pages of
# 100, so a pull costs 200 round trips; ours reads pages ahead (--concurrency 16).
workload_g() {
    echo "(g) pull 20,000 resources, pages of 100, from a server adding 20 ms per request"
    start_server g --teams 200 --players-per-team 100 --latency-ms 20
    for run in $(seq "$RUNS"); do
        for tool in reference ours; do
            if [ "$tool" = ours ] || [ -n "${REF_BIN:-}" ]; then
                measure g "$tool" "$run" "$(tool_command "$tool")" --concurrency 16 -l 100 \
                    "http://127.0.0.1:$PORT/api/player" "$WORK/g-$tool-$run"
            else
                measure g reference "$run" "$REF" -l 100 \
                    "http://127.0.0.1:$PORT/api/player" "$WORK/g-$tool-$run"
            fi
        done
    done
    compare_outputs g "$WORK/g-reference-1" "$WORK/g-ours-1"
    for _ in $(seq 21); do
        curl -s -o /dev/null -w '%{time_total}\n' -H 'X-Request-Limit: 100' \
            "http://127.0.0.1:$PORT/api/player?offset=10000"
    done > "$WORK/latency-g.txt"
    stop_server
}

# (h): a profile pull over the same 20 ms: the demo server's plain mode speaks Django REST
# framework's pages ({"count", "next", "results"}, `?page=N`), 100 a page, so 200 round
# trips; ours reads ahead from the `next` links (--concurrency 16). Ours only (the reference
# reads no profiles); one run at --concurrency 1, one page at a time, for the same files.
workload_h() {
    echo "(h) pull 20,000 players through a profile, DRF-style pages of 100, server adding 20 ms per request"
    cat > "$WORK/h-profile.yaml" <<'PROFILE'
records: results
next: body:next
size: page_size
types:
  player:
    path: players/
PROFILE
    start_server h --plain --teams 200 --players-per-team 100 --latency-ms 20
    local api=(--api "$WORK/h-profile.yaml" -l 100 "http://127.0.0.1:$PORT/api")
    for run in $(seq "$RUNS"); do
        measure h ours "$run" "$OURS" --concurrency 16 "${api[@]}" "$WORK/h-ours-$run"
    done
    measure h one-at-a-time 1 "$OURS" --concurrency 1 "${api[@]}" "$WORK/h-one"
    compare_outputs h "$WORK/h-one" "$WORK/h-ours-1"
    for _ in $(seq 21); do
        curl -s -o /dev/null -w '%{time_total}\n' \
            "http://127.0.0.1:$PORT/api/players/?page=100&page_size=100"
    done > "$WORK/latency-h.txt"
    stop_server
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

# --scale: one size. Builds nothing twice and removes each tree once it has been measured,
# so tmpfs holds at most the dataset and its copy.
scale_size() {
    local n=$1 data=$WORK/scale-data files
    echo "N = $n"
    check_space "$n"
    echo "(i) pull $n players, pages of 500, into a directory"
    start_server "pull-$n" --teams $(((n + 49) / 50)) --players-per-team 50
    server_record "pull-$n" "$n"
    # The floor runs first: on this VM the first run to fill GiBs of tmpfs after a while
    # pays the kernel's first use of that memory (at 1M: 5.8 s to create the files against
    # 4.6 s after, and a pull's system time 12.8 s against 5.5 s). The floor's first run
    # pays it and is reported apart, so each pull measures the tool.
    floor "$n" "$SCALE_RUNS"
    printf 'pull-%s\t%s\n' "$n" $(((n + 49) / 50 * 50)) >> "$WORK/resources.tsv"
    for run in $(seq "$SCALE_RUNS"); do
        measure "pull-$n" ours "$run" "$OURS" -l 500 "http://127.0.0.1:$PORT/api/player" "$WORK/scale-pull"
        rm -rf "$WORK/scale-pull"
    done
    if [ "$n" -le "$STRACE_MAX" ]; then
        syscalls "pull-$n" "$OURS" -l 500 "http://127.0.0.1:$PORT/api/player" "$WORK/scale-pull"
        rm -rf "$WORK/scale-pull"
    fi
    server_record "pull-$n-after"
    stop_server

    echo "(ii) push about $n teams, players and stats into an empty server"
    start_server "data-$n" --teams $(((n + 199) / 200)) --players-per-team 100
    server_record "data-$n"
    "$OURS" -q --follow-child -l 500 "http://127.0.0.1:$PORT/api" "$data"
    stop_server
    files=$(find "$data" -type f | wc -l)
    printf 'push-%s\t%s\ncopy-%s\t%s\n' "$n" "$files" "$n" "$files" >> "$WORK/resources.tsv"
    for run in $(seq "$SCALE_RUNS"); do
        start_server "push-$n-$run" --empty
        measure "push-$n" ours "$run" "$OURS" "$data" "http://127.0.0.1:$PORT/api"
        server_record "push-$n-$run-after"
        stop_server
    done

    echo "(iii) copy that directory into a fresh directory"
    for run in $(seq "$SCALE_RUNS"); do
        measure "copy-$n" ours "$run" "$OURS" "$data" "$WORK/scale-copy"
        [ "$run" -gt 1 ] || compare_outputs "copy-$n" "$data" "$WORK/scale-copy"
        rm -rf "$WORK/scale-copy"
    done
    rm -rf "$data"
}

# check_space N: tmpfs for a dataset of N files and its copy (about 5 KiB a file), and
# memory for the larger of that and the pull's server (2N resources, about 3.3 KiB each)
# with the pull's N files.
check_space() {
    local need_kb=$(($1 * 2 * 5)) avail_kb mem_kb
    avail_kb=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
    mem_kb=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
    echo "  $WORK: $((avail_kb / 1024)) MiB free, memory available $((mem_kb / 1024)) MiB, about $((need_kb / 1024)) MiB needed"
    if [ "$avail_kb" -lt "$need_kb" ] || [ "$mem_kb" -lt $(($1 * 12)) ]; then
        echo "not enough room for N = $1 (tmpfs files take a 4 KiB page each); smaller SCALE_SIZES or BENCH_WORK elsewhere" >&2
        exit 1
    fi
    # Files left on the same file system by something else slow every file creation: a
    # stray million-file tree took the 1M floor from 4.1-4.7 s to 9.4-12.3 s.
    local used_inodes
    used_inodes=$(df -Pi "$WORK" | awk 'NR == 2 {print $3}')
    if [ "$used_inodes" -gt 50000 ]; then
        echo "  warning: $WORK's file system already holds $used_inodes files; the figures will be slower than on an empty one" >&2
    fi
}

setup
if [ "$MODE" = scale ]; then
    for n in $SCALE_SIZES; do
        scale_size "$n"
    done
    python3 bench/report.py --scale "$WORK" "$SCALE_RESULTS"
    cat "$SCALE_RESULTS"
    exit 0
fi
if wanted b || wanted f || wanted c; then make_push_dataset; fi
for workload in a b f c g; do
    if wanted "$workload"; then "workload_$workload"; fi
done
if [ "$WORKLOADS" != "$ALL_WORKLOADS" ]; then
    if wanted d && [ -z "${REF_BIN:-}" ]; then workload_profiles; fi
    if wanted h; then workload_h; fi
    python3 bench/report.py --partial "$WORK"
    find "$WORK" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    exit 0
fi
floor 20000 "$RUNS"
if [ -z "${REF_BIN:-}" ]; then
    workload_profiles
    workload_h
fi
python3 bench/report.py "$WORK" "$RESULTS"
cat "$RESULTS"
# The trees written (about 380,000 files) would slow whatever creates files on this file
# system next; the timings and logs stay.
find "$WORK" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
