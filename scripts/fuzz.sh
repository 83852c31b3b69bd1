#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, nightly) of every target in fuzz/, one after the other.
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]   run each target (default: all) for SECONDS (default 60); exit 1 on a crash,
#                                         a timeout or a leak, with the reproducer under $LAB_CACHE/fuzz-artifacts
#   scripts/fuzz.sh --reseed              rewrite the seed corpora (fuzz/seed_corpora.py) and minimise them
#                                         (`cargo fuzz cmin`); commit fuzz/corpus afterwards
#
# New inputs found during a run go to a scratch corpus under $LAB_CACHE, never into the committed fuzz/corpus.
# Prints one line per target: executions, seconds, result. Builds into $LAB_CACHE/fuzz-target (nightly, ASan).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

nightly="${ASHERAH_NIGHTLY:-nightly}"
fuzz_target_dir="${FUZZ_TARGET_DIR:-$LAB_CACHE/fuzz-target}"
artifacts="$LAB_CACHE/fuzz-artifacts"
cargo_fuzz=(cargo "+$nightly" fuzz)
build_flags=(--target-dir "$fuzz_target_dir")

all_targets() { "${cargo_fuzz[@]}" list; }

if [ "${1:-}" = "--reseed" ]; then
    python3 fuzz/seed_corpora.py
    "${cargo_fuzz[@]}" build "${build_flags[@]}"
    for target in $(all_targets); do
        echo "==> cmin $target"
        "${cargo_fuzz[@]}" cmin "${build_flags[@]}" "$target" "fuzz/corpus/$target" -- -timeout=10 2>&1 | tail -n 2
    done
    exit 0
fi

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(all_targets)

"${cargo_fuzz[@]}" build "${build_flags[@]}"

failed=0
summary=()
for target in "${targets[@]}"; do
    scratch="$LAB_CACHE/fuzz-corpus/$target"
    mkdir -p "$scratch" "$artifacts/$target"
    log="$LAB_CACHE/fuzz-logs/$target.log"
    mkdir -p "$(dirname "$log")"
    echo "==> fuzz $target for ${seconds}s (log: $log)"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: 2 GiB; the scratch corpus (first) receives new
    # inputs, the committed one (second) is read only.
    if "${cargo_fuzz[@]}" run "${build_flags[@]}" "$target" "$scratch" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$target/" >"$log" 2>&1; then
        result="ok"
    else
        result="FAILED (see $log and $artifacts/$target/)"
        failed=1
        tail -n 40 "$log"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    summary+=("$(printf '%-20s %12s executions  %5ss  %s' "$target" "${runs:-?}" "$seconds" "$result")")
done

echo
echo "fuzz summary (target, executions, time, result):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
