#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: FUZZ_SECONDS each (default 60).
#   fuzz/run.sh                 all targets
#   fuzz/run.sh yaml_reader     some of them
# Installs cargo-fuzz when missing. The toolchain may be stable: RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz use the nightly-only flags (-Zsanitizer=address and friends) it needs.
# Crashes are left by libFuzzer in fuzz/artifacts/<target>/; copy a fixed one to
# fuzz/regressions/<target>/ so `cargo test` (hostile.rs) replays it against the binary.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s" >&2
    mkdir -p "corpus/$target"
    # Saved regressions seed the corpus, so a fixed crash stays fixed.
    if [ -d "regressions/$target" ]; then
        cp -n regressions/"$target"/* "corpus/$target/" 2>/dev/null || true
    fi
    if ! cargo fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "targets that found a failure: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "all targets ran ${seconds} s without a failure" >&2
