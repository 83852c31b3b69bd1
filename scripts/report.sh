#!/usr/bin/env bash
# The lab's main job. Until the full Go-vs-Rust report lands, it runs the SecureMemory benches of both sides in
# one run — Go's own upstream benchmarks (natively, scripts/go-bench.sh) and ours (criterion) — and prints (and
# saves to reports/securememory.md) a table of medians with the mprotect floor and the Rust ÷ Go ratios.
# QUICK=0 gives longer, tighter measurements. NO_GO=1 skips the Go side.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

criterion_dir="$CARGO_TARGET_DIR/criterion"
rm -rf "$criterion_dir/floor" "$criterion_dir/protected" "$criterion_dir/guarded"
if [ "${QUICK:-1}" = 1 ]; then
    args=(--warm-up-time 1 --measurement-time 2 --sample-size 20)
    go_count=3 go_time=500ms
else
    args=()
    go_count=10 go_time=1s
fi

go_args=()
if [ "${NO_GO:-0}" != 1 ] && command -v go >/dev/null 2>&1; then
    go_out=$(PACKAGES="github.com/godaddy/asherah/go/securememory/protectedmemory github.com/godaddy/asherah/go/securememory/memguard" \
        COUNT=$go_count BENCHTIME=$go_time scripts/go-bench.sh | sed -n 's/^go-bench: wrote //p') || true
    if [ -n "$go_out" ] && [ -f "$go_out" ]; then
        go_args=(--go-results "$go_out")
    else
        echo "report: the Go benchmarks failed; the table has no Go column" >&2
    fi
fi

cargo bench -p lab --bench securememory -- "${args[@]}"

mkdir -p reports
{
    echo "# SecureMemory benches ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(rustc --version), $(go version 2>/dev/null | cut -d' ' -f3))"
    echo
    echo "Commands: \`cargo bench -p lab --bench securememory -- ${args[*]}\`; Go: \`scripts/go-bench.sh\` (COUNT=$go_count BENCHTIME=$go_time, securememory packages)"
    echo
    cargo run -q --release -p lab -- securememory-table --criterion-dir "$criterion_dir" "${go_args[@]}"
} | tee reports/securememory.md
