#!/usr/bin/env bash
# The lab's main job: `lab report --quick` — every scenario of scenarios/*.toml for Go (upstream, natively via
# go-baseline), crates.io asherah 1.0 (the peer) and ours, interleaved in rounds; writes
# reports/results/<UTC>.json, reports/REPORT.md and reports/charts/. Arguments are passed to `lab report`
# (e.g. `--full`, `--only patterns`, `--no-peer`). Re-render without running: `lab render reports/results/<file>`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

if [ $# -eq 0 ]; then
    set -- --quick
fi
cargo build -q --release -p lab
exec "$CARGO_TARGET_DIR/release/lab" report "$@"
