#!/usr/bin/env bash
# Every test of the lab: format check, clippy -D warnings, unit + integration + doc + property tests, loom models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, -D warnings)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo test (unit, integration, doc, proptest)"
cargo test --workspace --all-features

step "loom models (--cfg loom, release)"
# Bounded preemptions keep the models exhaustive within that bound and fast.
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$LOOM_TARGET_DIR" \
    cargo test -p securememory --release --lib loom_

step "all tests passed"
