"""Turns what bench/run.sh recorded into a report.

    python3 bench/report.py WORK OUT            bench/RESULTS.md: the tools side by side
    python3 bench/report.py --scale WORK OUT    bench/SCALE.md: ours at 20k..1M resources
    python3 bench/report.py --partial WORK      stdout: the workloads run (WORKLOADS=...)

OUT is rewritten up to the line KEPT_MARKER; what follows that line (hand-written sections)
is kept as it is.
"""
import csv
import io
import os
import platform
import re
import statistics
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import date

KEPT_MARKER = "<!-- kept: hand-written sections below -->"
RESOURCES = {"a": 20000, "b": 20100, "c": 2020, "f": 20100, "g": 20000, "h": 20000}
DESCRIPTION = {
    "d": "pull 40,200 members through `--api` (nested under 200 teams, pages of 500) into a directory",
    "e": "clone them into an empty plain-JSON server (POST, server ids, natural keys)",
    "h": "pull 20,000 players through `--api` from a Django REST framework-style API (pages of 100), server adds 20 ms per request",
    "a": "pull 20,000 resources (pages of 500) into a directory",
    "b": "push 20,100 resources of 3 related types into an empty server",
    "f": "copy those 20,100 resources from a directory into a fresh directory",
    "c": "push 2,020 resources, server adds 5 ms per request",
    "g": "pull 20,000 resources (pages of 100), server adds 20 ms per request",
}
SIDE_BY_SIDE = "abfcg"
PAGES_G = 200
CONCURRENCY_G = 16
PAGES_H = 200
CONCURRENCY_H = 16
LATENCY_S = 0.005
CONCURRENCY_C = 16
PAGES_A = 41  # 40 pages of 500, plus `?offset=0` reached through a `prev` link
FLOOR_SYSCALLS = "openat, write, close"
SCALE_WORKLOADS = {
    "pull": "(i) pull N players (pages of 500) from the demo server into a directory",
    "push": "(ii) push a directory of teams, players and stats (N/200 teams, 100 players each, one stat each) into an empty server",
    "copy": "(iii) copy that directory into a fresh directory",
}
SCALE_BASE = 20000
SCALE_TOP = 1000000
SCALE_RATIO_TARGET = 1.2
SCALE_BYTES_TARGET = 250


def read_tsv(work, name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


class Runs:
    """The timed runs of one (workload, tool): medians of time, peak of memory."""

    def __init__(self, rows):
        self.seconds = [float(row["seconds"]) for row in rows]
        self.rss_kb = [int(row["max_rss_kb"]) for row in rows]
        self.user = [float(row.get("user_s") or "nan") for row in rows]
        self.sys = [float(row.get("sys_s") or "nan") for row in rows]

    @property
    def time(self):
        return statistics.median(self.seconds)

    @property
    def peak_kb(self):
        return max(self.rss_kb)

    def spread(self):
        return f"{min(self.seconds):.2f}-{max(self.seconds):.2f}"


def load_runs(work):
    grouped = {}
    for row in read_tsv(work, "timings.tsv"):
        grouped.setdefault((row["workload"], row["tool"]), []).append(row)
    return {key: Runs(rows) for key, rows in grouped.items()}


def floor_runs(work):
    """Seconds of each run of the bare file-creation loop, in run order, by file count."""
    grouped = {}
    for row in read_tsv(work, "floor.tsv"):
        grouped.setdefault(int(row["files"]), []).append(float(row["seconds"]))
    return grouped


def floor_seconds(work):
    """Median seconds of the bare file-creation loop, by file count."""
    return {files: statistics.median(times) for files, times in floor_runs(work).items()}


def syscall_counts(work, name):
    """(total calls, {syscall: calls}) from `strace -c -f`, or None if not recorded."""
    path = os.path.join(work, f"strace-{name}.txt")
    if not os.path.exists(path):
        return None
    calls, total = {}, None
    with open(path) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 5 or not re.match(r"^[\d.]+$", fields[0]):
                continue
            if fields[-1] == "total":
                total = int(fields[3])
            else:
                calls[fields[-1]] = int(fields[3])
    return total, calls


def syscall_summary(counts, resources):
    total, calls = counts
    top = sorted(calls.items(), key=lambda item: -item[1])[:5]
    parts = ", ".join(f"{name} {count / resources:.2f}" for name, count in top)
    return f"{total / resources:.2f} system calls a resource ({parts})"


def wrk_rate(work, connections):
    path = os.path.join(work, f"wrk-a-c{connections}.txt")
    if not os.path.exists(path):
        return float("nan")
    with open(path) as handle:
        match = re.search(r"Requests/sec:\s+([\d.]+)", handle.read())
    return float(match.group(1)) if match else float("nan")


def cpu_model():
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def our_version():
    ours = os.environ.get("OURS", "target/release/resource-sync")
    return subprocess.run([ours, "--version"], capture_output=True, text=True).stdout.strip()


def print_comparisons(work):
    rows = read_tsv(work, "compare.tsv")
    if not rows:
        return
    print("\nOutputs compared: " + "; ".join(
        f"({row['workload']}) {'identical' if row['identical'] == 'yes' else 'DIFFERENT'}: {row['detail']}"
        for row in rows
    ) + ".")


def side_by_side(work):
    runs = load_runs(work)
    cores = os.cpu_count()
    reference = os.environ.get("REF_BIN")
    print("# Benchmark results\n")
    print(f"Measured {date.today()} on {cores} cores ({cpu_model()}), {our_version()} against")
    if reference:
        print(f"an older build of it (`REF_BIN={reference}`), by `bash bench/run.sh`: the tools alternate, each")
    else:
        print("microcosm-resourcesync 2.0.0, by `bash bench/run.sh`: the tools alternate, each")
    print(f"workload {len(runs[('a', 'ours')].seconds)} runs per tool, medians shown (range in brackets); output on tmpfs;")
    print("server, tools and load generator share the same cores.\n")
    print("| workload | reference | resource-sync | speed-up | reference peak RSS | resource-sync peak RSS | RSS ratio |")
    print("|---|---|---|---|---|---|---|")
    for workload in SIDE_BY_SIDE:
        ref, ours = runs[(workload, "reference")], runs[(workload, "ours")]
        print(
            f"| ({workload}) {DESCRIPTION[workload]} | {ref.time:.2f} s ({ref.spread()}) | "
            f"{ours.time:.2f} s ({ours.spread()}) | {ref.time / ours.time:.1f}x | "
            f"{ref.peak_kb / 1024:.0f} MiB | {ours.peak_kb / 1024:.0f} MiB | {ours.peak_kb / ref.peak_kb:.2f} |"
        )
    print_comparisons(work)
    ours = {workload: runs[(workload, "ours")] for workload in SIDE_BY_SIDE}
    print("\n## Against the physical limit\n")
    ideal_c = RESOURCES["c"] * LATENCY_S / CONCURRENCY_C
    print(
        f"- (c) ideal `requests x 5 ms / concurrency` = {RESOURCES['c']} x 5 ms / {CONCURRENCY_C} = "
        f"{ideal_c:.2f} s; measured {ours['c'].time:.2f} s = {ours['c'].time / ideal_c:.2f}x the ideal."
    )
    latency = measured_latency_s(work, "c")
    if latency:
        real_ideal = RESOURCES["c"] * latency / CONCURRENCY_C
        print(
            f"  One request to that server takes {latency * 1000:.1f} ms end to end (median of 21 by "
            f"curl: the 5 ms sleep plus the wake-up, the connection and handling); with that latency the ideal is "
            f"{real_ideal:.2f} s and (c) is {ours['c'].time / real_ideal:.2f}x it."
        )
    ours_rate = PAGES_A / ours["a"].time
    print(
        f"- (a) the server answers a 500-resource page {wrk_rate(work, 1):.0f} times/s to wrk on one "
        f"connection and {wrk_rate(work, 8):.0f}/s on eight; the pull reads {PAGES_A} pages in "
        f"{ours['a'].time:.2f} s = {ours_rate:.0f} pages/s ({ours_rate / wrk_rate(work, 1):.2f} of wrk's "
        "one-connection rate). A pull follows `next` links, so its pages come one after another."
    )
    print_latency_floor(work, runs, "g", PAGES_G, CONCURRENCY_G)
    print_latency_floor(work, runs, "h", PAGES_H, CONCURRENCY_H)
    print_floor(work, ours)
    print("\n## Resources per second per core\n")
    for workload in "abf":
        rate = RESOURCES[workload] / ours[workload].time / cores
        print(f"- ({workload}) {rate:,.0f} resources/s/core")
    if reference:
        print("\n(Issue 14's targets are against microcosm-resourcesync; not checked against an older build.)")
    else:
        print_targets(runs, ideal_c)
    print_profiles(runs)


def print_latency_floor(work, runs, workload, pages, concurrency):
    """A pull over latency against its floor `pages x round trip / concurrency`."""
    latency = measured_latency_s(work, workload)
    if not latency or (workload, "ours") not in runs:
        return
    ours = runs[(workload, "ours")].time
    floor = pages * latency / concurrency
    line = (
        f"- ({workload}) floor `pages x round trip / concurrency` = {pages} x {latency * 1000:.1f} ms / "
        f"{concurrency} = {floor:.2f} s (round trip: median of 21 by curl); measured "
        f"{ours:.2f} s = {ours / floor:.2f}x the floor (pages read ahead)"
    )
    one = runs.get((workload, "one-at-a-time"))
    if one:
        line += f"; one page at a time (`--concurrency 1`) {one.time:.2f} s"
    print(line + ".")


def measured_latency_s(work, workload):
    """The median round trip of one request to the workload's server, if the run measured it."""
    path = os.path.join(work, f"latency-{workload}.txt")
    if not os.path.exists(path):
        return None
    with open(path) as lines:
        times = sorted(float(line) for line in lines if line.strip())
    return times[len(times) // 2] if times else None


def print_floor(work, ours):
    """The kernel's share: creating the files a pull or a copy writes."""
    floor = floor_seconds(work).get(RESOURCES["a"])
    if floor is None:
        return
    per_file = floor / RESOURCES["a"] * 1e6
    print(
        f"- Kernel floor: creating {RESOURCES['a']:,} files of 180 bytes in one tmpfs directory, bare "
        f"({FLOOR_SYSCALLS}: `bench/create_files.py`, Python), takes {floor:.2f} s = {per_file:.1f} us a file "
        f"({per_file / 3:.1f} us a system call). (a) takes {ours['a'].time:.2f} s = "
        f"{ours['a'].time / floor:.1f}x that floor (system time {statistics.median(ours['a'].sys):.2f} s); "
        f"(f) creates 20,100 files and reads as many, {ours['f'].time:.2f} s = "
        f"{ours['f'].time / (floor * RESOURCES['f'] / RESOURCES['a']):.1f}x the floor of creating them."
    )
    counts = syscall_counts(work, "a")
    if counts:
        print(f"- (a) under `strace -c -f`: {syscall_summary(counts, RESOURCES['a'])}.")


def print_profiles(runs):
    """Profile workloads: no reference tool reads or writes these APIs."""
    rows = [("d", DESCRIPTION["d"], 40200), ("e", DESCRIPTION["e"], 40200), ("h", DESCRIPTION["h"], RESOURCES["h"])]
    rows = [row for row in rows if (row[0], "ours") in runs]
    if not rows:
        return
    print("\n## Any REST API (`--api` profiles, demo server `--plain`)\n")
    print("| workload | resource-sync | resources/s | peak RSS |")
    print("|---|---|---|---|")
    for workload, description, count in rows:
        times = runs[(workload, "ours")]
        print(f"| ({workload}) {description} | {times.time:.2f} s | {count / times.time:,.0f} | {times.peak_kb / 1024:.0f} MiB |")


def met(condition):
    return "yes" if condition else "no"


def print_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def print_targets(runs, ideal_c):
    """Issue 14's targets, checked."""
    def speedup(workload):
        return runs[(workload, "reference")].time / runs[(workload, "ours")].time

    def rss_ratio(workload):
        return runs[(workload, "ours")].peak_kb / runs[(workload, "reference")].peak_kb

    c_time = runs[("c", "ours")].time
    checks = [
        (f"({w}) at least {x}x faster than the reference", speedup(w) >= x, f"{speedup(w):.1f}x")
        for w, x in (("a", 10), ("b", 20), ("f", 10))
    ] + [
        ("(c) within 1.2x of `requests x latency / concurrency`", c_time <= 1.2 * ideal_c, f"{c_time / ideal_c:.2f}x"),
    ] + [
        (f"({w}) peak RSS at most a third of the reference's", rss_ratio(w) <= 1 / 3, f"{rss_ratio(w):.3f}")
        for w in "abcf"
    ]
    print("\n## Targets (issue 14)\n")
    print_table(["target", "met", "measured"], [(name, met(ok), figure) for name, ok, figure in checks])


def scale(work):
    """`bash bench/run.sh --scale`: ours alone, cost and memory per resource as N grows."""
    runs = load_runs(work)
    resources = {row["workload"]: int(row["resources"]) for row in read_tsv(work, "resources.tsv")}
    sizes = sorted({int(name.split("-")[1]) for name in resources})
    floors = floor_seconds(work)
    base = SCALE_BASE if SCALE_BASE in sizes else sizes[0]
    top = max(sizes)
    count = len(runs[(f"pull-{sizes[0]}", "ours")].seconds)
    print("# Benchmark at scale\n")
    print(f"Measured {date.today()} on {os.cpu_count()} cores ({cpu_model()}), {our_version()},")
    print(f"by `bash bench/run.sh --scale`: {count} run(s) per size (median time, peak RSS), output on")
    print("tmpfs, the demo server on the same cores. µs/resource is wall time over resources; the")
    print(f"ratio is to the same workload at {base:,}; bytes/resource is peak RSS over resources.\n")
    cost = {}
    for kind, description in SCALE_WORKLOADS.items():
        print(f"## {description}\n")
        header = ["N", "resources", "seconds", "µs/resource", f"ratio to {base // 1000}k",
                  "peak RSS KiB", "bytes/resource", "user s", "sys s"]
        if kind == "pull":
            header.append("floor: µs to create a file")
        rows = []
        for n in sizes:
            name = f"{kind}-{n}"
            if (name, "ours") not in runs:
                continue
            measured, count_n = runs[(name, "ours")], resources[name]
            micros = measured.time / count_n * 1e6
            per_resource = measured.peak_kb * 1024 / count_n
            cost[(kind, n)] = (micros, per_resource)
            base_micros = cost.get((kind, base), (micros,))[0]
            row = [f"{n:,}", f"{count_n:,}", f"{measured.time:.2f}", f"{micros:.1f}",
                   f"{micros / base_micros:.2f}x", f"{measured.peak_kb:,}", f"{per_resource:,.0f}",
                   f"{statistics.median(measured.user):.2f}", f"{statistics.median(measured.sys):.2f}"]
            if kind == "pull":
                row.append(f"{floors[n] / n * 1e6:.1f}" if n in floors else "-")
            rows.append(row)
        print_table(header, rows)
        print()
    print_scale_targets(cost, base, top, floors)
    print_scale_floor(work, sizes, floors, cost)
    print_servers(work)
    print_comparisons(work)


def print_scale_targets(cost, base, top, floors):
    print(f"## Targets (issue 14) at {top:,}\n")
    if top < SCALE_TOP:
        print(f"Not measured at {SCALE_TOP:,} in this run: the targets below are checked at {top:,}.\n")
    rows = []
    for kind in SCALE_WORKLOADS:
        if (kind, top) not in cost or (kind, base) not in cost:
            continue
        micros, per_resource = cost[(kind, top)]
        ratio = micros / cost[(kind, base)][0]
        rows.append((f"{kind}: µs/resource at most {SCALE_RATIO_TARGET}x that at {base:,}",
                     met(ratio <= SCALE_RATIO_TARGET), f"{ratio:.2f}x"))
        rows.append((f"{kind}: peak RSS at most {SCALE_BYTES_TARGET} bytes a resource",
                     met(per_resource <= SCALE_BYTES_TARGET), f"{per_resource:,.0f}"))
    print_table(["target", "met", "measured"], rows)
    print()
    if top in floors and base in floors:
        # The machine's own growth, for reading the ratios above: the bare creation of
        # files should cost the same per file at every N.
        floor_ratio = (floors[top] / top) / (floors[base] / base)
        verdict = ("the machine was steady" if floor_ratio <= 1.1 else
                   "the machine's own file creation was slower for the large size, and the"
                   " ratios above carry that")
        print(f"The bare floor (creating files, below) costs {floor_ratio:.2f}x per file at {top:,}"
              f" what it costs at {base:,} in this run: {verdict}.", end="")
        if ("pull", top) in cost and ("pull", base) in cost:
            above = {n: cost[("pull", n)][0] - floors[n] / n * 1e6 for n in (base, top)}
            print(f" The pull's cost above that floor: {above[base]:.1f} µs a resource at {base:,},"
                  f" {above[top]:.1f} at {top:,}.", end="")
        print("\n")


def print_scale_floor(work, sizes, floors, cost):
    print("## The kernel floor\n")
    print(f"The floor is the bare creation of N files of 180 bytes in one tmpfs directory by")
    print(f"`bench/create_files.py` (Python; {FLOOR_SYSCALLS} per file, about 1 µs of interpreter")
    print("a file on top, so an upper bound). A pull cannot go below it without writing fewer files.")
    print("It runs before the pulls of each size: its first run pays the kernel's first use of the")
    print("memory those files fill (shown apart below), so that each pull measures the tool.\n")
    runs = floor_runs(work)
    for n in sizes:
        line = f"- {n:,}:"
        if len(runs.get(n, [])) > 1:
            first, later = runs[n][0], statistics.median(runs[n][1:])
            line += (f" the first creation of the files took {first:.2f} s, later ones {later:.2f} s"
                     f" ({(first - later) / n * 1e6:+.1f} µs a file);")
        if n in floors and ("pull", n) in cost:
            per_file = floors[n] / n * 1e6
            line += (f" creating a file costs {per_file:.1f} µs ({per_file / 3:.1f} µs a system call);"
                     f" the pull costs {cost[('pull', n)][0]:.1f} µs a resource,"
                     f" {cost[('pull', n)][0] / per_file:.1f}x the floor.")
        counts = syscall_counts(work, f"pull-{n}")
        if counts:
            line += f" Under `strace -c -f` the pull makes {syscall_summary(counts, n)}."
        print(line)
    print()


def print_servers(work):
    rows = read_tsv(work, "servers.tsv")
    if not rows:
        return
    print("## The demo server\n")
    print("Seeding time, peak RSS, and the time to answer the first and the last 500-player page")
    print("(best of 3, curl). `-after` rows: peak RSS after the workload ran against it.\n")

    def seconds(value):
        return "-" if value == "nan" else f"{float(value) * 1000:.1f} ms"

    print_table(
        ["server", "startup s", "peak RSS MiB", "first page", "last page"],
        [(row["server"], "-" if row["server"].endswith("-after") else row["startup_s"], f"{int(row['peak_rss_kb']) / 1024:,.0f}",
          seconds(row["first_page_s"]), seconds(row["last_page_s"])) for row in rows],
    )
    paged = [row for row in rows if row["last_page_s"] != "nan"]
    if not paged:
        return
    print("\nThe demo server skips to a page's offset one member at a time (`members_page` in")
    print("`tests/server/store.rs`), so a page costs more the further it is. A pull's pages come one")
    print("after another, so serving them is on its critical path: N/500 pages at about the mean of")
    print("the first and the last page's time come to " + "; ".join(
        f"{row['server'].split('-')[1]}: {server_seconds(row):.1f} s"
        for row in paged
    ) + " (compare the pull's seconds above). That part of the pull's cost is the test server's.")


def server_seconds(row):
    """The time a pull's pages cost the demo server, from its first and last page."""
    pages = int(row["server"].split("-")[1]) / 500
    return pages * (float(row["first_page_s"]) + float(row["last_page_s"])) / 2


def partial(work):
    """`WORKLOADS=... bash bench/run.sh`: each workload run, with the floors measured."""
    runs = load_runs(work)
    print(f"Measured {date.today()} on {os.cpu_count()} cores ({cpu_model()}), {our_version()};")
    print("medians, range in brackets.\n")
    print_table(
        ["workload", "tool", "runs", "seconds", "peak RSS"],
        [(f"({workload}) {DESCRIPTION.get(workload, '')}", tool, len(times.seconds),
          f"{times.time:.2f} ({times.spread()})", f"{times.peak_kb / 1024:.0f} MiB")
         for (workload, tool), times in sorted(runs.items())],
    )
    print()
    print_latency_floor(work, runs, "g", PAGES_G, CONCURRENCY_G)
    print_latency_floor(work, runs, "h", PAGES_H, CONCURRENCY_H)
    print_comparisons(work)


def write_keeping(path, text):
    """Writes text to path, then the marker and whatever followed the marker in path."""
    kept = ""
    if os.path.exists(path):
        with open(path) as handle:
            previous = handle.read()
        if KEPT_MARKER in previous:
            kept = previous.split(KEPT_MARKER, 1)[1].lstrip("\n")
    with open(path, "w") as handle:
        handle.write(text.rstrip("\n") + "\n\n" + KEPT_MARKER + ("\n\n" + kept if kept else "\n"))


def main():
    args = sys.argv[1:]
    if args and args[0] == "--partial":
        partial(args[1])
        return
    report = side_by_side
    if args and args[0] == "--scale":
        report = scale
        args = args[1:]
    work, out = args
    text = io.StringIO()
    with redirect_stdout(text):
        report(work)
    write_keeping(out, text.getvalue())


main()
