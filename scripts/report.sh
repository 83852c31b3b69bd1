#!/usr/bin/env bash
# The lab's main job. Until the full Go-vs-Rust report lands, it runs the SecureMemory benches in a quick mode
# and prints (and saves to reports/securememory.md) a table of medians with the mprotect floor.
# QUICK=0 gives criterion's default (longer, tighter) measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

criterion_dir="$CARGO_TARGET_DIR/criterion"
rm -rf "$criterion_dir/floor" "$criterion_dir/protected" "$criterion_dir/guarded"
if [ "${QUICK:-1}" = 1 ]; then
    args=(--warm-up-time 1 --measurement-time 2 --sample-size 20)
else
    args=()
fi
cargo bench -p lab --bench securememory -- "${args[@]}"

mkdir -p reports
{
    echo "# SecureMemory benches ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(rustc --version))"
    echo
    echo "Command: \`cargo bench -p lab --bench securememory -- ${args[*]}\`"
    echo
    cargo run -q --release -p lab -- securememory-table --criterion-dir "$criterion_dir"
} | tee reports/securememory.md
